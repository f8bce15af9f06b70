// Package demo connects the example programs to DynamoDB: the DynamoDB
// Local at $DYNAMODB_ENDPOINT, or else one that it starts and stops (the
// embedded default). It registers no flags; a program passes the endpoint
// on to its child processes in their environment:
//
//	cmd.Env = append(os.Environ(), ddblocal.EnvEndpoint+"="+endpoint)
package demo

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
)

// Run calls run with a client for $DYNAMODB_ENDPOINT, or else for a
// DynamoDB Local that it starts (about 2 s) and stops when run returns;
// optFns configure the client. If connecting or run fails, Run prints the
// error and exits with status 1. It blocks until run returns.
func Run(run func(ctx context.Context, client *dynamodb.Client) error, optFns ...func(*dynamodb.Options)) {
	ctx := context.Background()
	ep, stop, err := Endpoint(ctx)
	if err != nil {
		Fatal(err)
	}
	defer stop() // also if run panics
	if err := run(ctx, ddblocal.NewClient(ep, optFns...)); err != nil {
		stop() // Fatal exits without running deferred calls
		Fatal(err)
	}
}

// Endpoint returns the base URL of $DYNAMODB_ENDPOINT, or else of a
// DynamoDB Local that it starts, and a function that stops what it
// started, for programs that pass the endpoint on to child processes. It
// blocks while DynamoDB Local starts (about 2 s), or until the endpoint
// answers.
func Endpoint(ctx context.Context) (string, func(), error) {
	inst, err := ddblocal.Start(ctx) // $DYNAMODB_ENDPOINT if set
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
