package faults

import (
	"fmt"
	"strings"
	"time"
)

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
