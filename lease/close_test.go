package lease_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/lease"
)

// Close releases every lease the Manager holds and stops their heartbeats;
// the calls waiting for a name (queued locally behind a lease of the
// Manager, or sleeping between polls of a name held elsewhere) return
// ErrClosed without acquiring, and a Do whose fn runs sees its context
// cancelled and returns ErrClosed. Close returns once all that is done.
func TestClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	var acquired atomic.Int64
	m, table := setup(t, slowBeats(clk), func(o *lease.Options) {
		o.Observer.Acquired = func(lease.AcquiredEvent) { acquired.Add(1) }
	})
	other := newManager(t, table)
	busy, err := other.Acquire(ctx, "busy")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Release(ctx)

	var held []*lease.Lease
	for _, name := range []string{"a", "b", "c"} {
		l, err := m.Acquire(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
	}
	errc := make(chan error, 3)
	go func() { _, err := m.Acquire(ctx, "a"); errc <- err }()                         // queued locally
	go func() { _, err := m.Acquire(ctx, "busy"); errc <- err }()                      // polls, then sleeps on clk
	go func() { errc <- m.Do(ctx, "b", func(context.Context) error { return nil }) }() // queued locally
	started := make(chan struct{})
	doErr := make(chan error, 1)
	go func() {
		doErr <- m.Do(ctx, "d", func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	<-started
	// The poller of "busy" sleeps on clk (its heartbeat timers: a, b, c, d).
	clk.waitTimers(t, 5)
	time.Sleep(50 * time.Millisecond) // the others queue locally, sending nothing

	closed := make(chan error, 1)
	go func() { closed <- m.Close(ctx) }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	// Close returned after the releases: everything is done now.
	for _, l := range held {
		if !errors.Is(l.Err(), lease.ErrReleased) || l.Context().Err() == nil {
			t.Errorf("lease %s after Close: Err %v, ctx %v", l.Name(), l.Err(), l.Context().Err())
		}
	}
	for _, name := range []string{"a", "b", "c", "d"} {
		if st, err := other.Inspect(ctx, name); err != nil || st.Held || st.Version != 2 {
			t.Errorf("%s after Close: %+v %v, want free at version 2", name, st, err)
		}
	}
	if n := clk.pending(); n != 0 {
		t.Errorf("%d timers still pending on the clock after Close: heartbeats or pollers left", n)
	}
	for range 3 {
		select {
		case err := <-errc:
			if !errors.Is(err, lease.ErrClosed) {
				t.Errorf("waiting call: %v, want ErrClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a waiting call did not return after Close")
		}
	}
	select {
	case err := <-doErr:
		if !errors.Is(err, lease.ErrClosed) || !errors.Is(err, context.Canceled) {
			t.Errorf("Do whose lease Close released: %v, want fn's context.Canceled joined with ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Do did not return after Close")
	}
	if n := acquired.Load(); n != 4 {
		t.Errorf("%d acquisitions, want 4 (a, b, c, d): a waiter acquired while Close ran", n)
	}
}

// gatedManager returns a Manager on a fresh table whose UpdateItem
// requests (renewals and releases) go through a faults.Transport, with a
// RequestCounter on every request. gate, once it has a scripted fault,
// blocks the request that meets it until release is closed, after sending
// on entered.
func gatedManager(t *testing.T, c *ddblocal.RequestCounter, optFns ...func(*lease.Options)) (m *lease.Manager, tr *faults.Transport, entered chan struct{}, release chan struct{}) {
	t.Helper()
	entered, release = make(chan struct{}, 1), make(chan struct{})
	client, tr := faults.Client(ddblocal.Endpoint(t), faults.Config{Ops: []string{"UpdateItem"}}, faults.FastRetries, c.Option())
	tr.AfterFault = func(string, faults.Decision) {
		entered <- struct{}{}
		<-release
	}
	return tableManager(t, client, ddblocal.TableName(t), optFns...), tr, entered, release
}

// A second Close waits for the first and returns nil; calls made while
// Close runs and after it return ErrClosed without sending a request, and
// so does a Close after Close.
func TestCloseTwiceAndAfter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &ddblocal.RequestCounter{}
	m, tr, entered, release := gatedManager(t, c, slowBeats(newFakeClock()))
	l, err := m.Acquire(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	tr.Script(faults.Error500) // the release: held at the gate, then retried by the SDK
	first := make(chan error, 1)
	go func() { first <- m.Close(ctx) }()
	select {
	case <-entered: // the first Close is releasing
	case <-time.After(10 * time.Second):
		t.Fatal("Close sent no release")
	}
	second := make(chan error, 1)
	go func() { second <- m.Close(ctx) }()
	select {
	case err := <-second:
		t.Fatalf("second Close returned %v while the first was releasing", err)
	case <-time.After(50 * time.Millisecond):
	}
	calls := func(when string) {
		t.Helper()
		c.Reset()
		if _, err := m.Acquire(ctx, "b"); !errors.Is(err, lease.ErrClosed) {
			t.Errorf("Acquire %s: %v", when, err)
		}
		if _, err := m.TryAcquire(ctx, "b"); !errors.Is(err, lease.ErrClosed) {
			t.Errorf("TryAcquire %s: %v", when, err)
		}
		ran := false
		if err := m.Do(ctx, "b", func(context.Context) error { ran = true; return nil }); !errors.Is(err, lease.ErrClosed) || ran {
			t.Errorf("Do %s: %v (fn ran: %v)", when, err, ran)
		}
		if n := c.Count(); n != 0 {
			t.Errorf("calls %s sent %v", when, c.ByOperation())
		}
	}
	calls("while Close runs")
	close(release)
	for _, ch := range []chan error{first, second} {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatalf("Close: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not return")
		}
	}
	if !errors.Is(l.Err(), lease.ErrReleased) {
		t.Fatalf("lease after Close: %v", l.Err())
	}
	calls("after Close")
	c.Reset()
	if err := m.Close(ctx); err != nil {
		t.Fatalf("Close after Close: %v", err)
	}
	if n := c.Count(); n != 0 {
		t.Fatalf("Close after Close sent %v", c.ByOperation())
	}
	// Reading still works.
	if st, err := m.Inspect(ctx, "a"); err != nil || st.Held {
		t.Fatalf("Inspect after Close: %+v %v", st, err)
	}
}

// A Close whose ctx is done before a release succeeds returns ctx's error
// joined with the release's; that lease is no longer renewed and expires.
func TestCloseContextDone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	c := &ddblocal.RequestCounter{}
	m, tr, entered, release := gatedManager(t, c, slowBeats(clk))
	l, err := m.Acquire(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	tr.Script(faults.Error500)
	go func() {
		<-entered // the release write met its 500: Close's ctx ends before the retry
		cancel()
		close(release)
	}()
	err = m.Close(cctx)
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	if len(errs) != 2 || errs[0] != context.Canceled || !strings.Contains(errs[1].Error(), `release "a" token 1`) {
		t.Fatalf("Close with ctx cancelled during a release: %v, want ctx's error joined with the release's", err)
	}
	var le *lease.LostError
	if !errors.As(l.Err(), &le) || le.Reason != lease.NotRenewed || l.Context().Err() == nil {
		t.Fatalf("lease whose release failed: %v", l.Err())
	}
	st, err := m.Inspect(ctx, "a")
	if err != nil || !st.Mine || st.Version != 1 {
		t.Fatalf("record after a failed release: %+v %v, want still held at version 1", st, err)
	}
	// Its heartbeat is stopped: no renewal, ever.
	if n := clk.pending(); n != 0 {
		t.Fatalf("%d timers pending after Close", n)
	}
	c.Reset()
	clk.Advance(time.Minute)
	if n := c.Count(); n != 0 {
		t.Fatalf("a minute after Close, %v sent", c.ByOperation())
	}
	// A second Close does not try again.
	if err := m.Close(ctx); err != nil || c.Count() != 0 {
		t.Fatalf("second Close: %v, sent %v", err, c.ByOperation())
	}
}
