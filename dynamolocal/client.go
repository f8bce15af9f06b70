package dynamolocal

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// region is the AWS region the clients of NewClient sign for.
const region = "us-east-1"

// sharedHTTPClient is used by every client from NewClient, so that clients
// created per test share (and reuse) connections. It keeps up to 64 idle
// connections per host so that many goroutines do not keep re-dialling.
var sharedHTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 64
})

// NewClient returns a DynamoDB client for the DynamoDB Local at endpoint, a
// base URL such as "http://127.0.0.1:8000". It does not block, and the client
// is safe for concurrent use. It reads nothing from the environment or from
// ~/.aws, so that a developer's real AWS settings can never leak into a test.
//
// Each option is there for a reason:
//   - Credentials: static dummy ones ("local"/"local"). DynamoDB Local checks
//     none, but the SDK refuses to sign a request without credentials.
//   - Region: us-east-1. The SDK needs one to sign; DynamoDB Local started
//     by [Start] (-sharedDb) keeps one set of tables whatever the region.
//   - BaseEndpoint: endpoint, instead of the AWS endpoint of the region.
//   - DisableValidateResponseChecksum: DynamoDB Local's error responses
//     (a failed condition, say) carry no X-Amz-Crc32 header, and the SDK
//     then checks their body against a checksum of 0: every error response
//     logs "failed to close HTTP response body, this may affect connection
//     reuse" (aws-sdk-go-v2 issue 3545). Real DynamoDB sends the header.
//   - HTTPClient: one shared by every client of NewClient, keeping up to 64
//     idle connections per host, so that clients made per test and many
//     goroutines reuse connections instead of re-dialling.
//
// The SDK's default retryer is kept. optFns are applied last and may
// override any of this (Retryer, HTTPClient, APIOptions, ...).
func NewClient(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:                          region,
		Credentials:                     credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint:                    aws.String(endpoint),
		DisableValidateResponseChecksum: true,
		HTTPClient:                      sharedHTTPClient,
	}, optFns...)
}
