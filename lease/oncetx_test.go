package lease_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// report is the result of a run-once job, stored with its completion mark.
type report struct {
	Day     string `dynamo:"day,hash"`
	By      string `dynamo:"by"`
	Version int64  `dynamo:"version"`
}

func reportsTable(t *testing.T) *repo.Repository[report] {
	t.Helper()
	reports, err := repo.New[report](ddblocal.Client(t), ddblocal.TableName(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := reports.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return reports
}

// ReleaseDoneWith stores the job's result, the completion mark and the
// release in one transaction: all of them, or, when the result's write is
// refused, none but the release.
func TestReleaseDoneWith(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &ddblocal.RequestCounter{}
	m, _ := countedManager(t, c)
	reports := reportsTable(t)
	l, err := m.Acquire(ctx, "nightly/1")
	if err != nil {
		t.Fatal(err)
	}
	c.Reset()
	err = l.ReleaseDoneWith(ctx, func(tx *repo.Tx) error { return reports.TxCreate(tx, &report{Day: "1", By: m.Owner()}) })
	if err != nil {
		t.Fatal(err)
	}
	if n := c.ByOperation()["TransactWriteItems"]; n != 1 || c.Count() != 1 {
		t.Errorf("ReleaseDoneWith sent %v, want one TransactWriteItems", c.ByOperation())
	}
	st, err := m.Inspect(ctx, "nightly/1")
	if err != nil || st.Held || !st.Done || st.DoneBy != m.Owner() || st.DoneToken != l.Token() {
		t.Fatalf("record after ReleaseDoneWith: %+v %v", st, err)
	}
	if got, err := reports.Get(ctx, repo.Key("1")); err != nil || got.By != m.Owner() {
		t.Fatalf("report: %+v %v", got, err)
	}
	if !errors.Is(l.Err(), lease.ErrReleased) || l.Completed() == nil {
		t.Fatalf("lease after ReleaseDoneWith: Err %v, Completed %v", l.Err(), l.Completed())
	}
	if err := m.Once(ctx, "nightly/1", func(context.Context) error { t.Error("job ran again"); return nil }); !errors.Is(err, lease.ErrDone) {
		t.Fatalf("Once after ReleaseDoneWith: %v", err)
	}

	// The result's write is refused (the report exists): no mark, and the
	// lease is released all the same.
	l2, err := m.Acquire(ctx, "nightly/2")
	if err != nil {
		t.Fatal(err)
	}
	err = l2.ReleaseDoneWith(ctx, func(tx *repo.Tx) error { return reports.TxCreate(tx, &report{Day: "1", By: "again"}) })
	if !errors.Is(err, repo.ErrAlreadyExists) {
		t.Fatalf("ReleaseDoneWith with a refused write: %v", err)
	}
	if st, _ := m.Inspect(ctx, "nightly/2"); st.Held || st.Done {
		t.Fatalf("record after a refused ReleaseDoneWith: %+v", st)
	}
	if !errors.Is(l2.Err(), lease.ErrReleased) {
		t.Fatalf("lease after a refused ReleaseDoneWith: %v", l2.Err())
	}
	if got, _ := reports.Get(ctx, repo.Key("1")); got.By != m.Owner() {
		t.Fatalf("report overwritten: %+v", got)
	}

	// Bad input: nothing is sent.
	l3, err := m.Acquire(ctx, "nightly/3")
	if err != nil {
		t.Fatal(err)
	}
	defer l3.Release(ctx)
	c.Reset()
	if err := l3.ReleaseDoneWith(ctx, nil); !errors.Is(err, lease.ErrInvalidArgument) || c.Count() != 0 {
		t.Fatalf("nil stage: %v, %d requests", err, c.Count())
	}
}

// A lease taken over while its holder was paused cannot store its result:
// the transaction's condition on the lease record refuses the whole of it.
func TestReleaseDoneWithAfterTakeover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reports := reportsTable(t)
	la, lb, _, b := takeover(t, "nightly/x")
	defer lb.Release(ctx)
	err := la.ReleaseDoneWith(ctx, func(tx *repo.Tx) error { return reports.TxCreate(tx, &report{Day: "x", By: "a"}) })
	var le *lease.LostError
	if !errors.Is(err, lease.ErrLost) || !errors.As(la.Err(), &le) || le.Reason != lease.TakenOver {
		t.Fatalf("ReleaseDoneWith of a lease taken over: %v (Err %v)", err, la.Err())
	}
	if _, err := reports.Get(ctx, repo.Key("x")); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("the taken-over holder's result was stored: %v", err)
	}
	if st, _ := b.Inspect(ctx, "nightly/x"); !st.Held || st.Owner != b.Owner() || st.Done {
		t.Fatalf("record: %+v", st)
	}
}
