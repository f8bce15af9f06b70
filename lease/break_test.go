package lease_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

func force(o *lease.BreakOptions) { o.Force = true }

// breakGuarded is an item written under a lease's guard.
type breakGuarded struct {
	ID      string `dynamo:"id,hash"`
	Version int64  `dynamo:"version"`
}

// guardedWrite creates item id in a table of its own under the guard of l.
func guardedWrite(t *testing.T, l *lease.Lease, id string) error {
	t.Helper()
	ctx := context.Background()
	items, err := repo.New[breakGuarded](ddblocal.Client(t), ddblocal.TableName(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := items.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = items.Create(ctx, breakGuarded{ID: id}, repo.Guard(l.Condition()))
	return err
}

// A live lease (renewed within its lease) is refused without Force, and
// nothing is written; with Force the token moves on, the old holder's
// guarded writes are refused, its next renewal finds the lease lost, and
// the record is free for anyone at once.
func TestBreakLive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clkA := newFakeClock() // A never renews until the test moves its clock
	table := ddblocal.TableName(t)
	a := tableManager(t, ddblocal.Client(t), table, slowBeats(clkA))
	b := newManager(t, table)
	la, err := a.Acquire(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := b.Inspect(ctx, "x")

	res, err := b.Break(ctx, "x")
	var live *lease.LiveError
	if !errors.Is(err, lease.ErrLive) || !errors.As(err, &live) {
		t.Fatalf("Break of a live lease: %v, want ErrLive", err)
	}
	if live.Owner != a.Owner() || live.Token != la.Token() || live.Left <= 0 ||
		live.Renewed.Before(time.Now().Add(-5*time.Second)) || live.Renewed.After(time.Now().Add(time.Second)) {
		t.Errorf("LiveError %+v", live)
	}
	if msg := err.Error(); !strings.Contains(msg, a.Owner()) || !strings.Contains(msg, "last renewed at") {
		t.Errorf("message %q does not name the holder and its last renewal", msg)
	}
	if res.Broken || !res.Live || res.Before.Owner != a.Owner() || res.After.Exists {
		t.Errorf("refused Break: %+v", res)
	}
	if st, _ := b.Inspect(ctx, "x"); st.Version != before.Version || st.Owner != a.Owner() {
		t.Fatalf("refused Break wrote: %+v, before %+v", st, before)
	}
	if err := guardedWrite(t, la, "before"); err != nil {
		t.Fatalf("guarded write before the break: %v", err)
	}

	res, err = b.Break(ctx, "x", force)
	if err != nil {
		t.Fatalf("forced Break: %v", err)
	}
	if !res.Broken || !res.Live || res.Before.Token != la.Token() || res.After.Held || !res.After.Exists ||
		res.After.Token <= la.Token() || res.After.Version <= res.After.Token {
		t.Fatalf("forced Break: %+v", res)
	}
	if st, _ := b.Inspect(ctx, "x"); !reflect.DeepEqual(st, res.After) {
		t.Errorf("stored %+v, Break says %+v", st, res.After)
	}
	if err := guardedWrite(t, la, "after"); !errors.Is(err, repo.ErrGuardFailed) || !errors.Is(err, lease.ErrLost) {
		t.Errorf("guarded write of the broken lease: %v, want ErrGuardFailed", err)
	}
	if la.Err() != nil {
		t.Fatalf("A lost before its next renewal: %v", la.Err())
	}
	clkA.waitTimers(t, 1)
	clkA.Advance(10 * time.Second)
	select {
	case <-la.Context().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("A not told of the break at its renewal")
	}
	var le *lease.LostError
	if !errors.As(la.Err(), &le) || (le.Reason != lease.ReleasedElsewhere && le.Reason != lease.TakenOver) {
		t.Fatalf("A's loss: %v", la.Err())
	}
	if err := la.Release(ctx); err != nil {
		t.Fatalf("Release of the broken lease: %v", err)
	}
	// The record was left free: another owner takes it at once, with a
	// greater token.
	c := newManager(t, table)
	lc, err := c.TryAcquire(ctx, "x")
	if err != nil {
		t.Fatalf("TryAcquire after the break: %v", err)
	}
	defer lc.Release(ctx)
	if lc.Token() <= res.After.Token {
		t.Errorf("token %d after the break's %d", lc.Token(), res.After.Token)
	}
}

// A lease whose expiry has passed (its holder stopped renewing) is broken
// without Force; a free record then is nothing to break, and not written.
func TestBreakExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clkA, clkB := newFakeClock(), newFakeClock()
	table := ddblocal.TableName(t)
	a := tableManager(t, ddblocal.Client(t), table, slowBeats(clkA))
	b := newManager(t, table, func(o *lease.Options) { o.Clock = clkB })
	la, err := a.Acquire(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	clkB.Advance(29 * time.Second)
	if _, err := b.Break(ctx, "x"); !errors.Is(err, lease.ErrLive) {
		t.Fatalf("Break before the expiry: %v, want ErrLive", err)
	}
	clkB.Advance(2 * time.Second) // past A's expiry, rounded up to the second
	res, err := b.Break(ctx, "x")
	if err != nil {
		t.Fatalf("Break of an expired lease: %v", err)
	}
	if !res.Broken || res.Live || res.Before.Owner != a.Owner() || res.After.Held || res.After.Token <= la.Token() {
		t.Fatalf("Break of an expired lease: %+v", res)
	}
	if err := guardedWrite(t, la, "g"); !errors.Is(err, repo.ErrGuardFailed) {
		t.Errorf("guarded write of the broken lease: %v", err)
	}
	again, err := b.Break(ctx, "x")
	if err != nil || again.Broken || !again.Before.Exists || again.Before.Held || again.Before.Version != res.After.Version {
		t.Fatalf("Break of a free record: %+v %v", again, err)
	}
	if st, _ := b.Inspect(ctx, "x"); st.Version != res.After.Version {
		t.Errorf("Break of a free record wrote: %+v", st)
	}
	la.Release(ctx)
}

// A missing record, or a missing table, or a cancelled ctx.
func TestBreakMissingAndCancelled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, _ := setup(t)
	res, err := m.Break(ctx, "nope")
	if err != nil || res.Broken || res.Before.Exists || res.Before.Name != "nope" {
		t.Fatalf("Break of a missing record: %+v %v", res, err)
	}
	if st, _ := m.Inspect(ctx, "nope"); st.Exists {
		t.Fatalf("Break of a missing record created it: %+v", st)
	}
	if _, err := m.Break(ctx, ""); !errors.Is(err, lease.ErrInvalidArgument) {
		t.Errorf("empty name: %v", err)
	}
	missing := newManager(t, ddblocal.TableName(t))
	if _, err := missing.Break(ctx, "x"); !errors.Is(err, repo.ErrTableNotFound) {
		t.Errorf("Break on a missing table: %v, want ErrTableNotFound", err)
	}

	other := newManager(t, m.Table())
	l, err := other.Acquire(ctx, "held")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	before, _ := m.Inspect(ctx, "held")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Break(cctx, "held", force); !errors.Is(err, context.Canceled) {
		t.Errorf("Break with ctx cancelled: %v", err)
	}
	if st, _ := m.Inspect(ctx, "held"); st.Owner != other.Owner() || st.Token != before.Token {
		t.Errorf("Break with ctx cancelled changed the record: %+v", st)
	}
}

// beforeWrite runs f once, before the first PutItem or UpdateItem a client
// sends.
func beforeWrite(f func()) func(*dynamodb.Options) {
	var once sync.Once
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("beforeWrite", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				switch in.Parameters.(type) {
				case *dynamodb.PutItemInput, *dynamodb.UpdateItemInput:
					once.Do(f)
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
		})
	}
}

// A holder that renews between Break's read and its takeover write makes
// Break fail with a conflict: nothing is overwritten, and the lease stays
// its holder's.
func TestBreakRenewedMeanwhile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clkA := newFakeClock()
	renewed := make(chan struct{}, 1)
	table := ddblocal.TableName(t)
	a := tableManager(t, ddblocal.Client(t), table, slowBeats(clkA), func(o *lease.Options) {
		o.Observer.Renewed = func(lease.RenewedEvent) { renewed <- struct{}{} }
	})
	la, err := a.Acquire(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	defer la.Release(ctx)
	b := managerOn(t, ddblocal.Client(t, beforeWrite(func() {
		clkA.waitTimers(t, 1)
		clkA.Advance(10 * time.Second)
		select {
		case <-renewed:
		case <-time.After(10 * time.Second):
			t.Error("A did not renew")
		}
	})), table)
	res, err := b.Break(ctx, "x", force)
	if !errors.Is(err, repo.ErrConflict) || res.Broken {
		t.Fatalf("Break racing a renewal: %+v %v, want ErrConflict", res, err)
	}
	t.Logf("Break racing a renewal: %v", err)
	if !strings.Contains(err.Error(), "changed since it was read") || !strings.Contains(err.Error(), a.Owner()) {
		t.Errorf("conflict message: %v", err)
	}
	st, _ := b.Inspect(ctx, "x")
	if st.Owner != a.Owner() || st.Token != la.Token() || st.Version != res.Before.Version+1 {
		t.Fatalf("record after the refused Break: %+v, read %+v", st, res.Before)
	}
	if la.Err() != nil {
		t.Fatalf("the holder lost its lease: %v", la.Err())
	}
	if err := guardedWrite(t, la, "g"); err != nil {
		t.Errorf("guarded write of the holder: %v", err)
	}
}
