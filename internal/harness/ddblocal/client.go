package ddblocal

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/dynamolocal"
)

// NewClient returns a DynamoDB client for the DynamoDB Local at endpoint (a
// base URL such as "http://127.0.0.1:8000"): [dynamolocal.NewClient], whose
// documentation says how it is configured and why. It does not block, and the
// client is safe for concurrent use. optFns are applied last.
func NewClient(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamolocal.NewClient(endpoint, optFns...)
}
