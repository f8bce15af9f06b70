// Package demo connects the example programs to DynamoDB: the endpoint of
// the -endpoint flag or $DYNAMODB_ENDPOINT, or else a DynamoDB Local that it
// starts and stops (the embedded default).
package demo

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
)

var endpoint = flag.String("endpoint", "", "DynamoDB endpoint (default $"+ddblocal.EnvEndpoint+", else start DynamoDB Local)")

// Connect returns a client and a function that releases what Connect
// started. Call flag.Parse first. It blocks while DynamoDB Local starts
// (about 2 s).
func Connect(ctx context.Context, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, func(), error) {
	ep, stop, err := Endpoint(ctx)
	if err != nil {
		return nil, nil, err
	}
	return ddblocal.NewClient(ep, optFns...), stop, nil
}

// Endpoint is [Connect] for programs that pass the endpoint on to child
// processes: it returns the endpoint's base URL and a function that
// releases what it started.
func Endpoint(ctx context.Context) (string, func(), error) {
	if *endpoint != "" {
		return *endpoint, func() {}, nil
	}
	inst, err := ddblocal.Start(ctx)
	if err != nil {
		return "", nil, err
	}
	return inst.Endpoint, func() { _ = inst.Stop() }, nil
}

// Fatal prints err and exits with status 1.
func Fatal(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}
