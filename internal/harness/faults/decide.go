package faults

import "time"

// decide returns the decision for one affected request: the next scripted
// fault if any (see [Transport.Script]), else one drawn from the seeded
// generator. It counts the decision and passes it to Observe.
func (t *Transport) decide(op string) Decision {
	t.mu.Lock()
	defer t.mu.Unlock()
	var dec Decision
	if len(t.script) > 0 {
		dec.Fault = t.script[0]
		t.script = t.script[1:]
		if dec.Fault == Late {
			dec.lateDelay = t.cfg.LateDelay
		}
	} else {
		dec = t.draw()
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

// draw draws a decision from the seeded generator, with t.mu held.
func (t *Transport) draw() Decision {
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
	return dec
}
