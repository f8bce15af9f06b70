package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Instance is a running DynamoDB Local: either a JVM started by [Start] or
// the instance at Options.Endpoint ($DYNAMODB_ENDPOINT). Its methods are safe
// for concurrent use.
type Instance struct {
	endpoint string
	external bool
	cmd      *exec.Cmd
	log      *tailBuffer
	done     chan struct{} // closed once the JVM has exited; waitErr is then set
	waitErr  error

	stopOnce sync.Once
	stopErr  error
}

// Start returns a running DynamoDB Local. It blocks until the instance answers
// a ListTables call; cancelling ctx stops the wait (and a download), kills
// what Start started and returns an error. It is safe for concurrent use;
// every call that does not use Options.Endpoint starts a JVM of its own.
//
// If Options.Endpoint (default $DYNAMODB_ENDPOINT) is set, Start only checks
// that it answers, and the returned Instance's Stop does nothing.
//
// Otherwise Start checks that Options.Java is Java 17+ (else an error
// wrapping [ErrJava] that names what to install), installs DynamoDB Local
// into Options.Dir if it is missing and Options.Install is set (see
// [Options]), and runs
//
//	java [JavaArgs] -Djava.library.path=<Dir>/DynamoDBLocal_lib -jar <Dir>/DynamoDBLocal.jar \
//		-inMemory -sharedDb -disableTelemetry -port <free port>
//
// on a free port of the loopback interface (trying another port if that one
// is taken meanwhile), and waits up to Options.StartTimeout for it to answer.
// The data is kept in memory and lost at Stop; -sharedDb makes every client
// see the same tables whatever its credentials and region. A JVM that does
// not come up is killed, and the error carries the end of its output.
//
// The caller must call [Instance.Stop]. On Linux the JVM is also killed if
// the calling process dies first.
func Start(ctx context.Context, optFns ...func(*Options)) (*Instance, error) {
	o, err := newOptions(optFns)
	if err != nil {
		return nil, err
	}
	if o.Endpoint != "" {
		if err := ping(ctx, o.Endpoint, min(o.StartTimeout, externalTimeout)); err != nil {
			return nil, fmt.Errorf("dynamolocal: %s (Options.Endpoint, by default $%s) does not answer ListTables: %w", o.Endpoint, EnvEndpoint, err)
		}
		return &Instance{endpoint: o.Endpoint, external: true}, nil
	}
	java, err := checkJava(ctx, o.Java)
	if err != nil {
		return nil, err
	}
	if err := ensureInstalled(ctx, &o); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		inst, err := startJVM(ctx, java, &o)
		if errors.Is(err, errPortTaken) && attempt < startAttempts && ctx.Err() == nil {
			continue // someone took the port between freePort and the JVM's bind
		}
		return inst, err
	}
}

// Endpoint returns the base URL of the instance, such as
// "http://127.0.0.1:41234". It does not block.
func (i *Instance) Endpoint() string { return i.endpoint }

// Client returns a new client for the instance, configured like [NewClient]
// with optFns. It does not block, and the client is safe for concurrent use.
func (i *Instance) Client(optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return NewClient(i.endpoint, optFns...)
}

// Stop kills the JVM (with its process group) and waits for it to exit, so
// that no goroutine or process of the Instance is left. It blocks for at most
// a few seconds. Stop does nothing for the instance at Options.Endpoint; it
// is idempotent and safe for concurrent use, every call returning the result
// of the first. It returns an error if the JVM had already died on its own.
func (i *Instance) Stop() error {
	if i == nil || i.external || i.cmd == nil {
		return nil
	}
	i.stopOnce.Do(func() {
		select {
		case <-i.done:
			i.stopErr = fmt.Errorf("dynamolocal: DynamoDB Local (%s) had exited before Stop (%v); last output:\n%s",
				i.endpoint, i.waitErr, i.log.Tail(logTailLines))
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
			return fmt.Errorf("dynamolocal: killing DynamoDB Local (pid %d): %w", i.cmd.Process.Pid, err)
		}
	}
	t := time.NewTimer(15 * time.Second)
	defer t.Stop()
	select {
	case <-i.done:
		return nil
	case <-t.C:
		return fmt.Errorf("dynamolocal: DynamoDB Local (pid %d) did not exit after SIGKILL", i.cmd.Process.Pid)
	}
}
