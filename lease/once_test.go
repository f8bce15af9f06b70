package lease_test

import (
	"context"
	"errors"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// countedManager returns a Manager of a new lease table whose requests c
// counts.
func countedManager(t *testing.T, c *ddblocal.RequestCounter, optFns ...func(*lease.Options)) (*lease.Manager, string) {
	t.Helper()
	table := ddblocal.TableName(t)
	return tableManager(t, ddblocal.Client(t, c.Option()), table, optFns...), table
}

func owner(o string) func(*lease.Options) { return func(opt *lease.Options) { opt.Owner = o } }

// TryDo makes one attempt: a held name is not waited for, fn does not
// run, and the *HeldError says by whom; a free name runs fn under the
// lease and releases it. A nil fn sends nothing.
func TestTryDo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &ddblocal.RequestCounter{}
	a, table := countedManager(t, c, owner("a"))
	b := newManager(t, table, owner("b"))

	l, err := a.Acquire(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	ran := false
	fn := func(ctx context.Context) error {
		l, ok := lease.FromContext(ctx)
		if !ok || l.Name() != "job" || l.Err() != nil {
			t.Errorf("FromContext in TryDo: %v %v", l, ok)
		}
		ran = true
		return nil
	}
	var he *lease.HeldError
	start := time.Now()
	if err := b.TryDo(ctx, "job", fn); !errors.Is(err, lease.ErrHeld) || !errors.As(err, &he) || he.Owner != "a" || he.Token != l.Token() || ran {
		t.Fatalf("TryDo of a name held by a: %v (%+v), ran %v", err, he, ran)
	}
	if time.Since(start) > time.Second {
		t.Errorf("TryDo of a held name took %v: it waited", time.Since(start))
	}
	// Another goroutine of the same Manager holds it: also ErrHeld.
	if err := a.TryDo(ctx, "job", fn); !errors.Is(err, lease.ErrHeld) || ran {
		t.Fatalf("TryDo of a name held by the same Manager: %v, ran %v", err, ran)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.TryDo(ctx, "job", fn); err != nil || !ran {
		t.Fatalf("TryDo of a free name: %v, ran %v", err, ran)
	}
	if st, err := b.Inspect(ctx, "job"); err != nil || st.Held || st.Done {
		t.Fatalf("after TryDo: %+v %v, want free and not marked done", st, err)
	}
	boom := errors.New("boom")
	if err := b.TryDo(ctx, "job", func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("TryDo returns fn's error: %v", err)
	}
	c.Reset()
	if err := a.TryDo(ctx, "job", nil); !errors.Is(err, lease.ErrInvalidArgument) || c.Count() != 0 {
		t.Fatalf("TryDo with a nil fn: %v, %d requests, want ErrInvalidArgument and none", err, c.Count())
	}
}

// Once runs fn and marks the name done, atomically with the release: who
// (the Owner), with which token, and when (the Manager's clock). A second
// Once, from another Manager or the same, learns that, by whom and when,
// with one read and no write, and does not run fn. A failed fn leaves no
// mark, so the next Once runs it again; a held name is not run.
func TestOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	clk.Advance(1234567 * time.Microsecond) // not on a whole millisecond
	c := &ddblocal.RequestCounter{}
	a, table := countedManager(t, c, owner("replica-a"), func(o *lease.Options) { o.Clock = clk })
	b := newManager(t, table, owner("replica-b"))
	const day = "nightly/2026-11-30"

	runs := 0
	var token int64
	job := func(ctx context.Context) error {
		l, _ := lease.FromContext(ctx)
		token = l.Token()
		runs++
		return nil
	}
	if err := a.Once(ctx, day, job); err != nil || runs != 1 {
		t.Fatalf("first Once: %v, %d runs", err, runs)
	}
	at := clk.Now().Truncate(time.Millisecond)
	st, err := b.Inspect(ctx, day)
	if err != nil || st.Held || !st.Done || st.DoneBy != "replica-a" || st.DoneToken != token || !st.DoneAt.Equal(at) {
		t.Fatalf("after Once: %+v %v, want free, done by replica-a with token %d at %v", st, err, token, at)
	}
	for _, m := range []*lease.Manager{b, a} {
		c.Reset()
		err := m.Once(ctx, day, job)
		var de *lease.DoneError
		if !errors.Is(err, lease.ErrDone) || !errors.As(err, &de) || de.Name != day || de.By != "replica-a" || de.Token != token || !de.At.Equal(at) || runs != 1 {
			t.Fatalf("%s: Once of a name done: %v (%+v), %d runs", m.Owner(), err, de, runs)
		}
		if m == a { // b's requests go through another client
			if ops := c.ByOperation(); !maps.Equal(ops, map[string]int64{"GetItem": 1}) {
				t.Errorf("Once of a name done sent %v, want one GetItem", ops)
			}
		}
	}
	if st2, _ := b.Inspect(ctx, day); st2.Version != st.Version {
		t.Errorf("Once of a name done wrote: version %d, was %d", st2.Version, st.Version)
	}

	// A failed fn: no mark, and the next Once runs it again.
	boom := errors.New("boom")
	if err := a.Once(ctx, "k2", func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Once with a failing fn: %v", err)
	}
	if st, _ := a.Inspect(ctx, "k2"); st.Done || st.Held {
		t.Fatalf("after a failed fn: %+v, want free and not done", st)
	}
	if err := b.Once(ctx, "k2", job); err != nil || runs != 2 {
		t.Fatalf("Once after a failed fn: %v, %d runs", err, runs)
	}
	if st, _ := a.Inspect(ctx, "k2"); !st.Done || st.DoneBy != "replica-b" {
		t.Fatalf("after b's Once: %+v, want done by replica-b", st)
	}

	// Held: fn does not run, and the *HeldError says by whom.
	l, err := a.Acquire(ctx, "k3")
	if err != nil {
		t.Fatal(err)
	}
	var he *lease.HeldError
	if err := b.Once(ctx, "k3", job); !errors.As(err, &he) || !errors.Is(err, lease.ErrHeld) || he.Owner != "replica-a" || runs != 2 {
		t.Fatalf("Once of a held name: %v, %d runs", err, runs)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}

	// Bad input: nothing sent.
	c.Reset()
	if err := a.Once(ctx, "k4", nil); !errors.Is(err, lease.ErrInvalidArgument) || c.Count() != 0 {
		t.Errorf("Once with a nil fn: %v, %d requests", err, c.Count())
	}
	if err := a.Once(ctx, "k4", job, func(o *lease.AcquireOptions) { o.Duration = -time.Second }); !errors.Is(err, lease.ErrInvalidArgument) || c.Count() != 0 {
		t.Errorf("Once with a bad duration: %v, %d requests", err, c.Count())
	}
	if runs != 2 {
		t.Errorf("%d runs, want 2", runs)
	}
}

// The mark survives later acquisitions, renewals and releases of the
// record (each write copies it), and a holder that acquires a marked name
// sees the mark on its lease. A ReleaseDone by that holder replaces it.
func TestMarkSurvives(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, table := setup(t, owner("a"))
	b := newManager(t, table, owner("b"), func(o *lease.Options) { o.Duration = 600 * time.Millisecond })
	if err := a.Once(ctx, "k", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	marked, err := a.Inspect(ctx, "k")
	if err != nil || !marked.Done {
		t.Fatalf("%+v %v", marked, err)
	}
	sameMark := func(when string) {
		t.Helper()
		st, err := a.Inspect(ctx, "k")
		if err != nil || !st.Done || st.DoneBy != marked.DoneBy || st.DoneToken != marked.DoneToken || !st.DoneAt.Equal(marked.DoneAt) {
			t.Fatalf("%s: %+v %v, want the mark of %+v", when, st, err, marked)
		}
	}
	l, err := b.Acquire(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	var de *lease.DoneError
	if err := l.Completed(); !errors.As(err, &de) || de.By != "a" || de.Token != marked.DoneToken {
		t.Fatalf("Completed of a lease on a marked name: %v", err)
	}
	sameMark("acquired")
	waitFor(t, func() bool { st, _ := a.Inspect(ctx, "k"); return st.Version > l.Token() }) // renewed
	sameMark("renewed")
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	sameMark("released")
	// TryDo ignores marks, and keeps them.
	if err := b.TryDo(ctx, "k", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	sameMark("after TryDo")
	l, err = b.Acquire(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.ReleaseDone(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := a.Inspect(ctx, "k"); !st.Done || st.DoneBy != "b" || st.DoneToken != l.Token() {
		t.Fatalf("after b's ReleaseDone: %+v, want b's mark", st)
	}
}

// ReleaseDone is Release plus the mark, in one write. Repeated, or
// followed by Release, it sends nothing. A lease no longer held (released,
// taken over) cannot store a mark: the error matches ErrLost, and nothing
// is marked.
func TestReleaseDone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	c := &ddblocal.RequestCounter{}
	m, table := countedManager(t, c, owner("me"), slowBeats(clk))
	raw := rawRecords(t, table)

	l, err := m.Acquire(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Completed(); err != nil {
		t.Fatalf("Completed of an unmarked name: %v", err)
	}
	c.Reset()
	if err := l.ReleaseDone(ctx); err != nil || !errors.Is(l.Err(), lease.ErrReleased) {
		t.Fatalf("ReleaseDone: %v, Err %v", err, l.Err())
	}
	if ops := c.ByOperation(); !maps.Equal(ops, map[string]int64{"UpdateItem": 1}) {
		t.Errorf("ReleaseDone sent %v, want one UpdateItem", ops)
	}
	var de *lease.DoneError
	if err := l.Completed(); !errors.As(err, &de) || de.By != "me" || de.Token != l.Token() || !de.At.Equal(clk.Now().Truncate(time.Millisecond)) {
		t.Fatalf("Completed after ReleaseDone: %v", err)
	}
	if st, _ := m.Inspect(ctx, "r"); st.Held || !st.Done || st.DoneBy != "me" || st.DoneToken != l.Token() {
		t.Fatalf("after ReleaseDone: %+v", st)
	}
	c.Reset()
	if err := l.ReleaseDone(ctx); err != nil {
		t.Errorf("second ReleaseDone: %v", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Errorf("Release after ReleaseDone: %v", err)
	}
	if c.Count() != 0 {
		t.Errorf("repeated release sent %v", c.ByOperation())
	}

	// Released first: no mark, ErrLost (and ErrReleased), nothing sent.
	l, err = m.Acquire(ctx, "r2")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	c.Reset()
	if err := l.ReleaseDone(ctx); !errors.Is(err, lease.ErrLost) || !errors.Is(err, lease.ErrReleased) || c.Count() != 0 {
		t.Errorf("ReleaseDone after Release: %v, %d requests, want ErrLost and none", err, c.Count())
	}
	if st, _ := m.Inspect(ctx, "r2"); st.Done {
		t.Errorf("marked after Release then ReleaseDone: %+v", st)
	}

	// Taken over while held: the write finds another owner's record.
	l, err = m.Acquire(ctx, "r3")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Update(ctx, repo.Key("r3"), func(r *rawRecord) error { r.Owner, r.Token = "thief", r.Version+1; return nil }); err != nil {
		t.Fatal(err)
	}
	var le *lease.LostError
	if err := l.ReleaseDone(ctx); !errors.Is(err, lease.ErrLost) || !errors.As(err, &le) || le.Reason != lease.TakenOver || le.Owner != "thief" {
		t.Fatalf("ReleaseDone of a lease taken over: %v", err)
	}
	if st, _ := m.Inspect(ctx, "r3"); st.Done || st.Owner != "thief" {
		t.Fatalf("after ReleaseDone of a lease taken over: %+v, want thief's and not done", st)
	}
	if err := l.ReleaseDone(ctx); !errors.Is(err, lease.ErrLost) {
		t.Errorf("second ReleaseDone of a lease taken over: %v", err)
	}
}

// A job whose runner stops (its heartbeat never runs again: a crashed or
// frozen process) is redone by another runner after it takes the lease
// over: the dead runner left no mark. When the frozen runner's fn returns
// at last, its mark is refused (ErrLost): the record shows the second
// runner's.
func TestOnceRedoneAfterTakeover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	frozen := &stalledClock{now: time.Now().Round(0)}
	a, table := setup(t, owner("frozen"), func(o *lease.Options) { o.Clock, o.Duration = frozen, time.Second })
	b := newManager(t, table, owner("b"), func(o *lease.Options) { o.Duration = time.Second })

	started, finish := make(chan struct{}), make(chan struct{})
	aerr := make(chan error, 1)
	go func() {
		aerr <- a.Once(ctx, "nightly/1", func(ctx context.Context) error {
			close(started)
			<-finish // frozen: no renewal runs, the lease ends unnoticed
			return nil
		})
	}()
	<-started
	ran := 0
	begin := time.Now()
	var err error
	for err = lease.ErrHeld; errors.Is(err, lease.ErrHeld); time.Sleep(50 * time.Millisecond) {
		err = b.Once(ctx, "nightly/1", func(context.Context) error { ran++; return nil })
		if time.Since(begin) > 10*time.Second {
			t.Fatalf("not taken over after 10s: %v", err)
		}
	}
	took := time.Since(begin)
	if err != nil || ran != 1 {
		t.Fatalf("b's Once: %v, %d runs", err, ran)
	}
	if took < time.Second {
		t.Errorf("taken over after %v, before the lease duration", took)
	}
	close(finish)
	var le *lease.LostError
	if err := <-aerr; !errors.Is(err, lease.ErrLost) || !errors.As(err, &le) || le.Reason != lease.ReleasedElsewhere {
		t.Fatalf("the frozen runner's Once: %v, want ErrLost (the record was freed by b)", err)
	}
	st, err := b.Inspect(ctx, "nightly/1")
	if err != nil || !st.Done || st.DoneBy != "b" || st.Held {
		t.Fatalf("after the redo: %+v %v, want done by b", st, err)
	}
	if err := a.Once(ctx, "nightly/1", func(context.Context) error { t.Error("ran a job done"); return nil }); !errors.Is(err, lease.ErrDone) {
		t.Fatalf("Once after the redo: %v", err)
	}
}

// afterGet runs a hook once, after the first GetItem of the client it is
// an option of has been answered: SDK middleware on the real client.
type afterGet struct{ hook atomic.Pointer[func()] }

func (a *afterGet) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("afterGet", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			if _, get := in.Parameters.(*dynamodb.GetItemInput); get {
				if f := a.hook.Swap(nil); f != nil {
					(*f)()
				}
			}
			return out, md, err
		}), middleware.After)
	})
}

// A name marked done between Once's read and its acquiring write: Once
// finds the mark in the record it acquired, releases it, does not run fn,
// and returns ErrDone.
func TestOnceMarkedMeanwhile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	table := ddblocal.TableName(t)
	var hc afterGet
	a := tableManager(t, ddblocal.Client(t, hc.option), table, owner("a"))
	b := newManager(t, table, owner("b"))
	// The record exists, free and unmarked, when a reads it.
	if err := b.TryDo(ctx, "k", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	bDone := func() {
		if err := b.Once(ctx, "k", func(context.Context) error { return nil }); err != nil {
			t.Error(err)
		}
	}
	hc.hook.Store(&bDone)
	var de *lease.DoneError
	if err := a.Once(ctx, "k", func(context.Context) error { t.Error("ran a job done"); return nil }); !errors.As(err, &de) || de.By != "b" {
		t.Fatalf("Once of a name marked after its read: %v, want ErrDone by b", err)
	}
	if hc.hook.Load() != nil {
		t.Fatal("the hook did not run")
	}
	st, err := a.Inspect(ctx, "k")
	if err != nil || st.Held || !st.Done || st.DoneBy != "b" || st.Version != de.Token+3 {
		t.Fatalf("after: %+v %v, want free, b's mark, acquired and released once more by a", st, err)
	}
}

// A ReleaseDone whose response is lost, and whose resolving read fails,
// reads the record once more: free and carrying its mark, it reports the
// mark stored.
func TestReleaseDoneOutcomeUnknown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, d := droppingManager(t, 1, oneResolvingRead, owner("me"))
	l, err := m.Acquire(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	d.DropWrites(1)
	if err := l.ReleaseDone(ctx); err != nil || !errors.Is(l.Err(), lease.ErrReleased) || l.Completed() == nil {
		t.Fatalf("ReleaseDone: %v, Err %v, Completed %v; want nil, ErrReleased, the mark", err, l.Err(), l.Completed())
	}
	if st, err := m.Inspect(ctx, "r"); err != nil || st.Held || !st.Done || st.DoneBy != "me" || st.DoneToken != l.Token() || st.Version != 2 || d.Dropped() != 1 {
		t.Fatalf("record %+v (%v), %d dropped; want free and marked at version 2 after one dropped response", st, err, d.Dropped())
	}
}

// A Once whose lease Manager.Close releases while fn runs stores no mark
// and returns fn's error joined with ErrClosed; after Close, TryDo and
// Once return ErrClosed without a request.
func TestOnceClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &ddblocal.RequestCounter{}
	m, _ := countedManager(t, c)
	started := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- m.Once(ctx, "k", func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			return nil // even a fn that says it finished gets no mark
		})
	}()
	<-started
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, lease.ErrClosed) {
		t.Fatalf("Once whose lease Close released: %v, want ErrClosed", err)
	}
	if st, err := m.Inspect(ctx, "k"); err != nil || st.Held || st.Done {
		t.Fatalf("after Close: %+v %v, want free and not done", st, err)
	}
	c.Reset()
	fn := func(context.Context) error { t.Error("fn ran after Close"); return nil }
	if err := m.Once(ctx, "k", fn); !errors.Is(err, lease.ErrClosed) {
		t.Errorf("Once after Close: %v", err)
	}
	if err := m.TryDo(ctx, "k", fn); !errors.Is(err, lease.ErrClosed) {
		t.Errorf("TryDo after Close: %v", err)
	}
	if c.Count() != 0 {
		t.Errorf("after Close, Once and TryDo sent %v", c.ByOperation())
	}
}
