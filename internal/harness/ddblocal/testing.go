package ddblocal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// shared is the instance of the current test binary, set up by RunTests.
var shared struct {
	mu   sync.Mutex
	init bool      // RunTests has run Start
	inst *Instance // nil if Start failed
	err  error     // why Start failed
}

// RunTests is meant to be the whole body of TestMain:
//
//	func TestMain(m *testing.M) { ddblocal.RunTests(m) }
//
// It starts one DynamoDB Local for the test binary with [Start] (which reuses
// $DYNAMODB_ENDPOINT when set), runs the tests, stops the instance and exits
// the process with the tests' exit code. It blocks until then and never
// returns. Call it once, from TestMain only.
//
// If the instance cannot be started, the tests still run, but every call to
// [Client] or [Endpoint] fails its test with the reason and the install
// command, and the binary exits non-zero even if no test needed DynamoDB.
func RunTests(m *testing.M) {
	inst, err := Start(context.Background())
	shared.mu.Lock()
	shared.init, shared.inst, shared.err = true, inst, err
	shared.mu.Unlock()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ddblocal: cannot start DynamoDB Local; every test that needs it will fail:\n%v\n", err)
	}

	code := m.Run()

	if inst != nil {
		if err := inst.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "ddblocal: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	if err != nil && code == 0 {
		fmt.Fprintf(os.Stderr, "ddblocal: FAIL: DynamoDB Local was unavailable (%v)\n", err)
		code = 1
	}
	os.Exit(code)
}

// Endpoint returns the endpoint URL of the test binary's DynamoDB Local. It
// does not block and is safe for concurrent use. It fails t (t.Fatalf) if
// TestMain does not call [RunTests] or the instance could not be started.
func Endpoint(t testing.TB) string {
	t.Helper()
	shared.mu.Lock()
	init, inst, err := shared.init, shared.inst, shared.err
	shared.mu.Unlock()
	switch {
	case !init:
		t.Fatalf("ddblocal: no DynamoDB Local for this test binary: TestMain must call ddblocal.RunTests(m), i.e.\n\tfunc TestMain(m *testing.M) { ddblocal.RunTests(m) }")
	case err != nil:
		t.Fatalf("ddblocal: DynamoDB Local is unavailable, so this test cannot run. To fix, %s (or set $%s to a running instance).\nCause: %v",
			installHint, EnvEndpoint, err)
	}
	return inst.Endpoint
}

// Client returns a new client (see [NewClient]) for the test binary's DynamoDB
// Local, with optFns applied. It does not block and is safe for concurrent
// use. It fails t like [Endpoint] when there is no instance.
func Client(t testing.TB, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	t.Helper()
	return NewClient(Endpoint(t), optFns...)
}

// maxNamePart bounds the part of a table name derived from the test name.
const maxNamePart = 200

// TableName returns a table name that is unique on every call: t.Name() with
// characters outside [A-Za-z0-9_.-] replaced by '_' and truncated to 200
// bytes, then '-' and 16 random hex digits. It is a valid DynamoDB table name
// (3 to 255 characters). It does not block, creates nothing and is safe for
// concurrent use.
func TableName(t testing.TB) string {
	t.Helper()
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatalf("ddblocal: random table name: %v", err)
	}
	return tableNamePrefix(t.Name()) + "-" + hex.EncodeToString(rnd[:])
}

// tableNamePrefix turns a test name into at most maxNamePart bytes from
// [A-Za-z0-9_.-] (never empty).
func tableNamePrefix(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() >= maxNamePart {
			break
		}
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "table"
	}
	return b.String()
}

// NewTable creates a table named by [TableName] through client, for tests
// that talk to DynamoDB through the SDK alone: string hash key "pk", billed
// per request. It blocks until the table is ACTIVE and deletes it when t
// ends; it fails t if either does not work. Safe for concurrent use.
func NewTable(t testing.TB, client *dynamodb.Client) string {
	t.Helper()
	ctx := context.Background()
	name := TableName(t)
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
	if err := dynamodb.NewTableExistsWaiter(client).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("waiting for table %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("DeleteTable %s: %v", name, err)
		}
	})
	return name
}

// SharedClient is [Client] for code that has no testing.TB, such as Example
// functions: it returns a client for the test binary's DynamoDB Local, or
// the reason there is none (the error names the install command). It does
// not block and is safe for concurrent use.
func SharedClient(optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	shared.mu.Lock()
	init, inst, err := shared.init, shared.inst, shared.err
	shared.mu.Unlock()
	switch {
	case !init:
		return nil, fmt.Errorf("ddblocal: no DynamoDB Local for this binary: TestMain must call ddblocal.RunTests(m)")
	case err != nil:
		return nil, fmt.Errorf("ddblocal: DynamoDB Local is unavailable; %s (or set $%s): %w", installHint, EnvEndpoint, err)
	}
	return NewClient(inst.Endpoint, optFns...), nil
}
