package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	pollInterval   = 100 * time.Millisecond
	startAttempts  = 3
	logBufferBytes = 64 << 10
	logTailLines   = 40
)

// errPortTaken reports that the JVM could not bind the port chosen for it.
var errPortTaken = errors.New("dynamolocal: port already in use")

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

// startJVM makes one attempt at running DynamoDB Local from o.Dir with java:
// on a free port, until it answers ListTables.
func startJVM(ctx context.Context, java string, o *Options) (*Instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("dynamolocal: picking a free port: %w", err)
	}
	inst := newJVM(java, o, port)
	if err := inst.launch(); err != nil {
		return nil, fmt.Errorf("dynamolocal: starting %s: %w", java, err)
	}
	if err := inst.awaitReady(ctx, port, o.StartTimeout); err != nil {
		return nil, err
	}
	return inst, nil
}

// newJVM returns an Instance for DynamoDB Local from o.Dir on port, in
// memory, its output kept in a tail buffer and copied to o.Stdout and
// o.Stderr. It does not start it.
func newJVM(java string, o *Options, port int) *Instance {
	args := append([]string(nil), o.JavaArgs...)
	args = append(args,
		"-Djava.library.path="+filepath.Join(o.Dir, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(o.Dir, "DynamoDBLocal.jar"),
		"-inMemory", "-sharedDb", "-disableTelemetry",
		"-port", strconv.Itoa(port))
	cmd := exec.Command(java, args...)
	cmd.Dir = o.Dir
	logBuf := newTailBuffer(logBufferBytes)
	cmd.Stdout = tee(logBuf, o.Stdout)
	cmd.Stderr = tee(logBuf, o.Stderr)
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = 5 * time.Second
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	return &Instance{endpoint: endpoint, cmd: cmd, log: logBuf, done: make(chan struct{})}
}

// tee returns buf, or a writer to both buf and w if w is not nil.
func tee(buf *tailBuffer, w io.Writer) io.Writer {
	if w == nil {
		return buf
	}
	return io.MultiWriter(buf, w)
}

// launch starts the JVM and returns; a goroutine waits for it to exit,
// then sets waitErr and closes done. That goroutine ends when the JVM exits,
// which Stop (or a failed start) brings about and waits for.
//
// The process is started and waited for on one locked OS thread: on Linux
// the parent-death signal fires when the thread that forked the child
// exits, and a locked thread is not retired while its goroutine lives.
func (i *Instance) launch() error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := i.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		i.waitErr = i.cmd.Wait()
		close(i.done)
	}()
	return <-started
}

// awaitReady polls the JVM on port until it answers ListTables. It fails,
// killing the JVM, if the JVM exits, ctx ends or timeout passes; if the JVM
// exited because port was taken, it returns errPortTaken.
func (i *Instance) awaitReady(ctx context.Context, port int, timeout time.Duration) error {
	client := noRetryClient(i.endpoint)
	deadline := time.Now().Add(timeout)
	for {
		if i.exited() {
			return i.exitedDuringStartup(port)
		}
		err := listOneTable(ctx, client)
		switch {
		case err == nil && i.exited():
			// Something else answered on our port while our JVM died.
			return i.startupFailure("exited during startup (%v) although the port answered", i.waitErr)
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return i.startupFailure("was not ready when the context ended (%v); last ListTables error: %v", ctx.Err(), err)
		case time.Now().After(deadline):
			return i.startupFailure("did not answer ListTables within %v (Options.StartTimeout); last error: %v", timeout, err)
		}
		i.pause(ctx)
	}
}

// exited reports whether the JVM has exited.
func (i *Instance) exited() bool {
	select {
	case <-i.done:
		return true
	default:
		return false
	}
}

// exitedDuringStartup explains why the JVM exited before it answered:
// errPortTaken if its log says it could not bind port.
func (i *Instance) exitedDuringStartup(port int) error {
	if i.log.Contains("BindException", "Address already in use", "Failed to bind") {
		return fmt.Errorf("%w: %d (%v)", errPortTaken, port, i.waitErr)
	}
	return i.startupFailure("exited during startup (%v)", i.waitErr)
}

// startupFailure kills the JVM and returns an error saying what went wrong,
// with the tail of its output.
func (i *Instance) startupFailure(format string, args ...any) error {
	if err := i.kill(); err != nil {
		format += " (and %v)"
		args = append(args, err)
	}
	return fmt.Errorf("dynamolocal: DynamoDB Local (%s, %s) %s; last output:\n%s",
		i.endpoint, i.cmd, fmt.Sprintf(format, args...), i.log.Tail(logTailLines))
}

// pause waits pollInterval, or less if the JVM exits or ctx ends.
func (i *Instance) pause(ctx context.Context) {
	t := time.NewTimer(pollInterval)
	defer t.Stop()
	select {
	case <-t.C:
	case <-i.done:
	case <-ctx.Done():
	}
}

// noRetryClient returns a client for endpoint whose calls are not retried.
func noRetryClient(endpoint string) *dynamodb.Client {
	return NewClient(endpoint, func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} })
}

// listOneTable calls ListTables, giving up after 2 s.
func listOneTable(ctx context.Context, client *dynamodb.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
	return err
}

// ping waits up to timeout for endpoint to answer ListTables.
func ping(ctx context.Context, endpoint string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := noRetryClient(endpoint)
	for {
		err := listOneTable(ctx, client)
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
