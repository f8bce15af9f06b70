package ddblocal

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// region is the AWS region the clients of NewClient sign for. DynamoDB Local
// is started with -sharedDb, so region and credentials do not partition its
// tables.
const region = "us-east-1"

// sharedHTTPClient is used by every client from NewClient, so that clients
// created per test still share (and reuse) connections. It keeps up to 64 idle
// connections per host so that many goroutines do not keep re-dialling.
var sharedHTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 64
})

// NewClient returns a DynamoDB client for the DynamoDB Local at endpoint (a base
// URL such as "http://127.0.0.1:8000"). It does not block, and the client is
// safe for concurrent use.
//
// The client uses static dummy credentials, region us-east-1, the SDK's
// default retryer and a shared HTTP client; it skips CRC32 validation of
// responses, which DynamoDB Local's error responses would fail. It reads
// nothing from the environment or from ~/.aws. optFns are applied last and
// may override any of this (e.g. Retryer, HTTPClient, APIOptions).
func NewClient(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:                          region,
		Credentials:                     credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint:                    aws.String(endpoint),
		DisableValidateResponseChecksum: true,
		HTTPClient:                      sharedHTTPClient,
	}, optFns...)
}
