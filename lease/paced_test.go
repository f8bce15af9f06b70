package lease_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/lease"
)

// A holder whose holds of a name all last about a second stores a
// forecast with its acquires once it has a few behind it, and a waiter in
// another Manager paces its polls by it (pace.go): in the first 500 ms of
// a hold it polls at most 3 times (at once, then every 250 ms ± 20%),
// where polls every 100 ms (the defaults without a forecast) would be 5 or
// more. A release long before the forecast still reaches the waiter.
func TestPacedPolls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	holder, table := setup(t, owner("holder"))
	c := &ddblocal.RequestCounter{}
	waiter := managerOn(t, ddblocal.Client(t, c.Option()), table, owner("waiter"))
	const hold = time.Second
	for range 8 { // the holder learns its holds
		l, err := holder.Acquire(ctx, "paced")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(hold)
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}

	handOver := func(hold time.Duration) (firstPolls int64) {
		t.Helper()
		l, err := holder.Acquire(ctx, "paced")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := stored(t, table, "paced")["release_from_ms"]; !ok {
			t.Fatal("the holder's acquire stored no forecast")
		}
		c.Reset()
		got := make(chan *lease.Lease, 1)
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		go func() {
			w, err := waiter.Acquire(wctx, "paced")
			if err != nil {
				t.Error(err)
			}
			got <- w
		}()
		time.Sleep(min(hold, 500*time.Millisecond))
		firstPolls = c.Count()
		time.Sleep(hold - min(hold, 500*time.Millisecond))
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		w := <-got
		if w == nil {
			t.FailNow()
		}
		if w.Token() <= l.Token() {
			t.Fatalf("waiter token %d after holder's %d", w.Token(), l.Token())
		}
		t.Logf("hold %v: %d waiter requests in all, %d in the first 500ms", hold, c.Count(), firstPolls)
		if err := w.Release(ctx); err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"since_ms", "release_from_ms", "release_to_ms"} {
			if _, ok := stored(t, table, "paced")[a]; ok {
				t.Fatalf("a released record keeps the forecast's %s", a)
			}
		}
		return firstPolls
	}
	if n := handOver(hold); n > 3 {
		t.Errorf("%d polls in the first 500ms of a forecast hold of %v, want at most 3", n, hold)
	}
	handOver(300 * time.Millisecond) // long before the forecast: taken all the same
}

// TestPacedUnderFaults runs paced polls under faults: three Managers whose
// every request may be lost, throttled, refused or slowed take turns on a
// name, each hold about 150 ms, so that their acquires carry forecasts and
// their waiters pace by them, and increment a counter only the lease
// protects. The values written are 0..K-1, once each, with increasing
// tokens. (The suite's protection-off variant is
// TestLeaseUnderFaultsCatchesLateLoss.)
func TestPacedUnderFaults(t *testing.T) {
	t.Parallel()
	const target = 36
	seed := faults.Seed(t)
	cfg := faults.Config{Drop: 0.08, Throttle: 0.05, Error500: 0.04, Reset: 0.04, Latency: 20 * time.Millisecond, LatencyP: 0.1}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	table := ddblocal.TableName(t)
	counter := newUnguarded(ctx, t, ddblocal.Client(t), table+"-data")
	if err := managerOn(t, ddblocal.Client(t), table).CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	var done, forecasts atomic.Int64
	var wg sync.WaitGroup
	for i := range 3 {
		mcfg := cfg
		mcfg.Seed = seed + uint64(i)
		m, _, _ := faultyManager(t, table, mcfg, func(*lease.Options) {})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done.Load() < target && ctx.Err() == nil {
				l, err := m.Acquire(ctx, "paced")
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("manager %d: Acquire: %v", i, err)
					}
					return
				}
				if _, ok := stored(t, table, "paced")["release_from_ms"]; ok {
					forecasts.Add(1)
				}
				if wrote, err := counter.increment(ctx, l, false); err != nil {
					t.Errorf("increment: %v", err)
				} else if wrote {
					done.Add(1)
				}
				time.Sleep(150 * time.Millisecond)
				_ = l.Release(ctx) // a release that fails leaves the lease to expire
			}
		}()
	}
	wg.Wait()
	k, _, err := counter.check()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d increments, %d acquires carried a forecast", k, forecasts.Load())
	if forecasts.Load() == 0 {
		t.Error("no acquire carried a forecast: the paced path was not run")
	}
}

// stored is the lease record of name in table, as stored.
func stored(t *testing.T, table, name string) map[string]types.AttributeValue {
	t.Helper()
	out, err := ddblocal.Client(t).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"name": &types.AttributeValueMemberS{Value: name}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}
