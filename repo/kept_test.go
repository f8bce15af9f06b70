package repo_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/ddbocc/ddbocc/repo"
)

// byOp is e's request count per operation since the last reset, and resets
// it.
func byOp(e *env) map[string]int64 {
	m := e.counter.ByOperation()
	e.counter.Reset()
	return m
}

func sameCounts(got map[string]int64, want map[string]int64) bool {
	return maps.Equal(got, want)
}

// An Update of a key its Repository wrote last writes at once on the item
// it kept: one request, no read. KeepItems 0 reads every time.
func TestKeptItem(t *testing.T) {
	t.Parallel()
	inc := func(a *Account) error { a.Balance++; return nil }
	for _, tc := range []struct {
		name string
		opt  func(*repo.Options)
		want map[string]int64 // requests of the 2nd and 3rd Update
	}{
		{"combined", func(*repo.Options) {}, map[string]int64{"UpdateItem": 2}},
		{"one by one", func(o *repo.Options) { o.DisableCombining = true }, map[string]int64{"UpdateItem": 2}},
		{"KeepItems 0", func(o *repo.Options) { o.KeepItems = 0 }, map[string]int64{"GetItem": 2, "UpdateItem": 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := newRepo[Account](t, e, tc.opt)
			mustCreate(t, r, Account{ID: "a"})
			ctx := context.Background()
			if _, err := r.Update(ctx, repo.Key("a"), inc); err != nil {
				t.Fatal(err)
			}
			if got := byOp(e); !sameCounts(got, map[string]int64{"GetItem": 1, "PutItem": 1, "UpdateItem": 1}) {
				t.Errorf("create and first Update sent %v", got)
			}
			var a Account
			for range 2 {
				var err error
				if a, err = r.Update(ctx, repo.Key("a"), inc); err != nil {
					t.Fatal(err)
				}
			}
			if got := byOp(e); !sameCounts(got, tc.want) {
				t.Errorf("2nd and 3rd Update sent %v, want %v", got, tc.want)
			}
			if a.Balance != 3 || a.Version != 4 {
				t.Errorf("got balance %d at v%d, want 3 at v4", a.Balance, a.Version)
			}
		})
	}
}

// A kept item another process has changed since fails the write's
// condition; fn runs again on the item the failed write returns, so no
// update is lost, and the key is read first while contended.
func TestKeptItemStale(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newRepo[Account](t, e)
	other := competitor[Account](t, e)
	ctx := context.Background()
	mustCreate(t, r, Account{ID: "a"})
	add := func(n int64) func(*Account) error { return func(a *Account) error { a.Balance += n; return nil } }
	if _, err := r.Update(ctx, repo.Key("a"), add(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Update(ctx, repo.Key("a"), add(100)); err != nil {
		t.Fatal(err)
	}
	byOp(e)
	a, err := r.Update(ctx, repo.Key("a"), add(1))
	if err != nil {
		t.Fatal(err)
	}
	if a.Balance != 102 || a.Version != 4 {
		t.Errorf("got balance %d at v%d, want 102 at v4: an update was lost", a.Balance, a.Version)
	}
	if got := byOp(e); !sameCounts(got, map[string]int64{"UpdateItem": 2}) {
		t.Errorf("Update on a stale kept item sent %v, want a refused and a stored UpdateItem", got)
	}
	// Just after a conflict the key is contended: the next Update reads.
	if _, err := r.Update(ctx, repo.Key("a"), add(1)); err != nil {
		t.Fatal(err)
	}
	if got := byOp(e); !sameCounts(got, map[string]int64{"GetItem": 1, "UpdateItem": 1}) {
		t.Errorf("Update of a contended key sent %v, want a read and a write", got)
	}
}

var errFull = errors.New("account full")

// A decision that writes nothing (fn fails, or says NoChange) is made on
// the current item, never only on a kept one that another process has
// changed since. The unsafe variant, which trusts the kept item, shows the
// test catches it.
func TestKeptItemDecision(t *testing.T) {
	t.Parallel()
	for _, full := range []error{repo.NoChange, errFull} {
		for _, combining := range []bool{true, false} {
			for _, unsafe := range []bool{false, true} {
				name := fmt.Sprintf("%v/combining=%v/unsafe=%v", full, combining, unsafe)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					problem := keptDecision(t, full, combining, unsafe)
					switch {
					case !unsafe && problem != "":
						t.Error(problem)
					case unsafe && problem == "":
						t.Error("the unsafe variant made its decision on the current item: the test cannot catch the bug")
					}
				})
			}
		}
	}
}

// keptDecision keeps an item with balance 70 in one repository, lowers
// the balance to 5 through another, and runs an Update that adds 1 below
// 60 and returns full at 60 or more. It returns what went wrong, if
// anything.
func keptDecision(t *testing.T, full error, combining, unsafe bool) string {
	e := newEnv(t)
	r := newRepo[Account](t, e, func(o *repo.Options) {
		o.DisableCombining = !combining
		if unsafe {
			repo.SetUnsafeTrustStale(o)
		}
	})
	other := competitor[Account](t, e)
	ctx := context.Background()
	mustCreate(t, r, Account{ID: "a"})
	set := func(n int64) func(*Account) error { return func(a *Account) error { a.Balance = n; return nil } }
	if _, err := r.Update(ctx, repo.Key("a"), set(70)); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Update(ctx, repo.Key("a"), set(5)); err != nil {
		t.Fatal(err)
	}
	var seen []int64
	a, err := r.Update(ctx, repo.Key("a"), func(a *Account) error {
		seen = append(seen, a.Balance)
		if a.Balance >= 60 {
			return full
		}
		a.Balance++
		return nil
	})
	if len(seen) == 0 || seen[0] != 70 {
		t.Fatalf("fn first saw %v, want the kept item (70): the test does not reach a stale item", seen)
	}
	switch {
	case err != nil:
		return fmt.Sprintf("Update returned %v, decided on the kept item (fn saw %v); the current balance is 5", err, seen)
	case a.Balance != 6 || a.Version != 4:
		return fmt.Sprintf("Update returned balance %d at v%d, want 6 at v4 (fn saw %v)", a.Balance, a.Version, seen)
	}
	return ""
}
