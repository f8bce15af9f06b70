package ddblocal

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// What dynamolocal does (starting and stopping the JVM, installing, the
// client's options, RequestCounter, table names) is tested in
// dynamolocal; these tests cover what ddblocal adds.

func TestMain(m *testing.M) { RunTests(m) }

func TestNewTable(t *testing.T) {
	t.Parallel()
	client := Client(t)
	var table string
	t.Run("create", func(t *testing.T) {
		table = NewTable(t, client)
		if !strings.HasPrefix(table, "TestNewTable_create-") {
			t.Errorf("NewTable() = %q, want a TableName", table)
		}
		_, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{
			TableName: aws.String(table),
			Item:      map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}},
		})
		if err != nil {
			t.Fatalf("PutItem: %v", err)
		}
	})
	_, err := client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("table %s after its test: got %v, want ResourceNotFoundException", table, err)
	}
}

// Without $DYNAMODB_LOCAL_DIR, the installation is the repository's.
func TestFindDir(t *testing.T) {
	t.Setenv(EnvDir, "")
	dir, err := findDir()
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := filepath.Abs("../../../.cache/dynamodb-local"); dir != want {
		t.Fatalf("findDir() = %s, want %s", dir, want)
	}
	t.Setenv(EnvDir, "/somewhere")
	if dir, _ := findDir(); dir != "/somewhere" {
		t.Fatalf("with $%s: findDir() = %s", EnvDir, dir)
	}
}

// StartOwn starts a JVM from the repository's installation even when
// $DYNAMODB_ENDPOINT is set.
func TestStartOwn(t *testing.T) {
	t.Setenv(EnvEndpoint, Endpoint(t))
	inst, err := StartOwn(context.Background())
	if err != nil {
		t.Fatalf("StartOwn: %v", err)
	}
	defer inst.Stop()
	if inst.Endpoint == Endpoint(t) || inst.local.Endpoint() != inst.Endpoint {
		t.Fatalf("StartOwn returned %s, the shared instance is %s", inst.Endpoint, Endpoint(t))
	}
	if _, err := inst.Client().ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	if err := inst.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := inst.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestStartExternal(t *testing.T) {
	ep := Endpoint(t)
	t.Setenv(EnvEndpoint, ep)
	inst, err := Start(context.Background())
	if err != nil {
		t.Fatalf("Start with $%s=%s: %v", EnvEndpoint, ep, err)
	}
	if inst.Endpoint != ep {
		t.Fatalf("Start returned %+v, want the external endpoint %s", inst, ep)
	}
	if err := inst.Stop(); err != nil {
		t.Fatalf("Stop of external instance: %v", err)
	}
	if _, err := Client(t).ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("shared instance broken after external Stop: %v", err)
	}

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

// A missing installation is an error naming `make dynamodb-local`, and
// nothing is downloaded.
func TestStartMissingInstall(t *testing.T) {
	t.Setenv(EnvEndpoint, "")
	dir := filepath.Join(t.TempDir(), "nope")
	t.Setenv(EnvDir, dir)
	_, err := Start(context.Background())
	if !errors.Is(err, ErrJarMissing) {
		t.Fatalf("Start with bogus $%s: got %v, want ErrJarMissing", EnvDir, err)
	}
	if !strings.Contains(err.Error(), "make dynamodb-local") || !strings.Contains(err.Error(), "scripts/install-dynamodb-local.sh") {
		t.Fatalf("error does not name the fix: %v", err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatalf("Start created %s", dir)
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
		{run: "^TestChildNeedsSharedClient$", wantText: "make dynamodb-local"},
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

// TestChildNeedsSharedClient is TestChildNeedsClient for SharedClient.
func TestChildNeedsSharedClient(t *testing.T) {
	client, err := SharedClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
}
