package ddblocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// EnvEndpoint names the environment variable holding the URL of an
// already running DynamoDB Local (e.g. "http://127.0.0.1:8000"). When it is
// set, [Start] and [RunTests] use that instance instead of launching one.
const EnvEndpoint = "DYNAMODB_ENDPOINT"

// Instance is a DynamoDB Local endpoint: either a JVM started by [Start] or an
// external instance named by $DYNAMODB_ENDPOINT.
//
// Its methods are safe for concurrent use.
type Instance struct {
	// Endpoint is the base URL of the instance, e.g. "http://127.0.0.1:41234".
	Endpoint string

	external bool
	cmd      *exec.Cmd
	log      *tailBuffer
	done     chan struct{} // closed once the JVM has exited; waitErr is then set
	waitErr  error

	stopOnce sync.Once
	stopErr  error
}

// Start returns a running DynamoDB Local. It blocks until the instance answers
// a ListTables call, ctx is done, or 60 s have passed. It is safe for concurrent
// use; every call that does not use $DYNAMODB_ENDPOINT starts its own JVM.
//
// If $DYNAMODB_ENDPOINT is set, Start only checks (for up to 10 s) that the
// endpoint answers and returns an external Instance, whose Stop does nothing.
//
// Otherwise it looks for DynamoDBLocal.jar in $DYNAMODB_LOCAL_DIR or, failing
// that, in .cache/dynamodb-local under the root of this module (found by
// walking up from the working directory), and runs it with the `java` on PATH,
// in memory (-inMemory -sharedDb), on a free port. The errors for a missing
// installation wrap [ErrJarMissing] or [ErrJavaMissing]; a JVM that does not
// come up is killed and the error carries the tail of its output.
//
// The caller must call [Instance.Stop]. On Linux the JVM is also killed if the
// calling process dies.
func Start(ctx context.Context) (*Instance, error) {
	if ep := os.Getenv(EnvEndpoint); ep != "" {
		if err := ping(ctx, ep, pingTimeout); err != nil {
			return nil, fmt.Errorf("ddblocal: $%s=%s does not answer ListTables: %w", EnvEndpoint, ep, err)
		}
		return &Instance{Endpoint: ep, external: true}, nil
	}
	return StartOwn(ctx)
}

// StartOwn is [Start] that always runs a JVM of its own, whatever
// $DYNAMODB_ENDPOINT says: for a test that needs an instance to itself
// (DynamoDB Local's TTL sweeper stalls once an instance holds about 20
// TTL-enabled tables). The caller must call [Instance.Stop].
func StartOwn(ctx context.Context) (*Instance, error) {
	dir, err := findDir()
	if err != nil {
		return nil, err
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrJavaMissing, err)
	}

	for attempt := 1; ; attempt++ {
		inst, err := startJVM(ctx, java, dir)
		if errors.Is(err, errPortTaken) && attempt < startAttempts && ctx.Err() == nil {
			continue // someone grabbed the port between freePort and the JVM's bind
		}
		return inst, err
	}
}

// Stop kills the JVM (with its process group) and waits for it to exit. It
// blocks for at most a few seconds. Stop is a no-op for an external instance,
// is idempotent and safe for concurrent use; every call returns the result of
// the first. It returns an error if the JVM had already died on its own.
func (i *Instance) Stop() error {
	if i == nil || i.external || i.cmd == nil {
		return nil
	}
	i.stopOnce.Do(func() {
		select {
		case <-i.done:
			i.stopErr = fmt.Errorf("ddblocal: DynamoDB Local (%s) had exited before Stop (%v); last output:\n%s",
				i.Endpoint, i.waitErr, i.log.Tail(logTailLines))
			return
		default:
		}
		i.stopErr = i.kill()
	})
	return i.stopErr
}

// kill terminates the JVM and waits for it.
func (i *Instance) kill() error {
	if err := killProcessGroup(i.cmd.Process); err != nil {
		select {
		case <-i.done: // it exited meanwhile
			return nil
		default:
			return fmt.Errorf("ddblocal: killing DynamoDB Local (pid %d): %w", i.cmd.Process.Pid, err)
		}
	}
	select {
	case <-i.done:
		return nil
	case <-time.After(15 * time.Second):
		return fmt.Errorf("ddblocal: DynamoDB Local (pid %d) did not exit after SIGKILL", i.cmd.Process.Pid)
	}
}

// Client returns a new client for the instance, configured like [NewClient].
// It does not block and is safe for concurrent use.
func (i *Instance) Client(optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return NewClient(i.Endpoint, optFns...)
}
