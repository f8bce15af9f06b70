package ddblocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

const (
	startTimeout   = 60 * time.Second
	pingTimeout    = 10 * time.Second
	pollInterval   = 100 * time.Millisecond
	startAttempts  = 3
	logBufferBytes = 64 << 10
	logTailLines   = 40
	javaHeap       = "-Xmx1g"
)

// errPortTaken reports that the JVM could not bind the port chosen for it.
var errPortTaken = errors.New("ddblocal: port already in use")

// freePort returns a TCP port that was free on the loopback interface a moment
// ago. It is a variable so that tests can simulate a lost race for the port.
var freePort = func() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startJVM makes one attempt at running DynamoDB Local from dir.
func startJVM(ctx context.Context, java, dir string) (*Instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("ddblocal: picking a free port: %w", err)
	}
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)

	cmd := exec.Command(java, javaHeap,
		"-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(dir, "DynamoDBLocal.jar"),
		"-inMemory", "-sharedDb", "-disableTelemetry",
		"-port", strconv.Itoa(port))
	cmd.Dir = dir
	logBuf := newTailBuffer(logBufferBytes)
	cmd.Stdout = logBuf
	cmd.Stderr = logBuf
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = 5 * time.Second

	inst := &Instance{Endpoint: endpoint, cmd: cmd, log: logBuf, done: make(chan struct{})}

	// The process is started and waited for on one locked OS thread: on Linux
	// the parent-death signal fires when the thread that forked the child
	// exits, and a locked thread is not retired while its goroutine lives.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		inst.waitErr = cmd.Wait()
		close(inst.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("ddblocal: starting %s: %w", java, err)
	}

	fail := func(format string, args ...any) (*Instance, error) {
		inst.kill()
		return nil, fmt.Errorf("ddblocal: DynamoDB Local (%s) %s; last output:\n%s",
			endpoint, fmt.Sprintf(format, args...), inst.log.Tail(logTailLines))
	}

	client := NewClient(endpoint, func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} })
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-inst.done:
			if inst.log.Contains("BindException", "Address already in use", "Failed to bind") {
				return nil, fmt.Errorf("%w: %d (%v)", errPortTaken, port, inst.waitErr)
			}
			return fail("exited during startup (%v)", inst.waitErr)
		default:
		}

		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.ListTables(pctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
		cancel()
		if err == nil {
			select {
			case <-inst.done:
				// Something else answered on our port while our JVM died.
				return fail("exited during startup (%v) although the port answered", inst.waitErr)
			default:
				return inst, nil
			}
		}
		if ctx.Err() != nil {
			return fail("was not ready when the context ended (%v); last ListTables error: %v", ctx.Err(), err)
		}
		if time.Now().After(deadline) {
			return fail("did not answer ListTables within %v; last error: %v", startTimeout, err)
		}

		t := time.NewTimer(pollInterval)
		select {
		case <-t.C:
		case <-inst.done:
		case <-ctx.Done():
		}
		t.Stop()
	}
}

// ping waits up to timeout for endpoint to answer ListTables.
func ping(ctx context.Context, endpoint string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := NewClient(endpoint, func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} })
	for {
		actx, acancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.ListTables(actx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
		acancel()
		if err == nil {
			return nil
		}
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
