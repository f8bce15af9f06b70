package lease

import (
	"errors"
	"testing"
	"time"
)

// The decisions of run-once work are pure: these tests need no DynamoDB.

func TestWithMarkAndDoneOf(t *testing.T) {
	at := t0.Add(1234567 * time.Microsecond)
	rec := withMark(record{Name: "n", Owner: "", Token: 7, Version: 10}, me, at)
	if !rec.done() || !me.marked(rec) {
		t.Fatalf("withMark: %+v not marked by %+v", rec, me)
	}
	for _, h := range []holder{{owner: "me", token: 6}, {owner: "other", token: 7}} {
		if h.marked(rec) {
			t.Errorf("%+v: marked by %+v", rec, h)
		}
	}
	d := doneOf(rec)
	if d == nil || d.Name != "n" || d.By != "me" || d.Token != 7 || !d.At.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("doneOf = %+v, want by me, token 7, at %v", d, at.Truncate(time.Millisecond))
	}
	if !errors.Is(d, ErrDone) || errors.Is(d, ErrLost) {
		t.Errorf("DoneError %v: Is(ErrDone) %v", d, errors.Is(d, ErrDone))
	}
	if d := doneOf(record{Name: "n", Version: 3}); d != nil {
		t.Errorf("doneOf of an unmarked record = %+v", d)
	}
	if at := (record{Name: "n"}).doneAt(); !at.IsZero() {
		t.Errorf("doneAt without a mark = %v, want zero", at)
	}
}

func TestAfterReleaseDone(t *testing.T) {
	marked := withMark(record{Name: "n", Version: 10}, me, t0)
	free := record{Name: "n", Version: 10}
	// Freed with an earlier lease's mark (same owner, older token), or
	// marked by a later lease of another owner: not this write.
	earlier := withMark(free, holder{owner: "me", token: 3}, t0)
	later := withMark(record{Name: "n", Version: 13}, holder{owner: "thief", token: 11}, t0)
	thief := record{Name: "n", Owner: "thief", Token: 11, Version: 11}
	for _, tc := range []struct {
		name    string
		f       found
		cur     record
		retried bool
		want    release
		reason  Reason
		differs bool // from afterRelease
	}{
		{"stored", foundStored, marked, false, releaseDone, 0, false},
		{"stored on the second write", foundStored, marked, true, releaseDone, 0, false},
		{"a renewal of unknown outcome was stored", foundConflict, mine, false, releaseAgain, 0, false},
		{"taken over", foundConflict, thief, false, releaseLost, TakenOver, false},
		{"freed by someone else", foundConflict, free, false, releaseLost, ReleasedElsewhere, false},
		{"deleted", foundMissing, record{}, false, releaseLost, ReleasedElsewhere, false},
		{"unknown, read free with our mark: ours was stored", foundRead, marked, false, releaseDone, 0, false},
		{"unknown, read free without a mark: freed by another", foundRead, free, false, releaseLost, ReleasedElsewhere, true},
		{"unknown, read free with an earlier lease's mark", foundRead, earlier, false, releaseLost, ReleasedElsewhere, true},
		{"unknown, read free with a later lease's mark", foundRead, later, false, releaseLost, ReleasedElsewhere, true},
		{"unknown, read still ours", foundRead, mine, false, releaseAgain, 0, false},
		{"unknown, read another owner's", foundRead, thief, false, releaseLost, TakenOver, false},
		{"unknown, read failed", foundFailed, record{}, false, releaseUnknown, 0, false},
	} {
		got, le := afterReleaseDone(tc.f, tc.cur, me, tc.retried)
		if got != tc.want || (le == nil) != (tc.reason == 0) || (le != nil && le.Reason != tc.reason) {
			t.Errorf("%s: afterReleaseDone = %v %+v, want %v %v", tc.name, got, le, tc.want, tc.reason)
		}
		if plain, _ := afterRelease(tc.f, tc.cur, me, tc.retried); (plain != got) != tc.differs {
			t.Errorf("%s: afterRelease = %v, afterReleaseDone = %v; want them to differ: %v", tc.name, plain, got, tc.differs)
		}
	}
}

func TestMarkResult(t *testing.T) {
	marked := withMark(record{Name: "n", Version: 10}, me, t0)
	other := withMark(record{Name: "n", Version: 10}, holder{owner: "me", token: 3}, t0)
	lost := &LostError{Name: "n", Token: 7, Reason: TakenOver, Owner: "thief"}
	for _, tc := range []struct {
		name     string
		ended    error
		last     record
		ok       bool
		released bool  // matches ErrReleased too
		lost     error // the *LostError it wraps
	}{
		{"stored this lease's mark", ErrReleased, marked, true, false, nil},
		{"released without a mark", ErrReleased, record{Name: "n", Version: 10}, false, true, nil},
		{"released with an earlier lease's mark", ErrReleased, other, false, true, nil},
		{"lost", lost, mine, false, false, lost},
		{"lost after a mark was read", lost, marked, false, false, lost},
	} {
		err := markResult("n", me, tc.ended, tc.last)
		if tc.ok {
			if err != nil {
				t.Errorf("%s: %v, want nil", tc.name, err)
			}
			continue
		}
		var le *LostError
		if !errors.Is(err, ErrLost) || errors.Is(err, ErrReleased) != tc.released || errors.Is(err, ErrDone) {
			t.Errorf("%s: %v: want ErrLost, ErrReleased %v", tc.name, err, tc.released)
		}
		if tc.lost != nil && (!errors.As(err, &le) || le != tc.lost) {
			t.Errorf("%s: %v does not wrap %v", tc.name, err, tc.lost)
		}
	}
	if err := markResult("n", me, nil, mine); err == nil || errors.Is(err, ErrLost) {
		t.Errorf("still held: %v", err)
	}
}
