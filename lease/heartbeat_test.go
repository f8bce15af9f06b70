package lease_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
)

// fakeClock is a manual retry.Clock: time moves only on Advance. It starts
// at the real time, so that the expiry and TTL it makes the lease write are
// near the real ones (DynamoDB Local's TTL collects records whose TTL is
// past).
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*fakeTimer
	changed chan struct{} // closed and replaced when waiters change
}

type fakeTimer struct {
	at time.Time
	f  func()
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Now().Round(0), changed: make(chan struct{})}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc calls f once the clock has been advanced by d (at once if d <=
// 0), from the goroutine that advances it.
func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	if d <= 0 {
		f()
		return func() bool { return false }
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.waiters = append(c.waiters, t)
	c.signal()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, w := range c.waiters {
			if w == t {
				c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
				c.signal()
				return true
			}
		}
		return false
	}
}

func (c *fakeClock) signal() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Advance moves the clock by d and runs the functions that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			due = append(due, w)
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
	c.mu.Unlock()
	for _, w := range due {
		w.f()
	}
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// waitTimers blocks until at least n timers are pending (real time, bounded).
func (c *fakeClock) waitTimers(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		k, ch := len(c.waiters), c.changed
		c.mu.Unlock()
		if k >= n {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timeout waiting for %d timers (have %d)", n, k)
		}
	}
}

func TestHeartbeatTiming(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	link := faults.NewLink(nil)
	client := ddblocal.NewClient(ddblocal.Endpoint(t), link.Option(), func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	var renewed, lost atomic.Int64
	lostc := make(chan *lease.LostError, 1)
	m, err := lease.New(client, ddblocal.TableName(t), slowBeats(clk), func(o *lease.Options) {
		o.SafetyMargin = 3 * time.Second
		o.Observer.Renewed = func(lease.RenewedEvent) { renewed.Add(1) }
		o.Observer.Lost = func(e *lease.LostError) { lost.Add(1); lostc <- e }
		o.Repo = append(o.Repo, func(r *repo.Options) {
			r.Retry = retry.Policy{InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, Multiplier: 1, MaxAttempts: 1}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := m.Acquire(ctx, "hb")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	// Renewals happen at the interval, not before.
	for i := 1; i <= 3; i++ {
		clk.waitTimers(t, 1)
		clk.Advance(9 * time.Second)
		if got := renewed.Load(); got != int64(i-1) {
			t.Fatalf("renewal %d early: %d renewals", i, got)
		}
		clk.Advance(time.Second)
		waitFor(t, func() bool { return renewed.Load() == int64(i) })
	}
	// Outage: safe time is last renewal send time + 30s - 3s = +27s.
	link.SetDown(true)
	for el := time.Duration(0); el < 26*time.Second; {
		clk.waitTimers(t, 1)
		clk.Advance(500 * time.Millisecond)
		el += 500 * time.Millisecond
		if lost.Load() != 0 {
			t.Fatalf("lost after %v, before safe time", el)
		}
	}
	var e *lease.LostError
	for el := 26 * time.Second; e == nil; {
		select {
		case e = <-lostc:
			continue
		case <-time.After(time.Millisecond):
		}
		if clk.pending() > 0 {
			clk.Advance(250 * time.Millisecond)
			el += 250 * time.Millisecond
			if el > 28*time.Second {
				t.Fatalf("not lost %v after the last renewal (safe time 27s)", el)
			}
		}
	}
	if e.Reason != lease.NotRenewed || !errors.Is(l.Err(), lease.ErrLost) || l.Context().Err() == nil {
		t.Fatalf("loss: %v; Err %v", e, l.Err())
	}
	<-l.Context().Done()
	link.SetDown(false)
	if err := l.Release(ctx); err != nil || !errors.Is(l.Err(), lease.ErrLost) {
		t.Fatalf("Release after loss: %v, Err %v", err, l.Err())
	}
	if st, err := m.Inspect(ctx, "hb"); err != nil || !st.Mine || st.Token != l.Token() {
		t.Fatalf("Release after loss wrote the record: %+v %v", st, err)
	}
}

// slowBeats runs a Manager on fake clock c with 30 s leases renewed every
// 10 s, so that a test moves the heartbeat by advancing c.
func slowBeats(c *fakeClock) func(*lease.Options) {
	return func(o *lease.Options) {
		o.Clock = c
		o.Duration = 30 * time.Second
		o.HeartbeatInterval = 10 * time.Second
	}
}

func waitFor(t *testing.T, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !f(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
	}
}

// TestTakeoverReason: a holder whose record is taken over is told
// TakenOver at its next renewal, and its guarded writes are refused.
// takeover has a Manager B take name over from a Manager A whose clock
// stands still, so that A never renews: B watches A's record and takes it
// over after a full duration on its own clock (30 s), not before. It
// returns A's lease (which has not noticed), B's, A's clock and B.
func takeover(t *testing.T, name string) (la, lb *lease.Lease, clkA *fakeClock, b *lease.Manager) {
	t.Helper()
	ctx := context.Background()
	clkA, clkB := newFakeClock(), newFakeClock()
	table := ddblocal.TableName(t)
	a := tableManager(t, ddblocal.Client(t), table, slowBeats(clkA))
	b = newManager(t, table, slowBeats(clkB))
	la, err := a.Acquire(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryAcquire(ctx, name); !errors.Is(err, lease.ErrHeld) {
		t.Fatal(err)
	}
	clkB.Advance(29 * time.Second)
	if _, err := b.TryAcquire(ctx, name); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("takeover before a full duration: %v", err)
	}
	clkB.Advance(time.Second)
	lb, err = b.TryAcquire(ctx, name)
	if err != nil {
		t.Fatalf("no takeover after a full duration: %v", err)
	}
	return la, lb, clkA, b
}

func TestTakeoverAndGuard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	la, lb, clkA, b := takeover(t, "tk")
	defer lb.Release(ctx)
	if lb.Token() <= la.Token() {
		t.Fatalf("token %d after %d", lb.Token(), la.Token())
	}
	// A's guarded write is refused.
	type event struct {
		ID      string `dynamo:"id,hash"`
		Version int64  `dynamo:"version"`
	}
	events, err := repo.New[event](ddblocal.Client(t), ddblocal.TableName(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := events.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := events.Create(ctx, event{ID: "e"}, repo.Guard(la.Condition())); !errors.Is(err, repo.ErrGuardFailed) || !errors.Is(err, lease.ErrLost) {
		t.Errorf("guarded write of the old holder: %v", err)
	}
	if _, err := events.Create(ctx, event{ID: "e"}, repo.Guard(lb.Condition())); err != nil {
		t.Errorf("guarded write of the holder: %v", err)
	}
	// A's next renewal finds the record taken over.
	clkA.waitTimers(t, 1)
	clkA.Advance(10 * time.Second)
	select {
	case <-la.Context().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("A not told of the takeover")
	}
	var le *lease.LostError
	if !errors.As(la.Err(), &le) || le.Reason != lease.TakenOver || le.Owner != b.Owner() {
		t.Fatalf("A's loss: %v", la.Err())
	}
}

// The wall times written into the record (the holder's expiry, the TTL)
// come from the injected clock, like the durations: a test controls them.
func TestClockSetsRecordTimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	clk.Advance(time.Hour) // an hour ahead of the real time
	m, table := setup(t, slowBeats(clk))
	raw := rawRecords(t, table)
	// The expiry is rounded up to whole seconds, the release time down.
	upTo := func(d time.Duration) time.Time { return clk.Now().Add(d + time.Second - 1).Truncate(time.Second) }
	check := func(when string, expires time.Time) {
		t.Helper()
		got, err := raw.Get(ctx, repo.Key("times"))
		if err != nil {
			t.Fatal(err)
		}
		if wantTTL := clk.Now().Add(7 * 24 * time.Hour).Unix(); got.Expires != expires.Unix() || got.TTL != wantTTL {
			t.Fatalf("%s: expires %v ttl %v, want %v and %v", when, time.Unix(got.Expires, 0), time.Unix(got.TTL, 0), expires, time.Unix(wantTTL, 0))
		}
	}
	l, err := m.Acquire(ctx, "times", func(o *lease.AcquireOptions) { o.Duration = 30 * time.Second })
	if err != nil {
		t.Fatal(err)
	}
	check("acquired", upTo(30*time.Second))
	st, _ := m.Inspect(ctx, "times")
	clk.waitTimers(t, 1)
	clk.Advance(10 * time.Second)
	waitFor(t, func() bool { s, _ := m.Inspect(ctx, "times"); return s.Version > st.Version })
	check("renewed", upTo(30*time.Second))
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	check("released", clk.Now().Truncate(time.Second))
}
