package lease_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
)

// What the lease fault tests share: Managers whose requests meet faults,
// and a counter only the lease protects.

// faultyManager is a Manager of table whose every request goes through a
// fault injector with cfg, and through a Link that can cut it off, with
// 1.5 s leases and fast repository retries; opts adds the test's options.
func faultyManager(t *testing.T, table string, cfg faults.Config, opts func(*lease.Options)) (*lease.Manager, *faults.Transport, *faults.Link) {
	t.Helper()
	ft := faults.New(cfg, nil)
	link := faults.NewLink(ft)
	client := ddblocal.NewClient(ddblocal.Endpoint(t), link.Option(), faults.FastRetries)
	m := managerOn(t, client, table, func(o *lease.Options) {
		o.Duration = 1500 * time.Millisecond
		o.Repo = append(o.Repo, func(r *repo.Options) {
			r.Retry = retry.Policy{InitialInterval: time.Millisecond, MaxInterval: 20 * time.Millisecond, Multiplier: 2, MaxElapsedTime: time.Minute}
		})
		opts(o)
	})
	return m, ft, link
}

// unguarded is the counter a lease fault test protects: an item written
// with unconditional puts through a clean client, so that only the lease
// keeps two holders apart, and the log of the values written with their
// holders' tokens.
type unguarded struct {
	clean *dynamodb.Client
	data  *repo.Repository[counterItem]
	mu    sync.Mutex
	log   []counterWrite
}

// counterWrite is one increment: the value it read, the token it held,
// and the test's mark of its writer.
type counterWrite struct {
	n, token int64
	tag      bool
}

// newUnguarded creates table with the counter at 0.
func newUnguarded(ctx context.Context, t *testing.T, clean *dynamodb.Client, table string) *unguarded {
	t.Helper()
	data, err := repo.New[counterItem](clean, table)
	if err != nil {
		t.Fatal(err)
	}
	if err := data.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := data.Create(ctx, counterItem{ID: "c"}); err != nil {
		t.Fatal(err)
	}
	return &unguarded{clean: clean, data: data}
}

// increment reads the counter, pauses a millisecond and, if l is still
// held, writes counter+1 unconditionally and logs it; wrote says whether it
// did.
func (c *unguarded) increment(ctx context.Context, l *lease.Lease, tag bool) (wrote bool, err error) {
	cur, err := c.data.Get(ctx, repo.Key("c"))
	if err != nil {
		return false, err
	}
	time.Sleep(time.Millisecond)
	if l.Err() != nil {
		return false, nil
	}
	_, err = c.clean.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(c.data.Table()), Item: map[string]types.AttributeValue{
		"id": &types.AttributeValueMemberS{Value: "c"}, "n": &types.AttributeValueMemberN{Value: strconv.FormatInt(cur.N+1, 10)},
		"version": &types.AttributeValueMemberN{Value: strconv.FormatInt(cur.Version+1, 10)}}})
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	c.log = append(c.log, counterWrite{cur.N, l.Token(), tag})
	c.mu.Unlock()
	return true, nil
}

// check returns the first violation: the values written are not exactly
// 0..K-1, each once (two holders at once would write the same value), the
// tokens do not strictly increase along them, or the counter is not K. It
// also returns K and how many writes were tagged.
func (c *unguarded) check() (k, tagged int, err error) {
	c.mu.Lock()
	log := slices.Clone(c.log)
	c.mu.Unlock()
	slices.SortFunc(log, func(a, b counterWrite) int { return int(a.n - b.n) })
	for i, e := range log {
		if e.n != int64(i) {
			return 0, 0, fmt.Errorf("counter values written: %v... two holders at once (value %d at position %d)", log[:i+1], e.n, i)
		}
		if i > 0 && e.token <= log[i-1].token {
			return 0, 0, fmt.Errorf("token %d after %d along the counter", e.token, log[i-1].token)
		}
		if e.tag {
			tagged++
		}
	}
	final, err := c.data.Get(context.Background(), repo.Key("c"))
	if err != nil || final.N != int64(len(log)) {
		return 0, 0, fmt.Errorf("counter %d (%v), want %d", final.N, err, len(log))
	}
	return len(log), tagged, nil
}
