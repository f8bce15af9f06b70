// Package ddblocal runs DynamoDB Local for the tests, benchmarks and examples
// of this module and builds SDK clients that talk to it.
//
// DynamoDB Local is the Java implementation of DynamoDB published by AWS. It
// is installed into <repo>/.cache/dynamodb-local by
// scripts/install-dynamodb-local.sh (`make dynamodb-local`).
//
// There are two ways to get an instance:
//
//   - Set DYNAMODB_ENDPOINT (see [EnvEndpoint]) to the URL of an instance that
//     is already running; scripts/with-dynamodb-local.sh does this, so that
//     `make test` shares a single JVM between all test binaries.
//   - Otherwise [Start] launches a private in-memory instance on a free port.
//
// Test packages use it through TestMain:
//
//	func TestMain(m *testing.M) { ddblocal.RunTests(m) }
//
//	func TestSomething(t *testing.T) {
//		client := ddblocal.Client(t)
//		table := ddblocal.TableName(t)
//		...
//	}
//
// Tests never skip when DynamoDB Local is unavailable: they fail, naming the
// command that installs it.
package ddblocal

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

const (
	// EnvEndpoint names the environment variable holding the URL of an
	// already running DynamoDB Local (e.g. "http://127.0.0.1:8000"). When it is
	// set, [Start] and [RunTests] use that instance instead of launching one.
	EnvEndpoint = "DYNAMODB_ENDPOINT"

	// EnvDir names the environment variable that overrides the directory
	// holding DynamoDBLocal.jar and DynamoDBLocal_lib/ (default:
	// <repo>/.cache/dynamodb-local).
	EnvDir = "DYNAMODB_LOCAL_DIR"
)

// installHint is the command that fixes a missing installation.
const installHint = "run `make dynamodb-local` (scripts/install-dynamodb-local.sh)"

var (
	// ErrJavaMissing is returned (wrapped) by [Start] when no `java` executable
	// is on PATH. Test with errors.Is.
	ErrJavaMissing = errors.New("ddblocal: java (17+) not found on PATH; " + installHint + ", which installs OpenJDK 17 when run as root, or install Java 17+ yourself")

	// ErrJarMissing is returned (wrapped) by [Start] when DynamoDBLocal.jar or
	// DynamoDBLocal_lib/ cannot be found. Test with errors.Is.
	ErrJarMissing = errors.New("ddblocal: DynamoDB Local is not installed; " + installHint)
)

const (
	modulePath     = "github.com/ddbocc/ddbocc"
	defaultSubdir  = ".cache/dynamodb-local"
	startTimeout   = 60 * time.Second
	pingTimeout    = 10 * time.Second
	pollInterval   = 100 * time.Millisecond
	startAttempts  = 3
	logBufferBytes = 64 << 10
	logTailLines   = 40
	javaHeap       = "-Xmx1g"
)

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

// findDir returns the directory holding DynamoDBLocal.jar and
// DynamoDBLocal_lib/.
func findDir() (string, error) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", fmt.Errorf("%w: $%s is not set and %v", ErrJarMissing, EnvDir, err)
		}
		dir = filepath.Join(root, filepath.FromSlash(defaultSubdir))
	}
	if fi, err := os.Stat(filepath.Join(dir, "DynamoDBLocal.jar")); err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%w (no DynamoDBLocal.jar in %s)", ErrJarMissing, dir)
	}
	if fi, err := os.Stat(filepath.Join(dir, "DynamoDBLocal_lib")); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%w (no DynamoDBLocal_lib/ in %s)", ErrJarMissing, dir)
	}
	return dir, nil
}

// moduleRoot walks up from the working directory to the directory whose go.mod
// declares this module.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && goModDeclares(data, modulePath) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod declaring module %s above %s", modulePath, wd)
		}
		dir = parent
	}
}

// goModDeclares reports whether the go.mod contents declare module path.
func goModDeclares(data []byte, path string) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], "\"`") == path
		}
	}
	return false
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

// tailBuffer is an io.Writer that keeps the last max bytes written to it.
// It is safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

// Tail returns the last n lines written.
func (b *tailBuffer) Tail(n int) string {
	b.mu.Lock()
	s := string(b.buf)
	b.mu.Unlock()
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if s == "" {
		return "(no output)"
	}
	return strings.Join(lines, "\n")
}

// Contains reports whether the retained output contains any of subs.
func (b *tailBuffer) Contains(subs ...string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range subs {
		if bytes.Contains(b.buf, []byte(s)) {
			return true
		}
	}
	return false
}
