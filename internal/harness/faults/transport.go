package faults

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

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

	// AfterFault, if set before first use, is called for every affected
	// request that met a fault (not None) once the fault has taken effect,
	// just before RoundTrip returns it: for a Drop, after DynamoDB has
	// answered and the answer was thrown away; for a Late request, while
	// its delivery is pending. It runs on the goroutine that sent the
	// request, without the transport's lock, so it may send requests of its
	// own (another writer's, say) before the caller sees the fault.
	AfterFault func(op string, d Decision)

	cfg  Config
	next http.RoundTripper
	ops  map[string]bool

	mu      sync.Mutex
	rng     *rand.Rand
	script  []Fault // faults of the next affected requests, before any draw
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

// Script makes the next affected requests (those of [Config.Ops]) meet fs,
// one each and in order, before decisions are drawn again; it appends to
// what is left of earlier scripts. With a Config whose probabilities are
// zero, the requests after the script are forwarded untouched: Script(Drop)
// loses the response of the next affected request only. A scripted decision
// draws no random number, adds no latency and is not slow; a scripted Late
// request is forwarded after [Config.LateDelay]. It is counted in [Stats]
// and passed to Observe like a drawn one. Safe for concurrent use.
func (t *Transport) Script(fs ...Fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.script = append(t.script, fs...)
}

// RoundTrip implements [http.RoundTripper]. A request whose answer does
// not reach the caller is reported to [WithLost]'s callback.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	op := Operation(req)
	resp, err := t.roundTrip(req, op)
	if err != nil {
		reportLost(req, op)
		return nil, err
	}
	if resp.Body != nil {
		resp.Body = lostBody{resp.Body, func() { reportLost(req, op) }}
	}
	return resp, nil
}

func (t *Transport) roundTrip(req *http.Request, op string) (*http.Response, error) {
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
	if dec.Fault != None && t.AfterFault != nil {
		defer t.AfterFault(op, dec)
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
