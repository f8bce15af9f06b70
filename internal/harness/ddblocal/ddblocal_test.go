package ddblocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestMain(m *testing.M) { RunTests(m) }

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	client := Client(t)
	table := NewTable(t, client)
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

	// A failed condition must come back as the typed SDK error (this also
	// exercises an error response, whose CRC32 the client must not reject).
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
		n := TableName(t)
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
		n := TableName(t)
		if !tableNameRE.MatchString(n) {
			t.Fatalf("TableName() for a long subtest name = %q (len %d): invalid", n, len(n))
		}
		if !strings.HasPrefix(n, "TestTableName_x_") {
			t.Fatalf("TableName() = %q: want the sanitized test name as prefix", n)
		}
	})

	// The name is accepted by DynamoDB Local.
	t.Run("accepted by DynamoDB/with spaces & symbols", func(t *testing.T) {
		NewTable(t, Client(t))
	})
}

func TestStartStop(t *testing.T) {
	t.Setenv(EnvEndpoint, "") // force a private JVM even under with-dynamodb-local.sh
	ctx := context.Background()

	begin := time.Now()
	inst, err := Start(ctx)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("DynamoDB Local answered at %s after %v", inst.Endpoint, time.Since(begin).Round(time.Millisecond))
	if inst.external {
		t.Fatal("Start returned an external instance with $DYNAMODB_ENDPOINT empty")
	}
	if _, err := inst.Client().ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = inst.Stop() }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("Stop: %v", err)
		}
	}
	select {
	case <-inst.done:
	default:
		t.Fatal("JVM still running after Stop")
	}
	if err := inst.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := inst.Client(func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} }).
		ListTables(cctx, &dynamodb.ListTablesInput{}); err == nil {
		t.Fatal("instance still answers after Stop")
	}
}

func TestStartExternal(t *testing.T) {
	ep := Endpoint(t)
	t.Setenv(EnvEndpoint, ep)
	inst, err := Start(context.Background())
	if err != nil {
		t.Fatalf("Start with $%s=%s: %v", EnvEndpoint, ep, err)
	}
	if !inst.external || inst.Endpoint != ep {
		t.Fatalf("Start returned %+v, want the external endpoint %s", inst, ep)
	}
	if err := inst.Stop(); err != nil {
		t.Fatalf("Stop of external instance: %v", err)
	}
	// Stopping an external instance must leave it running.
	if _, err := Client(t).ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("shared instance broken after external Stop: %v", err)
	}

	// A dead endpoint is reported.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	t.Setenv(EnvEndpoint, dead)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := Start(ctx); err == nil || !strings.Contains(err.Error(), EnvEndpoint) {
		t.Fatalf("Start with dead $%s: got %v, want an error naming the variable", EnvEndpoint, err)
	}
}

func TestStartMissingInstall(t *testing.T) {
	t.Setenv(EnvEndpoint, "")
	t.Setenv(EnvDir, filepath.Join(t.TempDir(), "nope"))
	_, err := Start(context.Background())
	if !errors.Is(err, ErrJarMissing) {
		t.Fatalf("Start with bogus $%s: got %v, want ErrJarMissing", EnvDir, err)
	}
	if !strings.Contains(err.Error(), "make dynamodb-local") || !strings.Contains(err.Error(), "scripts/install-dynamodb-local.sh") {
		t.Fatalf("error does not name the fix: %v", err)
	}
	t.Logf("bogus dir: %v", err)
}

func TestStartMissingJava(t *testing.T) {
	dir, err := findDir() // the real installation
	if err != nil {
		t.Fatalf("findDir: %v", err)
	}
	t.Setenv(EnvEndpoint, "")
	t.Setenv(EnvDir, dir)
	t.Setenv("PATH", t.TempDir()) // no java here
	_, err = Start(context.Background())
	if !errors.Is(err, ErrJavaMissing) {
		t.Fatalf("Start without java on PATH: got %v, want ErrJavaMissing", err)
	}
	if !strings.Contains(err.Error(), "make dynamodb-local") {
		t.Fatalf("error does not name the fix: %v", err)
	}
	t.Logf("no java: %v", err)
}

func TestStartRetriesTakenPort(t *testing.T) {
	t.Setenv(EnvEndpoint, "")
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

	inst, err := Start(context.Background())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer inst.Stop()
	if calls.Load() != 2 {
		t.Errorf("freePort called %d times, want 2", calls.Load())
	}
	if strings.HasSuffix(inst.Endpoint, fmt.Sprintf(":%d", taken)) {
		t.Errorf("instance uses the taken port %d", taken)
	}
	if _, err := inst.Client().ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
}

// TestRunTestsWithoutInstance runs this test binary again with DynamoDB Local
// unavailable and checks that it fails loudly instead of skipping.
func TestRunTestsWithoutInstance(t *testing.T) {
	if os.Getenv("DDBLOCAL_CHILD") != "" {
		t.Skip("child process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		run      string
		wantText string
	}{
		{run: "^TestChildNeedsClient$", wantText: "make dynamodb-local"},
		{run: "^$", wantText: "DynamoDB Local was unavailable"},
	} {
		cmd := exec.Command(exe, "-test.run="+tc.run, "-test.v")
		cmd.Env = append(os.Environ(),
			"DDBLOCAL_CHILD=1",
			EnvEndpoint+"=",
			EnvDir+"="+filepath.Join(t.TempDir(), "nope"))
		out, err := cmd.CombinedOutput()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() == 0 {
			t.Errorf("-test.run=%s: child exited with %v, want a non-zero exit; output:\n%s", tc.run, err, out)
			continue
		}
		if !strings.Contains(string(out), tc.wantText) {
			t.Errorf("-test.run=%s: output lacks %q:\n%s", tc.run, tc.wantText, out)
		}
		if strings.Contains(string(out), "--- SKIP") {
			t.Errorf("-test.run=%s: something was skipped:\n%s", tc.run, out)
		}
	}
}

// TestChildNeedsClient is run by TestRunTestsWithoutInstance in a child
// process; in the normal run it is an ordinary user of Client.
func TestChildNeedsClient(t *testing.T) {
	client := Client(t)
	if _, err := client.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
}

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
