package lease_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
)

// stalledClock is a clock whose timers never fire: a process whose
// heartbeat goroutine does not get to run (a long GC or a stopped VM),
// while the time moves on.
type stalledClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stalledClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stalledClock) AfterFunc(time.Duration, func()) func() bool {
	return func() bool { return true }
}

func (c *stalledClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Err follows the clock: once the safe time has passed with no renewal, it
// says the lease is lost (NotRenewed) at once, even though the heartbeat
// goroutine has not run since, and Context is cancelled.
func TestErrFollowsClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &stalledClock{now: time.Now().Round(0)}
	table := ddblocal.TableName(t)
	m := newManager(t, table, func(o *lease.Options) {
		o.Clock, o.Duration, o.HeartbeatInterval = clk, 30*time.Second, 10*time.Second
	})
	if err := m.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := m.Acquire(ctx, "paused")
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(26 * time.Second) // before the safe time (30 s - 10% margin)
	if err := l.Err(); err != nil {
		t.Fatalf("Err before the safe time: %v", err)
	}
	clk.advance(time.Second) // at the safe time, no renewal has run
	var le *lease.LostError
	if err := l.Err(); !errors.As(err, &le) || le.Reason != lease.NotRenewed || !errors.Is(err, lease.ErrLost) {
		t.Fatalf("Err after the safe time: %v, want lost, NotRenewed", err)
	}
	select {
	case <-l.Context().Done():
	default:
		t.Fatal("Context not cancelled once Err said lost")
	}
	if err := l.Release(ctx); err != nil {
		t.Fatalf("Release of a lost lease: %v", err)
	}
	if err := l.Err(); !errors.As(err, &le) || le.Reason != lease.NotRenewed {
		t.Fatalf("Err after Release: %v", err)
	}
	st, err := m.Inspect(ctx, "paused")
	if err != nil || !st.Held || st.Token != l.Token() {
		t.Fatalf("the lost lease's Release wrote the record: %+v %v", st, err)
	}
}
