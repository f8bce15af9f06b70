package lease

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/repo"
)

// The decisions are pure: these tests need no DynamoDB.

var (
	t0   = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	me   = holder{owner: "me", token: 7}
	mine = record{Name: "n", Owner: "me", Token: 7, Version: 9}
)

func TestLearn(t *testing.T) {
	cur := record{Name: "n", Owner: "other", Version: 4}
	for _, tc := range []struct {
		name string
		err  error
		want found
		rec  record
	}{
		{"stored", nil, foundStored, mine},
		{"conflict", fmt.Errorf("save: %w", &repo.ConflictError[record]{Expected: 3, Actual: 4, Current: cur}), foundConflict, cur},
		{"create conflict", &repo.ConflictError[record]{Expected: 0, Actual: 4, Current: cur}, foundConflict, cur},
		{"missing", fmt.Errorf("save: %w", repo.ErrNotFound), foundMissing, record{}},
		{"unknown", fmt.Errorf("save: %w", repo.ErrOutcomeUnknown), foundUnknown, record{}},
		{"other", context.DeadlineExceeded, foundFailed, record{}},
	} {
		if f, rec := learn(mine, tc.err); f != tc.want || rec.Owner != tc.rec.Owner || rec.Version != tc.rec.Version {
			t.Errorf("%s: learn = %v %+v, want %v %+v", tc.name, f, rec, tc.want, tc.rec)
		}
	}
}

func TestJudge(t *testing.T) {
	held := record{Name: "n", Owner: "other", Token: 3, Version: 5, Duration: 10_000, Expires: t0.Add(5 * time.Second).Unix(), Stamp: "s1"}
	expired := held
	expired.Expires = t0.Add(-time.Minute).Unix()
	moved := held
	moved.Version, moved.Stamp = 6, "s2"
	// Deleted and created anew by another holder: version 1 again. The
	// watch was of this owner's first hold, at version 1 too.
	recreated := record{Name: "n", Owner: "other", Token: 1, Version: 1, Duration: 10_000, Stamp: "s3"}
	first := recreated
	first.Owner, first.Stamp = "gone", "s0"
	for _, tc := range []struct {
		name     string
		s        sighting
		skew     time.Duration
		want     verdict
		watch    watch // for waitHeld
		wait     time.Duration
		takeover bool
	}{
		{"free", sighting{rec: record{Name: "n", Version: 4}, seen: t0}, 0, takeFree, watch{}, 0, false},
		{"missing", sighting{rec: record{Name: "n"}, seen: t0}, 0, takeFree, watch{}, 0, false},
		{"left by our own unknown write", sighting{rec: held, unheld: true, seen: t0}, 0, takeFree, watch{}, 0, false},
		{"held, first sighting", sighting{rec: held, seen: t0}, 0, waitHeld, watch{writtenAs(held), t0}, 10 * time.Second, false},
		{"held, seen 4s unchanged", sighting{rec: held, seen: t0.Add(4 * time.Second), prior: watch{writtenAs(held), t0}, watched: true},
			0, waitHeld, watch{writtenAs(held), t0}, 6 * time.Second, false},
		{"held, seen just under its duration", sighting{rec: held, seen: t0.Add(10*time.Second - 1), prior: watch{writtenAs(held), t0}, watched: true},
			0, waitHeld, watch{writtenAs(held), t0}, 1, false},
		{"held, seen unchanged a full duration", sighting{rec: held, seen: t0.Add(10 * time.Second), prior: watch{writtenAs(held), t0}, watched: true},
			0, takeOver, watch{}, 0, true},
		{"renewed since the last sighting", sighting{rec: moved, seen: t0.Add(time.Hour), prior: watch{writtenAs(held), t0}, watched: true},
			0, waitHeld, watch{writtenAs(moved), t0.Add(time.Hour)}, 10 * time.Second, false},
		{"deleted and created anew at the watched version", sighting{rec: recreated, seen: t0.Add(time.Hour), prior: watch{writtenAs(first), t0}, watched: true},
			0, waitHeld, watch{writtenAs(recreated), t0.Add(time.Hour)}, 10 * time.Second, false},
		{"created anew by the same owner", sighting{rec: recreated, seen: t0.Add(time.Hour), prior: watch{written{1, "other", 1, "s0"}, t0}, watched: true},
			0, waitHeld, watch{writtenAs(recreated), t0.Add(time.Hour)}, 10 * time.Second, false},
		{"expired past the skew", sighting{rec: expired, seen: t0}, 30 * time.Second, takeOver, watch{}, 0, true},
		{"expired within the skew", sighting{rec: expired, seen: t0}, 2 * time.Minute, waitHeld, watch{writtenAs(held), t0}, 10 * time.Second, false},
		{"expired, skew off", sighting{rec: expired, seen: t0}, 0, waitHeld, watch{writtenAs(held), t0}, 10 * time.Second, false},
		{"live, skew on", sighting{rec: held, seen: t0}, time.Second, waitHeld, watch{writtenAs(held), t0}, 10 * time.Second, false},
	} {
		v, w, wait := judge(tc.s, tc.skew)
		if v != tc.want || (v == waitHeld && (w != tc.watch || wait != tc.wait)) {
			t.Errorf("%s: judge = %v %+v %v, want %v %+v %v", tc.name, v, w, wait, tc.want, tc.watch, tc.wait)
		}
	}
}

func TestAfterTake(t *testing.T) {
	free := record{Name: "n", Version: 5}
	other := record{Name: "n", Owner: "other", Version: 5}
	for _, tc := range []struct {
		f    found
		cur  record
		last bool
		want taking
	}{
		{foundStored, mine, false, took},
		{foundStored, mine, true, took},
		{foundConflict, free, false, takeAgain}, // freed since it was read
		{foundConflict, free, true, takeHeld},
		{foundConflict, other, false, takeAgain}, // someone else wrote first, or it was not read: judge it
		{foundConflict, other, true, takeHeld},
		{foundMissing, record{}, false, takeAgain}, // deleted since it was read
		{foundMissing, record{}, true, takeFailed},
		{foundUnknown, record{}, false, takeUnsure},
		{foundUnknown, record{}, true, takeUnsure},
		{foundFailed, record{}, false, takeFailed},
	} {
		if got := afterTake(tc.f, tc.cur, tc.last); got != tc.want {
			t.Errorf("afterTake(%v, owner %q, last %v) = %v, want %v", tc.f, tc.cur.Owner, tc.last, got, tc.want)
		}
	}
}

func TestAfterRenew(t *testing.T) {
	for _, tc := range []struct {
		name   string
		f      found
		cur    record
		want   renewal
		reason Reason
		owner  string
	}{
		{"stored", foundStored, mine, renewed, 0, ""},
		{"an earlier renewal of unknown outcome was stored", foundConflict, mine, renewBehind, 0, ""},
		{"taken over", foundConflict, record{Owner: "thief", Token: 10}, renewLost, TakenOver, "thief"},
		{"same owner, another token", foundConflict, record{Owner: "me", Token: 10}, renewLost, TakenOver, "me"},
		{"freed by someone else", foundConflict, record{Token: 7}, renewLost, ReleasedElsewhere, ""},
		{"deleted", foundMissing, record{}, renewLost, ReleasedElsewhere, ""},
		{"outcome unknown", foundUnknown, record{}, renewSoon, 0, ""},
		{"failed", foundFailed, record{}, renewSoon, 0, ""},
	} {
		got, le := afterRenew(tc.f, tc.cur, me)
		if got != tc.want || (le == nil) != (tc.reason == 0) || (le != nil && (le.Reason != tc.reason || le.Owner != tc.owner)) {
			t.Errorf("%s: afterRenew = %v %+v, want %v %v %q", tc.name, got, le, tc.want, tc.reason, tc.owner)
		}
	}
}

func TestAfterRelease(t *testing.T) {
	free := record{Name: "n", Version: 10}
	thief := record{Name: "n", Owner: "thief", Token: 11, Version: 11}
	for _, tc := range []struct {
		name    string
		f       found
		cur     record
		retried bool
		want    release
		reason  Reason
	}{
		{"stored", foundStored, free, false, releaseDone, 0},
		{"stored on the second write", foundStored, free, true, releaseDone, 0},
		{"a renewal of unknown outcome was stored", foundConflict, mine, false, releaseAgain, 0},
		{"still ours after the second write: given up as lost", foundConflict, mine, true, releaseLost, TakenOver},
		{"taken over", foundConflict, thief, false, releaseLost, TakenOver},
		{"freed by someone else", foundConflict, free, false, releaseLost, ReleasedElsewhere},
		{"deleted", foundMissing, record{}, false, releaseLost, ReleasedElsewhere},
		{"unknown, read free: ours was stored", foundRead, free, false, releaseDone, 0},
		{"unknown, read still ours", foundRead, mine, false, releaseAgain, 0},
		{"unknown, read still ours after the second write", foundRead, mine, true, releaseUnknown, 0},
		{"unknown, read another owner's", foundRead, thief, false, releaseLost, TakenOver},
		{"unknown, read failed", foundFailed, record{}, false, releaseUnknown, 0},
		{"failed (ctx done)", foundFailed, record{}, true, releaseUnknown, 0},
	} {
		got, le := afterRelease(tc.f, tc.cur, me, tc.retried)
		if got != tc.want || (le == nil) != (tc.reason == 0) || (le != nil && le.Reason != tc.reason) {
			t.Errorf("%s: afterRelease = %v %+v, want %v %v", tc.name, got, le, tc.want, tc.reason)
		}
	}
}

func TestStoredUnsure(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tokens []int64
		cur    record
		found  bool
		kept   []int64
	}{
		{"ours stored", []int64{4, 6}, record{Owner: "me", Token: 6, Version: 6}, true, nil},
		{"ours, renewed since: a lease of ours, not unheld", []int64{6}, record{Owner: "me", Token: 6, Version: 7}, false, nil},
		{"not yet reached", []int64{4, 6}, record{Owner: "other", Token: 5, Version: 5}, false, []int64{6}},
		{"superseded", []int64{4, 5}, record{Owner: "other", Token: 5, Version: 5}, false, nil},
		{"another owner at our token", []int64{5}, record{Owner: "other", Token: 5, Version: 5}, false, nil},
		{"none", nil, record{Owner: "me", Token: 1, Version: 1}, false, nil},
	} {
		found, kept := storedUnsure(tc.tokens, tc.cur, "me")
		if found != tc.found || !slices.Equal(kept, tc.kept) {
			t.Errorf("%s: storedUnsure = %v %v, want %v %v", tc.name, found, kept, tc.found, tc.kept)
		}
	}
}

// The memory of names is bounded: a name is forgotten once acquired, and
// once no one has looked at it for its keep.
func TestMemory(t *testing.T) {
	var y memory
	y.note("a", watch{written{version: 1}, t0}, t0, time.Second)
	y.addUnsure("b", 3, t0, time.Second)
	if w, ok := y.recall("a"); !ok || w != (watch{written{version: 1}, t0}) {
		t.Fatalf("recall a = %+v %v", w, ok)
	}
	y.forget("a")
	if _, ok := y.recall("a"); ok || y.len() != 1 {
		t.Fatalf("a not forgotten when acquired: %d names", y.len())
	}
	if !y.storedUnsure("b", record{Owner: "me", Token: 3, Version: 3}, "me") || y.len() != 0 {
		t.Fatalf("b: unsure token not found and dropped (%d names)", y.len())
	}
	// Many names looked at once and then no more: pruned as new names come.
	for i := range 100 {
		y.note(fmt.Sprint("old", i), watch{written{version: 1}, t0}, t0, time.Second)
	}
	later := t0.Add(2 * time.Second)
	for i := range 40 {
		y.note(fmt.Sprint("new", i), watch{written{version: 1}, later}, later, time.Second)
	}
	if n := y.len(); n != 40 {
		t.Fatalf("%d names remembered, want the 40 new ones (the old ones pruned)", n)
	}
	if _, ok := y.recall("new39"); !ok {
		t.Fatal("a name just looked at was pruned")
	}
}

// Options: defaults, then the functions, then the derived defaults, then
// validation.
func TestOptionsOrder(t *testing.T) {
	o := defaultOptions()
	o.Duration = 30 * time.Second
	o.PollInterval = time.Second
	o.derive()
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	if o.HeartbeatInterval != 10*time.Second || o.SafetyMargin != 3*time.Second || o.MaxPollInterval != time.Second ||
		o.RecordTTL != defaultRecordTTL || o.Owner == "" || o.Clock == nil {
		t.Fatalf("options %+v", o)
	}
	tm := o.timing(3 * time.Second)
	if tm != (timing{duration: 3 * time.Second, interval: time.Second, margin: 300 * time.Millisecond}) {
		t.Fatalf("timing of a 3s lease: %+v", tm)
	}
	if _, err := o.acquireOptions([]func(*AcquireOptions){func(a *AcquireOptions) { a.Duration = -1 }}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("AcquireOptions.Duration -1: %v", err)
	}
}
