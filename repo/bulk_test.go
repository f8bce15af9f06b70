package repo_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/repo"
)

// bulkKeys are the keys of items, for BatchGet.
func bulkKeys(items []Account) []repo.ItemKey {
	keys := make([]repo.ItemKey, len(items))
	for i, a := range items {
		keys[i] = repo.Key(a.ID)
	}
	return keys
}

// SaveAll of 50 new items, 8 at a time, then of the 50 stored ones
// changed: one write each, every item stored at its version+1.
func TestSaveAll50(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := &inFlight{}
	accounts := mustNew[Account](t, ddblocal.Client(t, e.counter.Option(), f.option()), e.table)
	if err := accounts.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	items := make([]Account, 50)
	for i := range items {
		items[i] = Account{ID: fmt.Sprintf("a%02d", i), Balance: int64(i)}
	}
	conc := func(o *repo.BulkOptions) { o.Concurrency = 8 }
	for round, want := range []int64{1, 2} {
		e.counter.Reset()
		results, err := accounts.SaveAll(ctx, items, conc)
		if err != nil {
			t.Fatal(err)
		}
		if len(results) != len(items) {
			t.Fatalf("%d results for %d items", len(results), len(items))
		}
		for i, res := range results {
			if res.Err != nil || res.Item.ID != items[i].ID || res.Item.Version != want || res.Item.Balance != items[i].Balance {
				t.Fatalf("round %d, item %d: %+v, %v; want %s at version %d", round, i, res.Item, res.Err, items[i].ID, want)
			}
			items[i] = res.Item
			items[i].Balance += 100
		}
		t.Logf("round %d: at most %d writes in flight", round, f.most.Load())
		if m := f.most.Load(); m > 8 || m < 2 {
			t.Errorf("round %d: at most %d writes in flight at once, want 2 to 8", round, m)
		}
		f.most.Store(0)
		op := map[int64]string{1: "PutItem", 2: "UpdateItem"}[want]
		if ops := e.counter.ByOperation(); ops[op] != 50 || e.counter.Count() != 50 {
			t.Fatalf("round %d: requests %v, want 50 %s", round, ops, op)
		}
	}
	res, err := accounts.BatchGet(ctx, bulkKeys(items))
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range res.Items {
		if a.Version != 2 || a.Balance != int64(i)+100 {
			t.Fatalf("stored %+v, want balance %d at version 2", a, i+100)
		}
	}
}

// A stale item and a taken key among good ones: their errors in their
// positions, the others stored.
func TestSaveAllConflicts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	ctx := context.Background()
	var items []Account
	for i := 0; i < 20; i++ {
		items = append(items, mustCreate(t, accounts, Account{ID: fmt.Sprintf("a%02d", i)}))
	}
	mustCreate(t, accounts, Account{ID: "taken", Balance: 7})
	// Another process moves a07 on: our copy is stale.
	other := competitor[Account](t, e)
	theirs := items[7]
	theirs.Balance = 999
	if _, err := other.Save(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	for i := range items {
		items[i].Balance = 1
	}
	items = append(items, Account{ID: "taken", Balance: 1}, Account{ID: "new", Balance: 1})

	results, err := accounts.SaveAll(ctx, items, func(o *repo.BulkOptions) { o.Concurrency = 3 })
	if err != nil {
		t.Fatal(err)
	}
	for i, res := range results {
		switch items[i].ID {
		case "a07":
			var ce *repo.ConflictError[Account]
			if !errors.Is(res.Err, repo.ErrConflict) || !errors.As(res.Err, &ce) || ce.Expected != 1 || ce.Actual != 2 || ce.Current.Balance != 999 {
				t.Errorf("stale item %d: %+v, %v; want a ConflictError expecting 1, stored 2 with balance 999", i, res.Item, res.Err)
			}
			if res.Item != (Account{}) {
				t.Errorf("stale item %d: Item %+v, want the zero value", i, res.Item)
			}
		case "taken":
			var ce *repo.ConflictError[Account]
			if !errors.Is(res.Err, repo.ErrAlreadyExists) || !errors.As(res.Err, &ce) || ce.Current.Balance != 7 {
				t.Errorf("taken key %d: %v; want ErrAlreadyExists with the stored item", i, res.Err)
			}
		default:
			want := map[string]int64{"new": 1}[items[i].ID]
			if want == 0 {
				want = 2
			}
			if res.Err != nil || res.Item.Version != want || res.Item.Balance != 1 {
				t.Errorf("item %d (%s): %+v, %v; want balance 1 at version %d", i, items[i].ID, res.Item, res.Err, want)
			}
		}
	}
	got, err := accounts.Get(ctx, repo.Key("a07"))
	if err != nil || got.Balance != 999 {
		t.Fatalf("a07 stored %+v, %v; want the other process's balance 999", got, err)
	}
}

// Lost responses of SaveAll's writes (stored, the answer dropped) are
// resolved as for Save: every item stored once and reported stored, one
// extra request per lost answer. Without write ids (a naive loop), the same
// drops must show up as wrong results: that shows the test catches them.
func TestSaveAllLostResponses(t *testing.T) {
	t.Parallel()
	for _, safe := range []bool{true, false} {
		t.Run(map[bool]string{true: "write ids", false: "without write ids"}[safe], func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			setup := newRepo[Account](t, e)
			ctx := context.Background()
			var items []Account
			for i := 0; i < 12; i++ {
				items = append(items, mustCreate(t, setup, Account{ID: fmt.Sprintf("a%02d", i), Balance: 10}))
			}
			c := &ddblocal.RequestCounter{}
			client, tr := faults.Client(ddblocal.Endpoint(t), faults.Config{Ops: []string{"UpdateItem"}}, c.Option())
			tr.Script(faults.Drop, faults.None, faults.Drop, faults.Drop, faults.None, faults.Drop)
			lossy := mustNew[Account](t, client, e.table, fastRetry, func(o *repo.Options) {
				if !safe {
					repo.SetUnsafeNoWriteIDs(o)
				}
			})
			for i := range items {
				items[i].Balance += 5 // applied twice, it would still read 15: the versions tell
			}
			results, err := lossy.SaveAll(ctx, items, func(o *repo.BulkOptions) { o.Concurrency = 4 })
			if err != nil {
				t.Fatal(err)
			}
			stored, err := setup.BatchGet(ctx, bulkKeys(items))
			if err != nil {
				t.Fatal(err)
			}
			wrong := 0
			for i, res := range results {
				a := stored.Items[i]
				if res.Err != nil || res.Item.Version != 2 || res.Item.Balance != 15 || a.Version != 2 || a.Balance != 15 {
					wrong++
					if safe {
						t.Errorf("item %d: %+v, %v, stored %+v; want balance 15 at version 2, stored once", i, res.Item, res.Err, a)
					}
				}
			}
			t.Logf("faults %v; requests %v; %d wrong results", tr.Stats(), c.ByOperation(), wrong)
			if !safe {
				if wrong == 0 {
					t.Fatal("without write ids every result is right: the test did not exercise the lost answers")
				}
				return
			}
			// Each dropped write is sent again on the same base: its failed
			// condition returns ALL_OLD with our write id, which settles it.
			if ops := c.ByOperation(); ops["UpdateItem"] != 12+4 || ops["GetItem"] != 0 {
				t.Errorf("requests %v, want %d UpdateItem: one per item and one per lost answer", ops, 12+4)
			}
		})
	}
}

// ctx is cancelled while SaveAll runs: the items not sent yet say so with
// ErrNotSent and nothing of them is stored; the call returns ctx's error
// with the results.
func TestSaveAllCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stale := mustCreate(t, accounts, Account{ID: "a00"})
	if _, err := accounts.Save(ctx, stale); err != nil {
		t.Fatal(err)
	}
	items := []Account{stale, {ID: "a01"}, {ID: "a02"}, {ID: "a03"}}
	// One write at a time; the first conflicts, and its observer cancels.
	results, err := accounts.SaveAll(ctx, items, func(o *repo.BulkOptions) {
		o.Concurrency = 1
		o.WriteOptions = append(o.WriteOptions, func(o *repo.Options) { o.Observer.Conflict = func(repo.ConflictEvent) { cancel() } })
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("SaveAll: %v, want context.Canceled", err)
	}
	if len(results) != 4 || !errors.Is(results[0].Err, repo.ErrConflict) {
		t.Fatalf("results %+v, want 4 with a conflict first", results)
	}
	for i, res := range results[1:] {
		if !errors.Is(res.Err, repo.ErrNotSent) || !errors.Is(res.Err, context.Canceled) {
			t.Errorf("item %d: %v, want ErrNotSent and context.Canceled", i+1, res.Err)
		}
	}
	got, err := accounts.BatchGet(context.Background(), bulkKeys(items))
	if err != nil {
		t.Fatal(err)
	}
	if m := got.Missing(); len(m) != 3 {
		t.Fatalf("missing %v, want the 3 items not sent", m)
	}
}
