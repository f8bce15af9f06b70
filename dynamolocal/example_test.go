package dynamolocal_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/dynamolocal"
)

// Start DynamoDB Local for a program (or use the one at $DYNAMODB_ENDPOINT),
// create a table and write to it.
func ExampleStart() {
	ctx := context.Background()
	local, err := dynamolocal.Start(ctx)
	if err != nil {
		panic(err) // e.g. no Java 17+: the error says what to install
	}
	defer local.Stop()
	client := local.Client()

	table := fmt.Sprintf("example-start-%d", time.Now().UnixNano())
	_, err = client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		panic(err)
	}
	_, err = client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item:      map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "hello"}},
	})
	fmt.Println("put:", err)
	// Output:
	// put: <nil>
}

// Options: a folder of your own for the installation, no download, the
// JVM's output on the terminal.
func ExampleStart_options() {
	local, err := dynamolocal.Start(context.Background(), func(o *dynamolocal.Options) {
		o.Endpoint = ""                           // always start one, even if $DYNAMODB_ENDPOINT is set
		o.Dir = "/opt/dynamodb-local"             // holding DynamoDBLocal.jar and DynamoDBLocal_lib/
		o.Install = false                         // fail instead of downloading it
		o.JavaArgs = []string{"-Xmx512m"}         // JVM options
		o.Stdout, o.Stderr = os.Stdout, os.Stderr // DynamoDB Local's log
	})
	if err != nil {
		panic(err)
	}
	defer local.Stop()
}

// A client for a DynamoDB Local you run yourself, such as
// `docker run -p 8000:8000 amazon/dynamodb-local`.
func ExampleNewClient() {
	client := dynamolocal.NewClient("http://localhost:8000", func(o *dynamodb.Options) {
		o.RetryMaxAttempts = 1 // optFns may change anything
	})
	_ = client
}

// Example functions have no testing.TB: Shared gives them the instance that
// RunTests started for the test binary.
func ExampleShared() {
	local, err := dynamolocal.Shared()
	if err != nil {
		panic(err) // TestMain does not call RunTests, or DynamoDB Local is unavailable
	}
	_, err = local.Client().ListTables(context.Background(), &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
	fmt.Println("ListTables:", err)
	// Output:
	// ListTables: <nil>
}

// Count the requests a piece of code sends, here two reads of a missing
// table's description.
func ExampleRequestCounter() {
	local, err := dynamolocal.Shared()
	if err != nil {
		panic(err)
	}
	var requests dynamolocal.RequestCounter
	client := local.Client(requests.Option())
	for range 2 {
		_, _ = client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("no-such-table")})
	}
	fmt.Println(requests.Count(), requests.ByOperation())
	// Output:
	// 2 map[DescribeTable:2]
}
