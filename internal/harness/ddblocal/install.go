package ddblocal

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ddbocc/ddbocc/dynamolocal"
)

// EnvDir names the environment variable that overrides the directory
// holding DynamoDBLocal.jar and DynamoDBLocal_lib/ (default:
// <repo>/.cache/dynamodb-local).
const EnvDir = dynamolocal.EnvDir

// installHint is the command that fixes a missing installation.
const installHint = "run `make dynamodb-local` (scripts/install-dynamodb-local.sh)"

var (
	// ErrJavaMissing is returned (wrapped) by [Start] when no Java 17+ is on
	// PATH. It is [dynamolocal.ErrJava]. Test with errors.Is.
	ErrJavaMissing = dynamolocal.ErrJava

	// ErrJarMissing is returned (wrapped) by [Start] when DynamoDBLocal.jar or
	// DynamoDBLocal_lib/ cannot be found. It is [dynamolocal.ErrNotInstalled].
	// Test with errors.Is.
	ErrJarMissing = dynamolocal.ErrNotInstalled
)

const (
	modulePath    = "github.com/ddbocc/ddbocc"
	defaultSubdir = ".cache/dynamodb-local"
)

// options makes dynamolocal use the installation of this repository, never
// download one, and give the JVM a 1 GiB heap.
func options(o *dynamolocal.Options) {
	o.Install = false
	o.JavaArgs = []string{"-Xmx1g"}
	if dir, err := findDir(); err == nil {
		o.Dir = dir
	} else {
		// No repository root: Start fails with ErrJarMissing naming this.
		o.Dir = filepath.Join(os.TempDir(), "ddblocal-found-no-go.mod-of-"+filepath.Base(modulePath))
	}
}

// findDir returns the directory that should hold DynamoDBLocal.jar and
// DynamoDBLocal_lib/: $DYNAMODB_LOCAL_DIR, or .cache/dynamodb-local under
// the root of this module (found by walking up from the working directory).
func findDir() (string, error) {
	if dir := os.Getenv(EnvDir); dir != "" {
		return dir, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("%w: $%s is not set and %v", ErrJarMissing, EnvDir, err)
	}
	return filepath.Join(root, filepath.FromSlash(defaultSubdir)), nil
}

// withHint adds to an error of dynamolocal what fixes it in this
// repository.
func withHint(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w\nIn this repository: %s, which also installs OpenJDK 17 when run as root (or set $%s to a running instance)",
		err, installHint, EnvEndpoint)
}

// moduleRoot walks up from the working directory to the directory whose go.mod
// declares this module.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && goModDeclares(data, modulePath) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod declaring module %s above %s", modulePath, wd)
		}
		dir = parent
	}
}

// goModDeclares reports whether the go.mod contents declare module path.
func goModDeclares(data []byte, path string) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], "\"`") == path
		}
	}
	return false
}
