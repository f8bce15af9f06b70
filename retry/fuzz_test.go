package retry

import (
	"math"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// FuzzBackOff checks, for every policy Validate accepts, that NextBackOff
// never panics and returns either Stop or a delay in [0, MaxInterval]; that
// with the time limit the delays never run past MaxElapsedTime and Stop is
// returned once it has passed; and that the cap sequence starts at
// InitialInterval and never decreases.
func FuzzBackOff(f *testing.F) {
	f.Add(int64(2*time.Millisecond), int64(100*time.Millisecond), 2.0, uint8(20))
	f.Add(int64(1), int64(1), 1.0, uint8(5))
	f.Add(int64(1), int64(math.MaxInt64), 10.0, uint8(255))
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), math.MaxFloat64, uint8(3))
	f.Add(int64(time.Second), int64(time.Minute), 1.0000001, uint8(100))
	f.Add(int64(0), int64(10), 2.0, uint8(1))         // rejected: InitialInterval 0
	f.Add(int64(10), int64(5), 2.0, uint8(1))         // rejected: Initial > Max
	f.Add(int64(1), int64(10), math.NaN(), uint8(1))  // rejected: NaN
	f.Add(int64(1), int64(10), math.Inf(1), uint8(1)) // rejected: +Inf
	f.Add(int64(-5), int64(-1), 0.5, uint8(9))        // rejected: everything

	f.Fuzz(func(t *testing.T, initialNanos, maxNanos int64, mult float64, steps uint8) {
		base := Policy{
			InitialInterval: time.Duration(initialNanos),
			MaxInterval:     time.Duration(maxNanos),
			Multiplier:      mult,
		}

		// Count-bounded: no time limit, real delays.
		p := base
		p.MaxAttempts = int(steps) + 1
		if p.Validate() != nil {
			t.Skip()
		}
		b := p.newBackOff(NewInstantClock())
		for i := range int(steps) {
			d := b.NextBackOff()
			if d < 0 || d > p.MaxInterval {
				t.Fatalf("%+v: delay %d = %v, want in [0, %v]", p, i+1, d, p.MaxInterval)
			}
		}

		// Cap sequence.
		caps := p.newBackOff(NewInstantClock())
		caps.jitter = identity
		prev := time.Duration(0)
		for i := range int(steps) {
			c := caps.NextBackOff()
			if i == 0 && c != p.InitialInterval {
				t.Fatalf("%+v: first cap = %v, want InitialInterval", p, c)
			}
			if c < prev || c > p.MaxInterval {
				t.Fatalf("%+v: cap %d = %v after %v, want non-decreasing and <= MaxInterval", p, i+1, c, prev)
			}
			prev = c
		}

		// Time-bounded: the fake clock advances by each delay (plus 1ns for
		// the attempt), so Stop must come once MaxElapsedTime has passed and
		// the delays must never take the clock past it.
		q := base
		q.MaxElapsedTime = time.Duration(maxNanos)
		if err := q.Validate(); err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		clock := NewInstantClock()
		start := clock.Now()
		tb := q.newBackOff(clock)
		stopped := false
		for i := range int(steps) {
			d := tb.NextBackOff()
			elapsed := clock.Now().Sub(start)
			if d == backoff.Stop {
				if elapsed < q.MaxElapsedTime {
					t.Fatalf("%+v: Stop after %v, before MaxElapsedTime", q, elapsed)
				}
				stopped = true
				continue
			}
			if stopped {
				t.Fatalf("%+v: delay %v after Stop with the clock not moved back", q, d)
			}
			if d < 0 || d > q.MaxInterval {
				t.Fatalf("%+v: delay %d = %v, want in [0, %v]", q, i+1, d, q.MaxInterval)
			}
			if elapsed+d > q.MaxElapsedTime {
				t.Fatalf("%+v: delay %v at %v runs past MaxElapsedTime", q, d, elapsed)
			}
			clock.Advance(d + 1)
		}
	})
}
