package dynamolocal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

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
//	func TestMain(m *testing.M) { dynamolocal.RunTests(m) }
//
// It starts one DynamoDB Local for the test binary with [Start] and optFns
// (so it uses $DYNAMODB_ENDPOINT when that is set), runs the tests, stops the
// instance and exits the process with the tests' exit code. It blocks until
// then and never returns. Call it once, from TestMain only.
//
// If the instance cannot be started, the tests still run, but every test
// that calls [Endpoint], [Client] or [Table] fails with the reason (which
// names what to install), and the binary exits non-zero even if no test
// needed DynamoDB Local: tests never skip silently.
func RunTests(m *testing.M, optFns ...func(*Options)) {
	inst, err := Start(context.Background(), optFns...)
	shared.mu.Lock()
	shared.init, shared.inst, shared.err = true, inst, err
	shared.mu.Unlock()
	if err != nil {
		fmt.Fprintf(os.Stderr, "dynamolocal: cannot start DynamoDB Local; every test that needs it will fail:\n%v\n", err)
	}

	code := m.Run()

	if inst != nil {
		if err := inst.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "dynamolocal: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	if err != nil && code == 0 {
		fmt.Fprintf(os.Stderr, "dynamolocal: FAIL: DynamoDB Local was unavailable (%v)\n", err)
		code = 1
	}
	os.Exit(code)
}

// Shared returns the DynamoDB Local of the test binary, started by
// [RunTests], or the reason there is none (which names what to install). It
// is for code that has no testing.TB, such as Example functions; tests use
// [Client] or [Endpoint]. It does not block and is safe for concurrent use.
// Do not Stop the instance: RunTests does.
func Shared() (*Instance, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	switch {
	case !shared.init:
		return nil, errors.New("dynamolocal: no DynamoDB Local for this test binary: TestMain must call dynamolocal.RunTests(m), i.e.\n" +
			"\tfunc TestMain(m *testing.M) { dynamolocal.RunTests(m) }")
	case shared.err != nil:
		return nil, fmt.Errorf("dynamolocal: DynamoDB Local is unavailable (or set $%s to a running instance): %w", EnvEndpoint, shared.err)
	}
	return shared.inst, nil
}

// Endpoint returns the endpoint URL of the test binary's DynamoDB Local (see
// [RunTests]). It does not block and is safe for concurrent use. It fails tb
// (tb.Fatal) with the reason, naming what to install, when there is no
// instance: tests never skip silently.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	inst, err := Shared()
	if err != nil {
		tb.Fatalf("%v\n(this test needs DynamoDB Local and cannot run without it)", err)
	}
	return inst.Endpoint()
}

// Client returns a new client (see [NewClient]) for the test binary's
// DynamoDB Local, with optFns applied. It does not block and is safe for
// concurrent use. It fails tb like [Endpoint] when there is no instance.
func Client(tb testing.TB, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	tb.Helper()
	return NewClient(Endpoint(tb), optFns...)
}

// maxNamePart bounds the part of a table name derived from the test name.
const maxNamePart = 200

// TableName returns a table name that is unique on every call, so that tests
// can run in parallel against one DynamoDB Local: tb.Name() with characters
// outside [A-Za-z0-9_.-] replaced by '_' and cut to 200 bytes, then '-' and
// 16 random hex digits. It is a valid DynamoDB table name (3 to 255
// characters). It creates nothing, does not block and is safe for concurrent
// use. See [Table] for a name whose table is deleted when the test ends.
func TableName(tb testing.TB) string {
	tb.Helper()
	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // never fails (crypto/rand)
	return tableNamePrefix(tb.Name()) + "-" + hex.EncodeToString(rnd[:])
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

// Table returns a new unique table name, like [TableName], for the test to
// create its table under, and deletes that table from the test binary's
// DynamoDB Local when tb and its subtests end (tb.Cleanup); that it was never
// created is fine, another failure to delete it fails tb. It creates nothing
// and does not block; it fails tb like [Endpoint] when there is no instance.
// Safe for concurrent use.
func Table(tb testing.TB) string {
	tb.Helper()
	client := Client(tb)
	name := TableName(tb)
	tb.Cleanup(func() {
		_, err := client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		var notFound *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &notFound) {
			tb.Errorf("dynamolocal: deleting table %s: %v", name, err)
		}
	})
	return name
}
