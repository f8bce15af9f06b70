package ddblocal

import "github.com/ddbocc/ddbocc/dynamolocal"

// RequestCounter counts the HTTP requests that DynamoDB clients send; it is
// [dynamolocal.RequestCounter].
type RequestCounter = dynamolocal.RequestCounter
