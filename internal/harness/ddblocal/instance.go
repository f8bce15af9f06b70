package ddblocal

import (
	"context"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/dynamolocal"
)

// EnvEndpoint names the environment variable holding the URL of an
// already running DynamoDB Local (e.g. "http://127.0.0.1:8000"). When it is
// set, [Start] and [RunTests] use that instance instead of launching one.
const EnvEndpoint = dynamolocal.EnvEndpoint

// Instance is a DynamoDB Local endpoint: either a JVM started by [Start] or an
// external instance named by $DYNAMODB_ENDPOINT. It wraps a
// [dynamolocal.Instance].
//
// Its methods are safe for concurrent use.
type Instance struct {
	// Endpoint is the base URL of the instance, e.g. "http://127.0.0.1:41234".
	Endpoint string

	local *dynamolocal.Instance
}

// Start returns a running DynamoDB Local: [dynamolocal.Start] with the
// installation of this repository (see the package documentation). It blocks
// until the instance answers a ListTables call, ctx is done, or 60 s have
// passed. It is safe for concurrent use; every call that does not use
// $DYNAMODB_ENDPOINT starts its own JVM.
//
// If $DYNAMODB_ENDPOINT is set, Start only checks (for up to 10 s) that the
// endpoint answers and returns an external Instance, whose Stop does nothing.
// The errors for a missing installation wrap [ErrJarMissing] or
// [ErrJavaMissing] and name `make dynamodb-local`.
//
// The caller must call [Instance.Stop].
func Start(ctx context.Context) (*Instance, error) {
	return start(ctx, false)
}

// StartOwn is [Start] that always runs a JVM of its own, whatever
// $DYNAMODB_ENDPOINT says: for a test that needs an instance to itself
// (DynamoDB Local's TTL sweeper stalls once an instance holds about 20
// TTL-enabled tables). The caller must call [Instance.Stop].
func StartOwn(ctx context.Context) (*Instance, error) {
	return start(ctx, true)
}

// start runs dynamolocal.Start with this repository's options; own ignores
// $DYNAMODB_ENDPOINT.
func start(ctx context.Context, own bool) (*Instance, error) {
	if own || os.Getenv(EnvEndpoint) == "" {
		if _, err := findDir(); err != nil {
			return nil, withHint(err)
		}
	}
	local, err := dynamolocal.Start(ctx, options, func(o *dynamolocal.Options) {
		if own {
			o.Endpoint = ""
		}
	})
	if err != nil {
		return nil, withHint(err)
	}
	return &Instance{Endpoint: local.Endpoint(), local: local}, nil
}

// Stop kills the JVM and waits for it to exit; see [dynamolocal.Instance.Stop].
// It is a no-op for an external instance, idempotent and safe for concurrent
// use.
func (i *Instance) Stop() error {
	if i == nil || i.local == nil {
		return nil
	}
	return i.local.Stop()
}

// Client returns a new client for the instance, configured like [NewClient].
// It does not block and is safe for concurrent use.
func (i *Instance) Client(optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return NewClient(i.Endpoint, optFns...)
}
