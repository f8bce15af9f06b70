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

// The same when the record is deleted by the table's TTL: H's lease is
// short and its RecordTTL just longer, so that DynamoDB Local (an instance
// of this test's own: its TTL sweeper stalls once an instance holds about
// 20 TTL-enabled tables) collects the released record within seconds.
func TestNoTakeoverOfRecordRecreatedAfterTTL(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	inst, err := ddblocal.StartOwn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Stop()
	short := func(o *lease.Options) {
		o.Duration, o.HeartbeatInterval, o.RecordTTL = 2*time.Second, time.Second, 3*time.Second
	}
	recreatedRecord(t, inst.Client(), short, func(ctx context.Context, t *testing.T, client *dynamodb.Client, table string) {
		start := time.Now()
		for {
			out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
				Key: map[string]types.AttributeValue{"name": &types.AttributeValueMemberS{Value: "job"}}})
			if err != nil {
				t.Fatal(err)
			}
			if out.Item == nil {
				t.Logf("TTL deleted the released record %v after the release", time.Since(start).Round(time.Millisecond))
				return
			}
			if ctx.Err() != nil {
				t.Fatal("TTL did not delete the released record")
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

// recreatedRecord runs the steps of issue 12: W fails a TryAcquire while H
// holds "job"; H releases and the record is deleted (del); H2 acquires anew
// at version 1; W, whose watch of H's hold is a full duration old, tries
// again and must find the name held. hOpts, if set, are H's options besides
// its fake clock.
func recreatedRecord(t *testing.T, client *dynamodb.Client, hOpts func(*lease.Options), del func(context.Context, *testing.T, *dynamodb.Client, string)) {
	ctx := context.Background()
	table := ddblocal.TableName(t)
	clkW, clkH, clkH2 := newFakeClock(), newFakeClock(), newFakeClock()
	mgr := func(c *fakeClock, more ...func(*lease.Options)) *lease.Manager {
		opts := append([]func(*lease.Options){slowBeats(c), func(o *lease.Options) { o.RecordTTL = 31 * time.Second }}, more...)
		return managerOn(t, client, table, opts...)
	}
	var hMore []func(*lease.Options)
	if hOpts != nil {
		hMore = append(hMore, hOpts)
	}
	h, w, h2 := mgr(clkH, hMore...), mgr(clkW), mgr(clkH2)
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
