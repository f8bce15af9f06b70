// Package faults injects network faults between a DynamoDB client and the
// DynamoDB Local it talks to, for tests: an [http.RoundTripper] that wraps the
// real transport and, by seeded probabilities, drops responses of requests
// DynamoDB applied (the ambiguous case), answers with throttling or a 500
// without forwarding, resets the connection before sending, or adds latency.
//
// Two faults deliver a request after its caller has stopped waiting for it,
// as a network or a load balancer can: a [Late] request fails at once with a
// reset connection and reaches DynamoDB later, and a slow request (see
// [Config.Slow]) is held up on the "server side" past the client's timeout
// ([Config.ClientTimeout]) or the caller's deadline and lands all the same.
// Both are sent from background goroutines that the Transport owns;
// [Transport.Wait] waits for them, and a test must call it before it checks
// what is stored and before it ends.
//
// Decisions come from one PCG generator seeded by [Config.Seed] and guarded
// by a mutex, so for a given seed the sequence of decisions is the same
// whenever requests arrive in the same order (one goroutine, or a test that
// orders its requests); with concurrent requests the order, and so the
// assignment of faults to requests, depends on scheduling.
//
// [Client] builds a DynamoDB client for DynamoDB Local behind a Transport;
// [FastRetries] keeps the SDK's own retries of injected faults short;
// [WithReport] tells one call which faults its requests met.
package faults

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
)

// Fault is the kind of fault injected into one request.
type Fault int

const (
	// None forwards the request and returns its response.
	None Fault = iota
	// Drop forwards the request, lets DynamoDB apply it, reads and throws
	// away the response, and returns a reset-connection error: the client
	// cannot tell whether the request took effect.
	Drop
	// Throttle answers without forwarding with HTTP 400 and
	// ProvisionedThroughputExceededException: nothing was applied.
	Throttle
	// Error500 answers without forwarding with HTTP 500 and
	// InternalServerError: nothing was applied, but the client cannot know.
	Error500
	// Reset fails with a reset-connection error before sending: nothing
	// was applied, but the client cannot know.
	Reset
	// Late fails at once with a reset-connection error and forwards the
	// request in the background after a delay (see [Config.Late]): the
	// client gave up on a request that DynamoDB applies later.
	Late
)

// String returns the fault's name.
func (f Fault) String() string {
	switch f {
	case None:
		return "none"
	case Drop:
		return "drop"
	case Throttle:
		return "throttle"
	case Error500:
		return "500"
	case Reset:
		return "reset"
	case Late:
		return "late"
	}
	return "Fault(" + strconv.Itoa(int(f)) + ")"
}

// Config sets the probabilities of faults. Probabilities are per affected
// request; Drop+Throttle+Error500+Reset+Late must not exceed 1.
type Config struct {
	// Seed seeds the decisions. The same seed and the same order of
	// requests give the same decisions.
	Seed uint64
	// Drop is the probability of forwarding a request and losing its
	// response.
	Drop float64
	// Throttle is the probability of a throttling answer (not forwarded).
	Throttle float64
	// Error500 is the probability of an InternalServerError answer (not
	// forwarded).
	Error500 float64
	// Reset is the probability of a reset connection before sending.
	Reset float64
	// Latency is the upper bound of the added latency, drawn uniformly in
	// [0, Latency] for a request chosen with probability LatencyP. The
	// delay is cut short when the request's context is done.
	Latency time.Duration
	// LatencyP is the probability of adding latency to a request.
	LatencyP float64
	// Late is the probability that a request is answered at once with a
	// reset-connection error (the client sees a failure) while the request
	// itself is forwarded to DynamoDB in the background after a delay drawn
	// uniformly in [0, LateDelay]: a request that lands after the client
	// gave up on it.
	Late      float64
	LateDelay time.Duration
	// Slow is the probability that a request is held up on the "server
	// side" for a delay drawn uniformly in [SlowMin, SlowMax] before it is
	// forwarded. The delay is NOT cut short when the client gives up: with
	// ClientTimeout below SlowMin the client times out and the request
	// still lands later. Only requests without another fault (None) are
	// slowed; with SlowMax 0 no request is.
	Slow             float64
	SlowMin, SlowMax time.Duration
	// ClientTimeout, if > 0, is the http.Client Timeout of the clients that
	// Option and Client build (a client-side timeout, as a service would
	// set).
	ClientTimeout time.Duration
	// Ops are the operation names (the part of the X-Amz-Target header
	// after the dot: "UpdateItem", "GetItem", ...) that faults affect.
	// Empty: all. Requests of other operations are forwarded untouched and
	// draw no decision.
	Ops []string
}

// Validate reports whether c's probabilities and durations make sense.
func (c Config) Validate() error {
	// The first five are the exclusive faults, whose sum is bounded too.
	ps := []struct {
		name string
		p    float64
	}{{"Drop", c.Drop}, {"Throttle", c.Throttle}, {"Error500", c.Error500}, {"Reset", c.Reset}, {"Late", c.Late},
		{"LatencyP", c.LatencyP}, {"Slow", c.Slow}}
	sum := 0.0
	for i, p := range ps {
		if p.p < 0 || p.p > 1 || p.p != p.p {
			return fmt.Errorf("faults: %s = %v out of [0, 1]", p.name, p.p)
		}
		if i < 5 {
			sum += p.p
		}
	}
	if sum > 1 {
		return fmt.Errorf("faults: Drop+Throttle+Error500+Reset+Late = %v > 1", sum)
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"Latency", c.Latency}, {"LateDelay", c.LateDelay}, {"SlowMin", c.SlowMin}, {"SlowMax", c.SlowMax}, {"ClientTimeout", c.ClientTimeout}} {
		if d.d < 0 {
			return fmt.Errorf("faults: negative %s %v", d.name, d.d)
		}
	}
	if c.SlowMin > c.SlowMax {
		return fmt.Errorf("faults: SlowMin %v > SlowMax %v", c.SlowMin, c.SlowMax)
	}
	return nil
}

// String describes c in one line, for test logs.
func (c Config) String() string {
	s := fmt.Sprintf("seed=%d drop=%.2f throttle=%.2f 500=%.2f reset=%.2f latency=%v@%.2f",
		c.Seed, c.Drop, c.Throttle, c.Error500, c.Reset, c.Latency, c.LatencyP)
	if c.Late != 0 || c.LateDelay != 0 {
		s += fmt.Sprintf(" late=%v@%.2f", c.LateDelay, c.Late)
	}
	if c.Slow != 0 || c.SlowMin != 0 || c.SlowMax != 0 {
		s += fmt.Sprintf(" slow=%v-%v@%.2f", c.SlowMin, c.SlowMax, c.Slow)
	}
	if c.ClientTimeout != 0 {
		s += fmt.Sprintf(" client-timeout=%v", c.ClientTimeout)
	}
	if len(c.Ops) > 0 {
		s += " ops=" + strings.Join(c.Ops, ",")
	}
	return s
}

// Decision is what the transport decided for one affected request.
type Decision struct {
	Fault Fault
	Delay time.Duration // added latency, 0 for none
	// ServerDelay is how long a slow request is held up before it is
	// forwarded (see [Config.Slow]); 0 for a request that is not slow.
	ServerDelay time.Duration

	lateDelay time.Duration // for Fault Late: the delay before forwarding
}

// Stats counts requests and injected faults since [New].
type Stats struct {
	Requests int64 // every request seen, affected or not
	Affected int64 // requests of the chosen operations (decisions drawn)
	Drop     int64
	Throttle int64
	Error500 int64
	Reset    int64
	Late     int64
	Delayed  int64
	Slow     int64
}

// String describes s in one line, for test logs.
func (s Stats) String() string {
	return fmt.Sprintf("%d requests, %d affected: %d dropped, %d throttled, %d 500s, %d resets, %d late, %d delayed, %d slow",
		s.Requests, s.Affected, s.Drop, s.Throttle, s.Error500, s.Reset, s.Late, s.Delayed, s.Slow)
}

// Transport is an [http.RoundTripper] that injects faults. It is safe for
// concurrent use.
//
// A Transport injecting [Late] or slow requests sends them from background
// goroutines: a test owning such a Transport must call [Transport.Wait]
// before it checks the stored state and before it ends.
type Transport struct {
	// Observe, if set before first use, is called for every affected
	// request with its operation name and decision, under the transport's
	// lock, in decision order. It must be quick.
	Observe func(op string, d Decision)

	cfg  Config
	next http.RoundTripper
	ops  map[string]bool

	mu      sync.Mutex
	rng     *rand.Rand
	stats   Stats
	pending map[chan struct{}]bool // background deliveries, closed when done
}

// defaultNext is http.DefaultTransport with more idle connections per host,
// so that many goroutines through one Transport do not keep re-dialling.
var defaultNext = func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	return t
}()

// New returns a Transport injecting faults as cfg says in front of next
// (nil: a clone of http.DefaultTransport keeping up to 64 idle connections
// per host). It panics if cfg is invalid (see [Config.Validate]): a test's
// programming error.
func New(cfg Config, next http.RoundTripper) *Transport {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if next == nil {
		next = defaultNext
	}
	t := &Transport{cfg: cfg, next: next, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	if len(cfg.Ops) > 0 {
		t.ops = map[string]bool{}
		for _, op := range cfg.Ops {
			t.ops[op] = true
		}
	}
	return t
}

// Stats returns the counts so far. Safe for concurrent use.
func (t *Transport) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Config returns the configuration t was built with.
func (t *Transport) Config() Config { return t.cfg }

// Option returns a dynamodb client option that sends the client's requests
// through t, with [Config.ClientTimeout] as the HTTP client's timeout.
func (t *Transport) Option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: t, Timeout: t.cfg.ClientTimeout}
	}
}

// Client returns a DynamoDB client for the DynamoDB Local at endpoint (see
// ddblocal.NewClient) whose requests go through a new Transport built from
// cfg, and that Transport. optFns are applied after the transport is set.
func Client(endpoint string, cfg Config, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, *Transport) {
	t := New(cfg, nil)
	return ddblocal.NewClient(endpoint, append([]func(*dynamodb.Options){t.Option()}, optFns...)...), t
}

// FastRetries is a client option for fault tests: the SDK's standard
// retryer (3 attempts) with a full-jitter backoff of at most 5 ms per attempt
// instead of up to a second or more, and no retry quota, so that injected
// faults cost milliseconds and a long run does not drain the quota.
func FastRetries(o *dynamodb.Options) {
	o.Retryer = awsretry.NewStandard(func(so *awsretry.StandardOptions) {
		so.RateLimiter = ratelimit.None
		so.Backoff = awsretry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
			return time.Duration(rand.Int64N(int64(5*time.Millisecond)*int64(attempt) + 1)), nil
		})
	})
}

type reportKey struct{}

// WithReport returns a context that makes a [Transport] call f with the
// operation name and the decision of every affected request sent with it
// (the SDK passes an operation's ctx on to its HTTP requests), so that a
// test knows which faults one call met. f is called from the goroutine
// sending the request, before the fault takes effect.
func WithReport(ctx context.Context, f func(op string, d Decision)) context.Context {
	return context.WithValue(ctx, reportKey{}, f)
}

// Operation returns the DynamoDB operation name of req, from its
// X-Amz-Target header ("DynamoDB_20120810.UpdateItem" -> "UpdateItem").
func Operation(req *http.Request) string {
	target := req.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(target, '.'); i >= 0 {
		return target[i+1:]
	}
	return target
}

// decide draws the decision for one affected request.
func (t *Transport) decide(op string) Decision {
	t.mu.Lock()
	defer t.mu.Unlock()
	// Always six draws (fault, latency, latency delay, late delay, slow,
	// slow delay), so that the sequence does not depend on the outcome of
	// earlier draws.
	u, l, d := t.rng.Float64(), t.rng.Float64(), t.rng.Float64()
	ld, s, sd := t.rng.Float64(), t.rng.Float64(), t.rng.Float64()
	var dec Decision
	c := t.cfg
	switch {
	case u < c.Drop:
		dec.Fault = Drop
	case u < c.Drop+c.Throttle:
		dec.Fault = Throttle
	case u < c.Drop+c.Throttle+c.Error500:
		dec.Fault = Error500
	case u < c.Drop+c.Throttle+c.Error500+c.Reset:
		dec.Fault = Reset
	case u < c.Drop+c.Throttle+c.Error500+c.Reset+c.Late:
		dec.Fault = Late
		dec.lateDelay = time.Duration(ld * float64(c.LateDelay))
	}
	if c.Latency > 0 && l < c.LatencyP {
		dec.Delay = time.Duration(d * float64(c.Latency))
	}
	if dec.Fault == None && s < c.Slow {
		dec.ServerDelay = c.SlowMin + time.Duration(sd*float64(c.SlowMax-c.SlowMin))
	}
	t.stats.Affected++
	switch dec.Fault {
	case Drop:
		t.stats.Drop++
	case Throttle:
		t.stats.Throttle++
	case Error500:
		t.stats.Error500++
	case Reset:
		t.stats.Reset++
	case Late:
		t.stats.Late++
	}
	if dec.Delay > 0 {
		t.stats.Delayed++
	}
	if dec.ServerDelay > 0 {
		t.stats.Slow++
	}
	if t.Observe != nil {
		t.Observe(op, dec)
	}
	return dec
}

// RoundTrip implements [http.RoundTripper].
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	op := Operation(req)
	t.mu.Lock()
	t.stats.Requests++
	t.mu.Unlock()
	if t.ops != nil && !t.ops[op] {
		return t.next.RoundTrip(req)
	}
	dec := t.decide(op)
	if f, ok := req.Context().Value(reportKey{}).(func(string, Decision)); ok {
		f(op, dec)
	}
	if dec.Delay > 0 {
		timer := time.NewTimer(dec.Delay)
		select {
		case <-timer.C:
		case <-req.Context().Done():
			timer.Stop()
			closeBody(req)
			return nil, req.Context().Err()
		}
	}
	switch dec.Fault {
	case Throttle:
		closeBody(req)
		return errorResponse(req, http.StatusBadRequest, "ProvisionedThroughputExceededException",
			"injected: the level of configured provisioned throughput for the table was exceeded"), nil
	case Error500:
		closeBody(req)
		return errorResponse(req, http.StatusInternalServerError, "InternalServerError", "injected: internal server error"), nil
	case Reset:
		closeBody(req)
		return nil, resetError("write")
	case Drop:
		resp, err := t.next.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		discard(resp)
		return nil, resetError("read")
	case Late:
		return t.late(req, dec.lateDelay)
	}
	if dec.ServerDelay > 0 {
		return t.slow(req, dec.ServerDelay)
	}
	return t.next.RoundTrip(req)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// ErrInjected is wrapped by the reset-connection errors the transport
// returns, so that tests can tell them from real ones with errors.Is.
var ErrInjected = errors.New("faults: injected")

// resetError looks like a connection reset by the peer, as net/http
// reports it, and also matches ErrInjected.
func resetError(op string) error {
	return &net.OpError{Op: op, Net: "tcp", Err: &injectedErr{os.NewSyscallError(op, syscall.ECONNRESET)}}
}

type injectedErr struct{ err error }

func (e *injectedErr) Error() string   { return e.err.Error() + " (injected)" }
func (e *injectedErr) Unwrap() []error { return []error{e.err, ErrInjected} }

// errorResponse builds an error response the way DynamoDB sends one: a JSON
// body with a namespaced __type, the x-amzn-ErrorType header, a request id
// and the CRC32 checksum of the body.
func errorResponse(req *http.Request, status int, code, msg string) *http.Response {
	body := fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, code, msg)
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Errortype", code+":")
	h.Set("X-Amzn-Requestid", "injected")
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10))
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
