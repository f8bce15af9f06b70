package lease_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
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
		if _, ok := stored(t, table)["release_from_ms"]; !ok {
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
			if _, ok := stored(t, table)[a]; ok {
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

// stored is the lease record of "paced" in table, as stored.
func stored(t *testing.T, table string) map[string]types.AttributeValue {
	t.Helper()
	out, err := ddblocal.Client(t).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"name": &types.AttributeValueMemberS{Value: "paced"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}
