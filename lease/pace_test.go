package lease

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func TestHoldStatBand(t *testing.T) {
	var s holdStat
	if _, _, ok := s.band(); ok {
		t.Fatal("no hold yet: want no forecast")
	}
	s = s.add(3 * time.Second)
	if _, _, ok := s.band(); ok {
		t.Fatalf("one hold (dev %v, half of it): want no forecast", s.dev)
	}
	for range 20 {
		s = s.add(3 * time.Second)
	}
	from, to, ok := s.band()
	if !ok || from < 2900*time.Millisecond || from > 3*time.Second-bandSlack || to < 3*time.Second+bandSlack || to > 3100*time.Millisecond {
		t.Fatalf("21 holds of 3s: band %v..%v ok %v, want about 3s-%v..3s+%v", from, to, ok, bandSlack, bandSlack)
	}

	// Holds of one length and of another, alternately (say two kinds of
	// work): the deviation stays near half the difference, and the band
	// would start at once: no forecast.
	var mixed holdStat
	for i := range 40 {
		mixed = mixed.add(time.Duration(1+2*(i%2)) * time.Second)
	}
	if from, to, ok := mixed.band(); ok {
		t.Fatalf("holds of 1s and 3s alternately: band %v..%v, want none", from, to)
	}
}

func TestHoldStatsBounded(t *testing.T) {
	var h holdStats
	for i := range holdNames + 50 {
		h.add(fmt.Sprint("n", i), time.Second)
	}
	h.add("n0", time.Second) // counted again or anew, never a panic
	if len(h.m) > holdNames {
		t.Fatalf("%d names kept, want at most %d", len(h.m), holdNames)
	}
	if s := h.of(fmt.Sprint("n", holdNames+49)); s.n != 1 || s.mean != time.Second {
		t.Fatalf("the last name: %+v", s)
	}
}

func TestRecordForecast(t *testing.T) {
	sent := time.UnixMilli(1_700_000_000_000)
	var s holdStat
	for range 20 {
		s = s.add(2 * time.Second)
	}
	r := record{Name: "n", Owner: "a"}.expecting(sent, s)
	since, from, to, ok := r.forecast()
	if !ok || !since.Equal(sent) || from.Sub(sent) < 1900*time.Millisecond || to.Sub(sent) > 2100*time.Millisecond || !from.Before(to) {
		t.Fatalf("forecast %v %v %v %v", since, from, to, ok)
	}
	if _, _, _, ok := r.taken("b", time.Second, nil).forecast(); ok {
		t.Fatal("taken keeps the previous holder's forecast")
	}
	if _, _, _, ok := r.released(sent).forecast(); ok {
		t.Fatal("released keeps a forecast")
	}
	if got := (record{Name: "n", Owner: "a"}).expecting(sent, holdStat{}); got.Since != 0 || got.ReleaseFrom != 0 || got.ReleaseTo != 0 {
		t.Fatalf("no statistics: want no forecast, got %+v", got)
	}
}

func TestPace(t *testing.T) {
	const base = 100 * time.Millisecond
	since := time.UnixMilli(1_700_000_000_000)
	held := record{Name: "n", Owner: "a", Since: since.UnixMilli(), ReleaseFrom: 2980, ReleaseTo: 3020}
	within := func(t *testing.T, got, lo, hi time.Duration) {
		t.Helper()
		if got < lo || got > hi {
			t.Fatalf("delay %v, want %v..%v", got, lo, hi)
		}
	}
	at := func(ms int) time.Time { return since.Add(time.Duration(ms) * time.Millisecond) }
	t.Run("no forecast", func(t *testing.T) {
		within(t, pace(record{Name: "n", Owner: "a"}, at(100), base), 80*time.Millisecond, 120*time.Millisecond)
	})
	t.Run("free record", func(t *testing.T) {
		free := held
		free.Owner = ""
		within(t, pace(free, at(100), base), 80*time.Millisecond, 120*time.Millisecond)
	})
	t.Run("long before the band", func(t *testing.T) {
		within(t, pace(held, at(100), base), sparsePoll*4/5, sparsePoll*6/5)
	})
	t.Run("just before the band", func(t *testing.T) {
		within(t, pace(held, at(2900), base), 80*time.Millisecond, 80*time.Millisecond)
	})
	t.Run("in a narrow band", func(t *testing.T) {
		within(t, pace(held, at(2990), base), densePollMin*4/5, densePollMin*6/5)
	})
	t.Run("after the band", func(t *testing.T) {
		within(t, pace(held, at(3020), base), 80*time.Millisecond, 120*time.Millisecond)
	})
	t.Run("a band from the start", func(t *testing.T) {
		wide := held
		wide.ReleaseFrom = 1
		within(t, pace(wide, at(500), base), 80*time.Millisecond, 120*time.Millisecond)
	})
}

// TestPaceSpendsNoMoreThanEvenPolls simulates a waiter that starts polling
// when a hold begins, for holds whose lengths match the forecast, and
// compares it with polls every base (jittered) throughout: per hold, no
// more polls on average, and a hand-over (release → first poll after it)
// at least 1.5 times as fast (measured: 8× for fixed holds, 3× for holds
// of 3..3.75 s, 2× for 500..700 ms; the delays' jitter is random, so the
// bound leaves room).
func TestPaceSpendsNoMoreThanEvenPolls(t *testing.T) {
	const base = 100 * time.Millisecond
	for _, c := range []struct {
		name     string
		min, max time.Duration // holds uniform in min..max
	}{
		{"fixed 3s", 3 * time.Second, 3 * time.Second},
		{"3s..3.75s", 3 * time.Second, 3750 * time.Millisecond},
		{"500ms..700ms", 500 * time.Millisecond, 700 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			hold := func() time.Duration { return c.min + time.Duration(rng.Int64N(int64(c.max-c.min)+1)) }
			var s holdStat
			for range 50 {
				s = s.add(hold())
			}
			since := time.UnixMilli(1_700_000_000_000)
			rec := record{Name: "n", Owner: "a"}.expecting(since, s)
			if _, _, _, ok := rec.forecast(); !ok {
				t.Fatalf("no forecast after 50 holds: %+v", s)
			}
			const n = 400
			var paced, even struct {
				polls int
				late  time.Duration
			}
			for range n {
				h := hold()
				p, l := simulate(h, func(el time.Duration) time.Duration { return pace(rec, since.Add(el), base) })
				paced.polls, paced.late = paced.polls+p, paced.late+l
				p, l = simulate(h, func(time.Duration) time.Duration { return jitter(base) })
				even.polls, even.late = even.polls+p, even.late+l
			}
			t.Logf("per hold: paced %.1f polls, %v late; even %.1f polls, %v late", float64(paced.polls)/n, paced.late/n,
				float64(even.polls)/n, even.late/n)
			if paced.polls > even.polls {
				t.Errorf("paced polls %d > even polls %d", paced.polls, even.polls)
			}
			if 3*paced.late > 2*even.late {
				t.Errorf("paced hand-over %v not 1.5 times as fast as even %v", paced.late/n, even.late/n)
			}
		})
	}
}

// simulate polls from 0 with delays from next until a poll finds the hold
// of length h over; it returns the polls and how long after the release
// the last one came.
func simulate(h time.Duration, next func(elapsed time.Duration) time.Duration) (int, time.Duration) {
	var el time.Duration
	polls := 1
	for el < h {
		el += next(el)
		polls++
	}
	return polls, el - h
}
