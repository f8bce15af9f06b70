package repo_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/repo"
)

// Upsert of a missing key creates the item with one PutItem and no read;
// the next Upsert through the same Repository updates the item the first
// one kept, with one UpdateItem.
func TestUpsertCreatesMissing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newRepo[Account](t, e)
	ctx := context.Background()
	var gave Account
	a, err := r.Upsert(ctx, repo.Key("a1"), func(a *Account) error { gave = *a; a.Balance += 10; a.Owner = "ann"; return nil })
	if err != nil || a.Balance != 10 || a.Version != 1 || a.ID != "a1" {
		t.Fatalf("Upsert of a missing key = %+v, %v; want balance 10 at version 1", a, err)
	}
	if gave != (Account{ID: "a1"}) {
		t.Errorf("fn was given %+v, want the zero item with the key set", gave)
	}
	if got := byOp(e); !sameCounts(got, map[string]int64{"PutItem": 1}) {
		t.Errorf("Upsert of a missing key sent %v, want one PutItem", got)
	}
	a, err = r.Upsert(ctx, repo.Key("a1"), func(a *Account) error { a.Balance += 5; return nil })
	if err != nil || a.Balance != 15 || a.Version != 2 || a.Owner != "ann" {
		t.Fatalf("second Upsert = %+v, %v; want balance 15 at version 2", a, err)
	}
	if got := byOp(e); !sameCounts(got, map[string]int64{"UpdateItem": 1}) {
		t.Errorf("Upsert of a kept item sent %v, want one UpdateItem", got)
	}
	got, err := r.Get(ctx, repo.Key("a1"))
	if err != nil || got != a {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, a)
	}
}

// Upsert of an existing item another Repository wrote: the create fails
// and returns the item, fn runs on it and the update stores it. With
// several Upserts queued, each hands the next the item it stored.
func TestUpsertUpdatesExisting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := newRepo[Account](t, e)
	mustCreate(t, setup, Account{ID: "a1", Owner: "ann", Balance: 100})
	r := competitor[Account](t, e)
	ctx := context.Background()
	e.counter.Reset()
	calls := 0
	a, err := r.Upsert(ctx, repo.Key("a1"), func(a *Account) error { calls++; a.Balance -= 30; return nil })
	if err != nil || a.Balance != 70 || a.Version != 2 || a.Owner != "ann" {
		t.Fatalf("Upsert of an existing item = %+v, %v; want balance 70 at version 2", a, err)
	}
	if calls != 2 {
		t.Errorf("fn ran %d times, want 2 (on the zero item, then on the stored one)", calls)
	}
	if got := byOp(e); !sameCounts(got, map[string]int64{"PutItem": 1, "UpdateItem": 1}) {
		t.Errorf("sent %v, want a failed PutItem and an UpdateItem, no read", got)
	}
	// Updates after an Upsert start from the item it stored.
	if _, err := r.Update(ctx, repo.Key("a1"), func(a *Account) error { a.Balance++; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := byOp(e); !sameCounts(got, map[string]int64{"UpdateItem": 1}) {
		t.Errorf("Update after an Upsert sent %v, want one UpdateItem", got)
	}
	got, _ := setup.Get(ctx, repo.Key("a1"))
	if got.Balance != 71 || got.Version != 3 {
		t.Fatalf("stored %+v, want balance 71 at version 3", got)
	}
}

// Concurrent Upserts of missing keys, from two Repositories (two
// processes) and from many goroutines of one: every fn is applied exactly
// once, whichever create wins.
func TestUpsertConcurrentMissing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r1 := newRepo[Account](t, e)
	r2 := competitor[Account](t, e)
	ctx := context.Background()
	const keys, perRepo = 10, 4
	var wg sync.WaitGroup
	var errs atomic.Int64
	for k := range keys {
		for _, r := range []*repo.Repository[Account]{r1, r2} {
			for range perRepo {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := r.Upsert(ctx, repo.Key(fmt.Sprint("k", k)), func(a *Account) error { a.Balance++; return nil }); err != nil {
						t.Error(err)
						errs.Add(1)
					}
				}()
			}
		}
	}
	wg.Wait()
	if errs.Load() > 0 {
		t.FailNow()
	}
	for k := range keys {
		a, err := r1.Get(ctx, repo.Key(fmt.Sprint("k", k)))
		if err != nil || a.Balance != 2*perRepo || a.Version != 2*perRepo {
			t.Errorf("k%d: %+v, %v; want balance and version %d", k, a, err, 2*perRepo)
		}
	}
}

// Two Upserts of one missing key in two Repositories that both decide on
// the zero item before either writes: one create wins, the other fails,
// gets the created item back and applies its fn to it.
func TestUpsertRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r1 := newRepo[Account](t, e)
	r2 := competitor[Account](t, e)
	ctx := context.Background()
	var both sync.WaitGroup
	both.Add(2)
	var runs atomic.Int64
	upsert := func(r *repo.Repository[Account], owner string) (Account, error) {
		first := true
		return r.Upsert(ctx, repo.Key("a1"), func(a *Account) error {
			runs.Add(1)
			if first { // both decide on the zero item before either writes
				first = false
				both.Done()
				both.Wait()
			}
			a.Balance++
			a.Note += owner
			return nil
		})
	}
	var wg sync.WaitGroup
	results := make([]Account, 2)
	for i, r := range []*repo.Repository[Account]{r1, r2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := upsert(r, fmt.Sprint(i))
			if err != nil {
				t.Error(err)
			}
			results[i] = a
		}()
	}
	wg.Wait()
	got, _ := r1.Get(ctx, repo.Key("a1"))
	if got.Balance != 2 || got.Version != 2 || len(got.Note) != 2 || runs.Load() != 3 {
		t.Fatalf("stored %+v after %d fn runs; want balance 2 at version 2 from 3 runs", got, runs.Load())
	}
	if results[0].Version+results[1].Version != 3 {
		t.Errorf("results %+v, want versions 1 and 2", results)
	}
}

// The answer of an Upsert's create is lost after DynamoDB stored it: the
// item's write id says it is ours, and fn's effect is stored once.
func TestUpsertLostCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := newRepo[Account](t, e)
	c := &ddblocal.RequestCounter{}
	r := mustNew[Account](t, lossyClient(t, "PutItem", c), e.table, fastRetry)
	ctx := context.Background()
	calls := 0
	a, err := r.Upsert(ctx, repo.Key("a1"), func(a *Account) error { calls++; a.Balance += 7; return nil })
	if err != nil || a.Balance != 7 || a.Version != 1 {
		t.Fatalf("Upsert after a lost create = %+v, %v; want balance 7 at version 1", a, err)
	}
	got, _ := setup.Get(ctx, repo.Key("a1"))
	if got.Balance != 7 || got.Version != 1 || calls != 1 {
		t.Fatalf("stored %+v after %d fn runs; want balance 7 at version 1 from one run", got, calls)
	}
	// The lost create is never sent again; a read finds it.
	if ops := c.ByOperation(); ops["PutItem"] != 1 || ops["GetItem"] != 1 || ops["UpdateItem"] != 0 {
		t.Errorf("requests %v, want 1 PutItem and 1 GetItem", ops)
	}
	// The same with a naive loop stores fn's effect twice: the test
	// catches a double apply.
	naive := mustNew[Account](t, lossyClient(t, "PutItem", c), e.table, fastRetry, repo.SetUnsafeNoWriteIDs)
	if _, err := naive.Upsert(ctx, repo.Key("a2"), func(a *Account) error { a.Balance += 7; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, _ := setup.Get(ctx, repo.Key("a2")); got.Balance != 14 {
		t.Errorf("naive Upsert after a lost create stored balance %d, want the double apply 14", got.Balance)
	}
}

// A create whose answer was lost, and another writer's item in its place:
// the create may still land once that item is deleted, so Upsert says the
// outcome is unknown instead of applying fn to the other item.
func TestUpsertLostCreateOtherItem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := newRepo[Account](t, e)
	ctx := context.Background()
	client, tr := faults.Client(ddblocal.Endpoint(t), faults.Config{Ops: []string{"PutItem"}})
	tr.Script(faults.Reset) // not sent, but the client cannot know
	tr.AfterFault = func(string, faults.Decision) {
		if _, err := setup.Create(ctx, Account{ID: "a1", Balance: 100}); err != nil {
			t.Error(err)
		}
	}
	r := mustNew[Account](t, client, e.table, fastRetry)
	calls := 0
	_, err := r.Upsert(ctx, repo.Key("a1"), func(a *Account) error { calls++; a.Balance++; return nil })
	if !errors.Is(err, repo.ErrOutcomeUnknown) {
		t.Fatalf("Upsert = %v, want ErrOutcomeUnknown", err)
	}
	got, _ := setup.Get(ctx, repo.Key("a1"))
	if got.Balance != 100 || got.Version != 1 || calls != 1 {
		t.Fatalf("stored %+v after %d fn runs; want the other item untouched, fn run once", got, calls)
	}
}

// NoChange or an error from fn on a missing item: nothing is written; the
// decision is confirmed by a read first. NoChange returns the zero item
// with the key set at version 0, and no error.
func TestUpsertNoWriteOnMissing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newRepo[Account](t, e)
	ctx := context.Background()
	a, err := r.Upsert(ctx, repo.Key("a1"), func(a *Account) error { a.Balance = 5; return repo.NoChange })
	if err != nil || a != (Account{ID: "a1"}) {
		t.Fatalf("Upsert with NoChange on a missing key = %+v, %v; want the zero item with its key, nil", a, err)
	}
	if got := byOp(e); !sameCounts(got, map[string]int64{"GetItem": 1}) {
		t.Errorf("sent %v, want one read", got)
	}
	boom := errors.New("boom")
	if _, err := r.Upsert(ctx, repo.Key("a1"), func(*Account) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Upsert with a failing fn = %v, want boom", err)
	}
	if _, err := r.Get(ctx, repo.Key("a1")); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("Get = %v, want ErrNotFound", err)
	}
	// A decision that writes nothing, made on the assumed missing item,
	// is made again on the stored one.
	mustCreate(t, r, Account{ID: "a2", Balance: 9})
	other := competitor[Account](t, e)
	a, err = other.Upsert(ctx, repo.Key("a2"), func(a *Account) error {
		if a.Version == 0 {
			return repo.NoChange
		}
		a.Balance++
		return nil
	})
	if err != nil || a.Balance != 10 || a.Version != 2 {
		t.Fatalf("Upsert = %+v, %v; want balance 10 at version 2", a, err)
	}
	// fn may not change the key.
	_, err = r.Upsert(ctx, repo.Key("a3"), func(a *Account) error { a.ID = "zz"; return nil })
	if !errors.Is(err, repo.ErrInvalidArgument) {
		t.Fatalf("Upsert changing the key = %v, want ErrInvalidArgument", err)
	}
	for _, k := range []string{"a3", "zz"} {
		if _, err := r.Get(ctx, repo.Key(k)); !errors.Is(err, repo.ErrNotFound) {
			t.Errorf("Get(%s) = %v, want ErrNotFound", k, err)
		}
	}
}

// An item the Repository kept was deleted by another: the update fails
// with no item, and Upsert creates it anew from the zero item.
func TestUpsertRecreatesDeleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newRepo[Account](t, e)
	other := competitor[Account](t, e)
	ctx := context.Background()
	inc := func(a *Account) error { a.Balance++; return nil }
	if _, err := r.Upsert(ctx, repo.Key("a1"), inc); err != nil {
		t.Fatal(err)
	}
	if err := other.DeleteKey(ctx, repo.Key("a1")); err != nil {
		t.Fatal(err)
	}
	e.counter.Reset()
	a, err := r.Upsert(ctx, repo.Key("a1"), inc)
	if err != nil || a.Balance != 1 || a.Version != 1 {
		t.Fatalf("Upsert of a deleted kept item = %+v, %v; want balance 1 at version 1", a, err)
	}
	if got := byOp(e); !sameCounts(got, map[string]int64{"UpdateItem": 1, "PutItem": 1}) {
		t.Errorf("sent %v, want a failed UpdateItem and a PutItem", got)
	}
}

// Upsert interleaved with combined Updates of the same key in one
// Repository: every fn applied once.
func TestUpsertWithCombinedUpdates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newRepo[Account](t, e)
	ctx := context.Background()
	var wg sync.WaitGroup
	const n = 16
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inc := func(a *Account) error { a.Balance++; return nil }
			var err error
			if i%2 == 0 {
				_, err = r.Upsert(ctx, repo.Key("a1"), inc)
			} else {
				_, err = r.Update(ctx, repo.Key("a1"), inc)
				if errors.Is(err, repo.ErrNotFound) {
					_, err = r.Upsert(ctx, repo.Key("a1"), inc)
				}
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	a, err := r.Get(ctx, repo.Key("a1"))
	if err != nil || a.Balance != n {
		t.Fatalf("stored %+v, %v; want balance %d", a, err, n)
	}
}
