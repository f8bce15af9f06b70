package lease

import (
	"testing"
	"time"
)

// A free record reserved for another owner is judged like a held one, for
// the reservation's duration; reserved for this owner, it is free.
func TestJudgeReserved(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	res := record{Name: "n", Version: 7, Stamp: "s", ReservedFor: "w", ReservedMs: 1000}
	for _, tc := range []struct {
		name string
		s    sighting
		want verdict
		wait time.Duration
	}{
		{"reserved for me", sighting{rec: res, me: "w", seen: t0}, takeFree, 0},
		{"reserved for another, first sighting", sighting{rec: res, me: "x", seen: t0}, waitHeld, time.Second},
		{"reserved for another, seen 400ms", sighting{rec: res, me: "x", seen: t0.Add(400 * time.Millisecond),
			prior: watch{writtenAs(res), t0}, watched: true}, waitHeld, 600 * time.Millisecond},
		{"reserved for another, seen the whole reservation", sighting{rec: res, me: "x", seen: t0.Add(time.Second),
			prior: watch{writtenAs(res), t0}, watched: true}, takeOver, 0},
		{"not reserved", sighting{rec: record{Name: "n", Version: 7}, me: "x", seen: t0}, takeFree, 0},
	} {
		v, _, wait := judge(tc.s, 0)
		if v != tc.want || wait != tc.wait {
			t.Errorf("%s: judge = %v %v, want %v %v", tc.name, v, wait, tc.want, tc.wait)
		}
	}
	// An acquiring write clears the reservation.
	if got := res.taken("w", time.Second, nil); got.ReservedFor != "" || got.ReservedMs != 0 || got.Owner != "w" || got.Token != 8 {
		t.Errorf("taken = %+v", got)
	}
}

// A release gives way only to a fresh mark of another owner.
func TestYieldTo(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name string
		w    waiterMark
		to   string
	}{
		{"empty slot", waiterMark{}, ""},
		{"own mark", waiterMark{owner: "me", at: now}, ""},
		{"fresh mark", waiterMark{owner: "w", at: now.Add(-markStale)}, "w"},
		{"stale mark", waiterMark{owner: "w", at: now.Add(-markStale - time.Millisecond)}, ""},
	} {
		if to, ok := yieldTo(tc.w, "me", now); to != tc.to || ok != (tc.to != "") {
			t.Errorf("%s: yieldTo = %q %v, want %q", tc.name, to, ok, tc.to)
		}
	}
}

// A turn ends after streakHolds holds and streakFor, or streakMax; a
// waiter marks on the poll after one that found the name held, then every
// markEvery.
func TestStreakAndPolling(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		s    streak
		at   time.Duration
		done bool
	}{
		{streak{t0, streakHolds}, streakFor - 1, false},
		{streak{t0, streakHolds - 1}, streakFor, false},
		{streak{t0, streakHolds}, streakFor, true},
		{streak{t0, 1}, streakMax, true},
	} {
		if got := tc.s.done(t0.Add(tc.at)); got != tc.done {
			t.Errorf("%+v at %v: done %v, want %v", tc.s, tc.at, got, tc.done)
		}
	}
	var p polling
	if p = p.next(t0, false); p.mark || !p.since.IsZero() {
		t.Fatalf("after a poll that did not find the name held: %+v", p)
	}
	if p = p.next(t0, true); !p.mark || !p.since.Equal(t0) {
		t.Fatalf("after the first held poll: %+v", p)
	}
	if p = p.next(t0.Add(100*time.Millisecond), true); p.mark {
		t.Fatalf("marks again after 100ms: %+v", p)
	}
	if p = p.next(t0.Add(markEvery), true); !p.mark || !p.since.Equal(t0) {
		t.Fatalf("no mark after markEvery, or the wait restarted: %+v", p)
	}
}
