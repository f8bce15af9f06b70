package lease_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
)

// An uncontended acquire and release is two requests, no read: the first
// acquire of a name creates its record at once, and a Manager's next
// acquire writes on the record its own Release kept. A record another
// Manager freed last costs one more (the acquiring create fails and
// returns it). Tokens still increase.
func TestAcquireReleaseRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &ddblocal.RequestCounter{}
	a, b := countedPair(t, c)
	var last int64
	pair := func(m *lease.Manager, try bool, want map[string]int64) {
		t.Helper()
		c.Reset()
		var l *lease.Lease
		var err error
		if try {
			l, err = m.TryAcquire(ctx, "p")
		} else {
			l, err = m.Acquire(ctx, "p")
		}
		if err != nil {
			t.Fatal(err)
		}
		if l.Token() <= last {
			t.Fatalf("token %d after %d", l.Token(), last)
		}
		last = l.Token()
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if got := c.ByOperation(); !maps.Equal(got, want) {
			t.Errorf("acquire and release sent %v, want %v", got, want)
		}
	}
	two := map[string]int64{"PutItem": 1, "UpdateItem": 1}
	pair(a, false, two) // absent: created at once
	again := map[string]int64{"UpdateItem": 2}
	pair(a, false, again) // a's own release kept the record
	pair(a, true, again)
	pair(b, true, map[string]int64{"PutItem": 1, "UpdateItem": 2}) // freed by a: the create fails and returns it
	pair(b, false, again)
}

// Once starts its acquiring write from the record it read to look for the
// mark: read, acquire, release with the mark, and nothing more, even for a
// record another Manager freed last; a name marked done costs the read
// alone.
func TestOnceRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &ddblocal.RequestCounter{}
	a, b := countedPair(t, c)
	l, err := a.Acquire(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	c.Reset()
	if err := b.Once(ctx, "job", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got, want := c.ByOperation(), map[string]int64{"GetItem": 1, "UpdateItem": 2}; !maps.Equal(got, want) {
		t.Errorf("Once of a record another Manager freed sent %v, want %v", got, want)
	}
	c.Reset()
	if err := a.Once(ctx, "job", func(context.Context) error { t.Error("ran again"); return nil }); !errors.Is(err, lease.ErrDone) {
		t.Fatalf("second Once: %v", err)
	}
	if got, want := c.ByOperation(), map[string]int64{"GetItem": 1}; !maps.Equal(got, want) {
		t.Errorf("Once of a name marked done sent %v, want %v", got, want)
	}
}

// countedPair is two Managers of one table (two processes, as far as
// leases go) through one client whose requests c counts.
func countedPair(t *testing.T, c *ddblocal.RequestCounter) (a, b *lease.Manager) {
	t.Helper()
	a, table := countedManager(t, c)
	return a, managerOn(t, ddblocal.Client(t, c.Option()), table)
}
