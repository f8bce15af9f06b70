package faults

import (
	"slices"
	"testing"
	"time"
)

// decisions draws n decisions from a new Transport built from cfg.
func decisions(cfg Config, n int) []Decision {
	t := New(cfg, nil)
	ds := make([]Decision, n)
	for i := range ds {
		ds[i] = t.decide("PutItem")
	}
	return ds
}

// The same seed gives the same decisions, late and slow ones included, and
// every request draws as many numbers whatever the outcome: swapping Late
// for Reset, the fault before it, moves no decision.
func TestDecideDeterministic(t *testing.T) {
	cfg := Config{Seed: 7, Throttle: 0.1, Late: 0.3, LateDelay: 50 * time.Millisecond,
		Latency: time.Millisecond, LatencyP: 0.3, Slow: 0.5, SlowMin: 10 * time.Millisecond, SlowMax: 20 * time.Millisecond}
	a, b := decisions(cfg, 200), decisions(cfg, 200)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different decisions:\n%v\n%v", a, b)
	}
	var late, slow int
	for i, d := range a {
		switch {
		case d.Fault == Late:
			late++
			if d.lateDelay < 0 || d.lateDelay > cfg.LateDelay || d.ServerDelay != 0 {
				t.Errorf("decision %d: %+v", i, d)
			}
		case d.ServerDelay > 0:
			slow++
			if d.Fault != None || d.ServerDelay < cfg.SlowMin || d.ServerDelay > cfg.SlowMax {
				t.Errorf("decision %d: %+v", i, d)
			}
		}
	}
	if late == 0 || slow == 0 {
		t.Fatalf("200 decisions: %d late, %d slow", late, slow)
	}

	reset := cfg
	reset.Reset, reset.Late = cfg.Late, 0
	for i, d := range decisions(reset, 200) {
		want := a[i]
		if want.Fault == Late {
			want.Fault, want.lateDelay = Reset, 0
		}
		if d != want {
			t.Fatalf("decision %d: %+v with Reset, %+v with Late", i, d, a[i])
		}
	}
}

// Scripted decisions come first and draw no number: the decisions drawn
// after them are those of a transport without a script.
func TestDecideScriptDrawsNothing(t *testing.T) {
	cfg := Config{Seed: 7, Drop: 0.3, LateDelay: 40 * time.Millisecond, Latency: time.Millisecond, LatencyP: 0.5}
	tr := New(cfg, nil)
	tr.Script(Throttle, Late)
	if d := tr.decide("PutItem"); d != (Decision{Fault: Throttle}) {
		t.Fatalf("first scripted decision %+v", d)
	}
	if d := tr.decide("PutItem"); d != (Decision{Fault: Late, lateDelay: cfg.LateDelay}) {
		t.Fatalf("second scripted decision %+v", d)
	}
	for i, want := range decisions(cfg, 50) {
		if d := tr.decide("PutItem"); d != want {
			t.Fatalf("decision %d after the script: %+v, want %+v", i, d, want)
		}
	}
}
