package lease_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// TestObserverRequests: Observer.Request hears every request of a
// Manager, those of its lease records and those of its own (the waiter
// slot's reads and writes), with the lease table's name.
func TestObserverRequests(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	table := ddblocal.TableName(t)
	m := tableManager(t, ddblocal.Client(t), table, func(o *lease.Options) {
		o.Observer.Request = func(e repo.RequestEvent) {
			if e.Table != table {
				t.Errorf("request %+v: table %q, want %q", e, e.Table, table)
			}
			mu.Lock()
			got = append(got, e.Op+":"+e.Outcome)
			mu.Unlock()
		}
	})
	ctx := context.Background()
	mu.Lock()
	got = nil // CreateTable's
	mu.Unlock()
	l, err := m.Acquire(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Inspect(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	// Acquire creates the record (PutItem), Release updates it, Inspect
	// reads it.
	if want := []string{"PutItem:ok", "UpdateItem:ok", "GetItem:ok"}; !slices.Equal(got, want) {
		t.Fatalf("requests %v, want %v", got, want)
	}
}
