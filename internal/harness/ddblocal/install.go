package ddblocal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvDir names the environment variable that overrides the directory
// holding DynamoDBLocal.jar and DynamoDBLocal_lib/ (default:
// <repo>/.cache/dynamodb-local).
const EnvDir = "DYNAMODB_LOCAL_DIR"

// installHint is the command that fixes a missing installation.
const installHint = "run `make dynamodb-local` (scripts/install-dynamodb-local.sh)"

var (
	// ErrJavaMissing is returned (wrapped) by [Start] when no `java` executable
	// is on PATH. Test with errors.Is.
	ErrJavaMissing = errors.New("ddblocal: java (17+) not found on PATH; " + installHint + ", which installs OpenJDK 17 when run as root, or install Java 17+ yourself")

	// ErrJarMissing is returned (wrapped) by [Start] when DynamoDBLocal.jar or
	// DynamoDBLocal_lib/ cannot be found. Test with errors.Is.
	ErrJarMissing = errors.New("ddblocal: DynamoDB Local is not installed; " + installHint)
)

const (
	modulePath    = "github.com/ddbocc/ddbocc"
	defaultSubdir = ".cache/dynamodb-local"
)

// findDir returns the directory holding DynamoDBLocal.jar and
// DynamoDBLocal_lib/.
func findDir() (string, error) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", fmt.Errorf("%w: $%s is not set and %v", ErrJarMissing, EnvDir, err)
		}
		dir = filepath.Join(root, filepath.FromSlash(defaultSubdir))
	}
	if fi, err := os.Stat(filepath.Join(dir, "DynamoDBLocal.jar")); err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%w (no DynamoDBLocal.jar in %s)", ErrJarMissing, dir)
	}
	if fi, err := os.Stat(filepath.Join(dir, "DynamoDBLocal_lib")); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%w (no DynamoDBLocal_lib/ in %s)", ErrJarMissing, dir)
	}
	return dir, nil
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
