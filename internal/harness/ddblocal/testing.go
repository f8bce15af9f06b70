package ddblocal

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/dynamolocal"
)

// RunTests is meant to be the whole body of TestMain:
//
//	func TestMain(m *testing.M) { ddblocal.RunTests(m) }
//
// It is [dynamolocal.RunTests] with the installation of this repository: it
// starts one DynamoDB Local for the test binary (or uses $DYNAMODB_ENDPOINT),
// runs the tests, stops the instance and exits the process with the tests'
// exit code. It blocks until then and never returns.
//
// If the instance cannot be started, the tests still run, but every call to
// [Client] or [Endpoint] fails its test with the reason and the install
// command, and the binary exits non-zero even if no test needed DynamoDB.
func RunTests(m *testing.M) {
	dynamolocal.RunTests(m, options)
}

// Endpoint returns the endpoint URL of the test binary's DynamoDB Local. It
// does not block and is safe for concurrent use. It fails t (t.Fatalf) if
// TestMain does not call [RunTests] or the instance could not be started.
func Endpoint(t testing.TB) string {
	t.Helper()
	local, err := dynamolocal.Shared()
	if err != nil {
		t.Fatalf("ddblocal: this test cannot run: %v", withHint(err))
	}
	return local.Endpoint()
}

// Client returns a new client (see [NewClient]) for the test binary's DynamoDB
// Local, with optFns applied. It does not block and is safe for concurrent
// use. It fails t like [Endpoint] when there is no instance.
func Client(t testing.TB, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	t.Helper()
	return NewClient(Endpoint(t), optFns...)
}

// TableName returns a table name that is unique on every call; see
// [dynamolocal.TableName]. It does not block, creates nothing and is safe
// for concurrent use.
func TableName(t testing.TB) string {
	t.Helper()
	return dynamolocal.TableName(t)
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
// not block and is safe for concurrent use. Code that users may copy uses
// [dynamolocal.Shared] instead.
func SharedClient(optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	local, err := dynamolocal.Shared()
	if err != nil {
		return nil, fmt.Errorf("ddblocal: %w", withHint(err))
	}
	return NewClient(local.Endpoint(), optFns...), nil
}
