package bench

import (
	"testing"
	"time"
)

// The smoke tests run each benchmark's body at a tiny size, so that
// `go test -race ./...` checks the harness (and the counter check of the
// increments) without timing anything.

func TestAcquireReleaseSmoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range pairContenders(t, e) {
		if r := runPairs(t, e, p, 3); r.requests == 0 {
			t.Errorf("%s: no requests counted", p.name)
		}
	}
}

func TestHandoverSmoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, mode := range []string{sameManager, otherManager, otherProcess} {
		r := runHandover(t, e, mode, 2, 100*time.Millisecond)
		if len(r.fromRelEnd) != 2 || r.total == 0 {
			t.Errorf("%s: %+v", mode, r)
		}
		t.Logf("%s: %v", mode, r.fromRelEnd)
	}
}

func TestProtectedIncrementSmoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, v := range incrementVariants {
		runIncrements(t, e, v, 4, 12)
	}
}
