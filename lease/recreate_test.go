package lease_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
)

// A waiter that watched a name's record before it was deleted does not take
// over the record created anew since: at version 1 again, it is another
// write, and the waiter must see it unchanged for a full duration first.
// (Before the fix the waiter took it over at once, with H2 renewing.)
func TestNoTakeoverOfRecreatedRecord(t *testing.T) {
	t.Parallel()
	recreatedRecord(t, ddblocal.Client(t), nil, func(ctx context.Context, t *testing.T, client *dynamodb.Client, table string) {
		_, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table),
			Key: map[string]types.AttributeValue{"name": &types.AttributeValueMemberS{Value: "job"}}})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// recreatedRecord runs the steps of issue 12: W fails a TryAcquire while H
// holds "job"; H releases and the record is deleted (del); H2 acquires anew
// at version 1; W, whose watch of H's hold is a full duration old, tries
// again and must find the name held. hClock, if set, is H's clock.
func recreatedRecord(t *testing.T, client *dynamodb.Client, hClock *fakeClock, del func(context.Context, *testing.T, *dynamodb.Client, string)) {
	ctx := context.Background()
	table := ddblocal.TableName(t)
	clkW, clkH2 := newFakeClock(), newFakeClock()
	if hClock == nil {
		hClock = newFakeClock()
	}
	mgr := func(c *fakeClock) *lease.Manager {
		m, err := lease.New(client, table, slowBeats(c), func(o *lease.Options) { o.RecordTTL = 31 * time.Second })
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	h, w, h2 := mgr(hClock), mgr(clkW), mgr(clkH2)
	if err := h.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	lh, err := h.Acquire(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.TryAcquire(ctx, "job"); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("W's first TryAcquire: %v", err)
	}
	if err := lh.Release(ctx); err != nil {
		t.Fatal(err)
	}
	del(ctx, t, client, table)
	lh2, err := h2.Acquire(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	defer lh2.Release(ctx)
	if lh2.Token() != 1 {
		t.Fatalf("H2's token %d: the record was not created anew", lh2.Token())
	}
	clkW.Advance(31 * time.Second) // W's watch of H's hold is older than a duration
	if lw, err := w.TryAcquire(ctx, "job"); !errors.Is(err, lease.ErrHeld) {
		if err == nil {
			lw.Release(ctx)
		}
		t.Fatalf("W took over H2's live lease (token %d): %v", lh2.Token(), err)
	}
	if lh2.Err() != nil {
		t.Fatalf("H2's lease: %v", lh2.Err())
	}
	// H2 stops renewing (its clock stands still): W takes over once it has
	// watched H2's record for a full duration.
	clkW.Advance(29 * time.Second)
	if _, err := w.TryAcquire(ctx, "job"); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("W took over before a full duration of H2's record: %v", err)
	}
	clkW.Advance(time.Second)
	lw, err := w.TryAcquire(ctx, "job")
	if err != nil {
		t.Fatalf("W did not take over H2's stale record: %v", err)
	}
	defer lw.Release(ctx)
	if lw.Token() <= lh2.Token() {
		t.Fatalf("W's token %d after H2's %d", lw.Token(), lh2.Token())
	}
}
