package retry

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
)

func identity(d time.Duration) time.Duration { return d }

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	want := Policy{
		InitialInterval: 5 * time.Millisecond,
		MaxInterval:     100 * time.Millisecond,
		Multiplier:      2,
		MaxAttempts:     0,
		MaxElapsedTime:  10 * time.Second,
	}
	if p != want {
		t.Fatalf("DefaultPolicy() = %+v, want %+v", p, want)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("DefaultPolicy().Validate() = %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := Policy{InitialInterval: time.Millisecond, MaxInterval: time.Second, Multiplier: 2, MaxAttempts: 3}
	with := func(f func(*Policy)) Policy { p := ok; f(&p); return p }

	tests := []struct {
		name   string
		p      Policy
		fields []string // empty: valid
	}{
		{"attempts only", ok, nil},
		{"time only", with(func(p *Policy) { p.MaxAttempts = 0; p.MaxElapsedTime = time.Second }), nil},
		{"both bounds", with(func(p *Policy) { p.MaxElapsedTime = time.Second }), nil},
		{"single attempt", with(func(p *Policy) { p.MaxAttempts = 1 }), nil},
		{"multiplier 1", with(func(p *Policy) { p.Multiplier = 1 }), nil},
		{"initial == max", with(func(p *Policy) { p.MaxInterval = p.InitialInterval }), nil},
		{"huge values", Policy{InitialInterval: 1, MaxInterval: math.MaxInt64, Multiplier: math.MaxFloat64, MaxElapsedTime: math.MaxInt64}, nil},

		{"zero initial", with(func(p *Policy) { p.InitialInterval = 0 }), []string{"InitialInterval"}},
		{"negative initial", with(func(p *Policy) { p.InitialInterval = -time.Millisecond }), []string{"InitialInterval"}},
		{"negative max", with(func(p *Policy) { p.MaxInterval = -1 }), []string{"MaxInterval"}},
		{"zero max", with(func(p *Policy) { p.MaxInterval = 0 }), []string{"InitialInterval", "MaxInterval"}},
		{"initial > max", with(func(p *Policy) { p.InitialInterval = 2 * time.Second }), []string{"InitialInterval", "MaxInterval"}},
		{"multiplier < 1", with(func(p *Policy) { p.Multiplier = 0.5 }), []string{"Multiplier"}},
		{"multiplier 0", with(func(p *Policy) { p.Multiplier = 0 }), []string{"Multiplier"}},
		{"multiplier negative", with(func(p *Policy) { p.Multiplier = -2 }), []string{"Multiplier"}},
		{"multiplier NaN", with(func(p *Policy) { p.Multiplier = math.NaN() }), []string{"Multiplier"}},
		{"multiplier +Inf", with(func(p *Policy) { p.Multiplier = math.Inf(1) }), []string{"Multiplier"}},
		{"multiplier -Inf", with(func(p *Policy) { p.Multiplier = math.Inf(-1) }), []string{"Multiplier"}},
		{"negative attempts", with(func(p *Policy) { p.MaxAttempts = -1 }), []string{"MaxAttempts"}},
		{"negative elapsed", with(func(p *Policy) { p.MaxElapsedTime = -time.Second }), []string{"MaxElapsedTime"}},
		{"unbounded", with(func(p *Policy) { p.MaxAttempts = 0 }), []string{"unbounded", "MaxAttempts", "MaxElapsedTime"}},
		{"zero value", Policy{}, []string{"InitialInterval", "Multiplier", "unbounded"}},
		{"several", Policy{InitialInterval: -1, MaxInterval: -1, Multiplier: math.NaN(), MaxAttempts: -1, MaxElapsedTime: -1},
			[]string{"InitialInterval", "MaxInterval", "Multiplier", "MaxAttempts", "MaxElapsedTime"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if len(tt.fields) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("Validate() = %v, want an error wrapping ErrInvalidPolicy", err)
			}
			if !strings.HasPrefix(err.Error(), "retry: invalid policy: ") {
				t.Errorf("Validate() = %q, want prefix %q", err, "retry: invalid policy: ")
			}
			for _, f := range tt.fields {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("Validate() = %q, does not name %s", err, f)
				}
			}
		})
	}
}

// capSequence is min(max, initial*mult^(n-1)) for n = 1..steps, computed
// without backoff's per-step truncation.
func capSequence(p Policy, steps int) []time.Duration {
	out := make([]time.Duration, steps)
	c := float64(p.InitialInterval)
	for i := range out {
		if c >= float64(p.MaxInterval) {
			out[i] = p.MaxInterval
		} else {
			out[i] = time.Duration(c)
		}
		c *= p.Multiplier
	}
	return out
}

func TestBackOffCapSequence(t *testing.T) {
	policies := []Policy{
		{InitialInterval: time.Millisecond, MaxInterval: 50 * time.Millisecond, Multiplier: 2, MaxAttempts: 1},
		{InitialInterval: 3 * time.Millisecond, MaxInterval: time.Second, Multiplier: 1.5, MaxAttempts: 1},
		{InitialInterval: 7 * time.Microsecond, MaxInterval: 7 * time.Microsecond, Multiplier: 3, MaxAttempts: 1},
		{InitialInterval: 5 * time.Millisecond, MaxInterval: time.Second, Multiplier: 1, MaxAttempts: 1},
		{InitialInterval: 1, MaxInterval: math.MaxInt64, Multiplier: 10, MaxAttempts: 1},
	}
	for _, p := range policies {
		const steps = 30
		b := p.newBackOff(NewInstantClock())
		b.jitter = identity
		want := capSequence(p, steps)
		for n := 1; n <= steps; n++ {
			got := b.NextBackOff()
			w := want[n-1]
			// backoff/v4 truncates to whole nanoseconds at every step, so
			// allow n ns of drift per step, relative to the exact value.
			diff := math.Abs(float64(got - w))
			if diff > float64(n) && diff > 1e-9*float64(w) {
				t.Fatalf("%+v: cap of retry %d = %v, want %v", p, n, got, w)
			}
			if got > p.MaxInterval {
				t.Fatalf("%+v: cap of retry %d = %v > MaxInterval", p, n, got)
			}
		}
	}
}

func TestBackOffFullJitter(t *testing.T) {
	p := Policy{InitialInterval: time.Millisecond, MaxInterval: 40 * time.Millisecond, Multiplier: 2, MaxAttempts: 1}
	const steps, samples = 8, 3000
	caps := capSequence(p, steps) // 1, 2, 4, 8, 16, 32, 40, 40 ms
	lo := make([]time.Duration, steps)
	hi := make([]time.Duration, steps)
	for i := range lo {
		lo[i] = math.MaxInt64
	}
	for range samples {
		b := p.NewBackOff() // fresh each time, real clock: no time limit
		for n := range steps {
			d := b.NextBackOff()
			if d < 0 || d > caps[n] {
				t.Fatalf("delay of retry %d = %v, want in [0, %v]", n+1, d, caps[n])
			}
			lo[n] = min(lo[n], d)
			hi[n] = max(hi[n], d)
		}
	}
	// With 3000 uniform samples, P(max < 0.99*cap) = 0.99^3000 ≈ 1e-13.
	for n := range steps {
		if float64(hi[n]) < 0.99*float64(caps[n]) {
			t.Errorf("retry %d: max delay %v, want close to the cap %v", n+1, hi[n], caps[n])
		}
		if float64(lo[n]) > 0.01*float64(caps[n]) {
			t.Errorf("retry %d: min delay %v, want close to 0 (cap %v)", n+1, lo[n], caps[n])
		}
	}
}

func TestBackOffStopsAfterMaxElapsedTime(t *testing.T) {
	p := Policy{InitialInterval: time.Millisecond, MaxInterval: 10 * time.Millisecond, Multiplier: 2, MaxElapsedTime: 100 * time.Millisecond}
	clock := NewInstantClock()
	b := p.newBackOff(clock)
	b.jitter = identity

	if d := b.NextBackOff(); d != time.Millisecond {
		t.Fatalf("first delay = %v, want 1ms", d)
	}
	clock.Advance(50 * time.Millisecond)
	if d := b.NextBackOff(); d != 2*time.Millisecond {
		t.Fatalf("delay at 50ms = %v, want 2ms", d)
	}
	clock.Advance(49*time.Millisecond + 500*time.Microsecond) // 99.5ms: 0.5ms left
	if d := b.NextBackOff(); d != 500*time.Microsecond {
		t.Fatalf("delay at 99.5ms = %v, want it clamped to the 0.5ms left", d)
	}
	clock.Advance(500 * time.Microsecond) // exactly 100ms
	if d := b.NextBackOff(); d != backoff.Stop {
		t.Fatalf("delay at 100ms = %v, want Stop", d)
	}
	clock.Advance(time.Hour)
	if d := b.NextBackOff(); d != backoff.Stop {
		t.Fatalf("delay after 1h = %v, want Stop", d)
	}

	b.Reset()
	if d := b.NextBackOff(); d != time.Millisecond {
		t.Fatalf("first delay after Reset = %v, want 1ms (cap and clock restarted)", d)
	}
}

func TestBackOffReset(t *testing.T) {
	p := Policy{InitialInterval: time.Millisecond, MaxInterval: time.Second, Multiplier: 2, MaxAttempts: 1}
	b := p.newBackOff(NewInstantClock())
	b.jitter = identity
	for _, want := range []time.Duration{1, 2, 4, 8} {
		if d := b.NextBackOff(); d != want*time.Millisecond {
			t.Fatalf("delay = %v, want %v", d, want*time.Millisecond)
		}
	}
	b.Reset()
	if d := b.NextBackOff(); d != time.Millisecond {
		t.Fatalf("delay after Reset = %v, want 1ms", d)
	}

	// Reset through the exported interface too.
	bo := p.NewBackOff()
	for range 20 {
		bo.NextBackOff()
	}
	bo.Reset()
	if d := bo.NextBackOff(); d < 0 || d > time.Millisecond {
		t.Fatalf("delay after Reset = %v, want in [0, 1ms]", d)
	}
}

func TestNewBackOffIsFresh(t *testing.T) {
	p := Policy{InitialInterval: time.Millisecond, MaxInterval: time.Second, Multiplier: 2, MaxAttempts: 1}
	a, b := p.NewBackOff(), p.NewBackOff()
	if a == b {
		t.Fatal("NewBackOff returned the same backoff twice")
	}
	for range 10 {
		a.NextBackOff()
	}
	if d := b.NextBackOff(); d > time.Millisecond {
		t.Fatalf("second backoff's first delay = %v: state shared with the first", d)
	}
}

func TestNewBackOffInvalidPolicyDoesNotPanic(t *testing.T) {
	for _, p := range []Policy{
		{},
		{InitialInterval: -time.Second, MaxInterval: -time.Second, Multiplier: -1},
		{InitialInterval: time.Second, MaxInterval: time.Millisecond, Multiplier: 2},
		{InitialInterval: time.Second, MaxInterval: time.Hour, Multiplier: math.NaN()},
		{InitialInterval: time.Second, MaxInterval: time.Hour, Multiplier: math.Inf(1)},
		{InitialInterval: time.Second, MaxInterval: time.Hour, Multiplier: 0.1, MaxElapsedTime: -1},
	} {
		b := p.NewBackOff()
		for range 50 {
			if d := b.NextBackOff(); d < 0 && d != backoff.Stop {
				t.Fatalf("%+v: negative delay %v", p, d)
			}
		}
	}
}
