package repo_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
)

// seedBatchAccounts stores accounts "k000".."k<n-1>" but those whose index
// skip reports, with Balance set to the index, through SaveAll.
func seedBatchAccounts(t testing.TB, r *repo.Repository[Account], n int, skip func(int) bool) {
	t.Helper()
	var items []Account
	for i := 0; i < n; i++ {
		if !skip(i) {
			items = append(items, Account{ID: fmt.Sprintf("k%03d", i), Balance: int64(i)})
		}
	}
	results, err := r.SaveAll(context.Background(), items)
	if err != nil {
		t.Fatalf("SaveAll: %v", err)
	}
	for i, res := range results {
		if res.Err != nil {
			t.Fatalf("SaveAll item %d: %v", i, res.Err)
		}
	}
}

// BatchGet of 250 keys in a shuffled order, every fifth of them missing:
// three requests, the items in the keys' order, the missing ones reported.
func TestBatchGet250(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	missing := func(i int) bool { return i%5 == 4 }
	seedBatchAccounts(t, accounts, 250, missing)

	order := rand.Perm(250)
	keys := make([]repo.ItemKey, len(order))
	for i, n := range order {
		keys[i] = repo.Key(fmt.Sprintf("k%03d", n))
	}
	e.counter.Reset()
	res, err := accounts.BatchGet(context.Background(), keys)
	if err != nil {
		t.Fatal(err)
	}
	if ops := e.counter.ByOperation(); ops["BatchGetItem"] != 3 || e.counter.Count() != 3 {
		t.Fatalf("requests %v, want 3 BatchGetItem", ops)
	}
	if len(res.Items) != 250 || len(res.Found) != 250 {
		t.Fatalf("%d items, %d found flags; want 250", len(res.Items), len(res.Found))
	}
	var wantMissing []int
	for i, n := range order {
		a, found := res.Items[i], res.Found[i]
		if missing(n) {
			wantMissing = append(wantMissing, i)
			if found || a != (Account{}) {
				t.Errorf("position %d (k%03d): found %v, %+v; want not found, zero", i, n, found, a)
			}
			continue
		}
		if want := (Account{ID: fmt.Sprintf("k%03d", n), Balance: int64(n), Version: 1}); !found || a != want {
			t.Errorf("position %d: found %v, %+v; want %+v", i, found, a, want)
		}
	}
	if got := res.Missing(); !slices.Equal(got, wantMissing) {
		t.Fatalf("Missing() = %v, want %v", got, wantMissing)
	}
}

// Keys given several times are asked for once and fill every position;
// the range key type works as the hash-only one.
func TestBatchGetDuplicates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	entries := newRepo[Entry](t, e)
	ctx := context.Background()
	for seq := 1; seq <= 3; seq++ {
		mustCreate(t, entries, Entry{User: "u1", Seq: seq, Name: fmt.Sprint("n", seq)})
	}
	e.counter.Reset()
	keys := []repo.ItemKey{repo.Key("u1", 2), repo.Key("u1", 1), repo.Key("u1", 2), repo.Key("u1", 9), repo.Key("u1", 1), repo.Key("u1", 9), repo.Key("u1", 2)}
	res, err := entries.BatchGet(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, it := range res.Items {
		got = append(got, fmt.Sprintf("%v:%d:%s:%d", res.Found[i], it.Seq, it.Name, it.Rev))
	}
	want := []string{"true:2:n2:1", "true:1:n1:1", "true:2:n2:1", "false:0::0", "true:1:n1:1", "false:0::0", "true:2:n2:1"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if m := res.Missing(); !slices.Equal(m, []int{3, 5}) {
		t.Fatalf("Missing() = %v, want [3 5]", m)
	}
	if n := e.counter.ByOperation()["BatchGetItem"]; n != 1 {
		t.Fatalf("%d BatchGetItem requests, want 1", n)
	}

	// One number written two ways is one key to DynamoDB: asked for once,
	// and the item it returns (under "2") fills both positions.
	e.counter.Reset()
	res, err = entries.BatchGet(ctx, []repo.ItemKey{repo.Key("u1", attributevalue.Number("2.0")), repo.Key("u1", 2)})
	if err != nil || res.Missing() != nil || res.Items[0].Name != "n2" || res.Items[1].Name != "n2" || e.counter.Count() != 1 {
		t.Fatalf("2.0 and 2: %+v, %v, %d requests; want n2 twice in 1 request", res, err, e.counter.Count())
	}

	// 150 copies of one key are one request of one key.
	many := make([]repo.ItemKey, 150)
	for i := range many {
		many[i] = repo.Key("u1", 3)
	}
	e.counter.Reset()
	res, err = entries.BatchGet(ctx, many)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(res.Found, false) || res.Items[149].Name != "n3" || e.counter.Count() != 1 {
		t.Fatalf("150 copies: missing %v, last %+v, %d requests; want all found in 1 request", res.Missing(), res.Items[149], e.counter.Count())
	}
}

// requestsSeen records the ConsistentRead of every BatchGetItem request a
// client sends (an Initialize middleware sees the input; the request still
// goes to DynamoDB Local).
type requestsSeen struct {
	mu         sync.Mutex
	consistent []bool
	keys       []int
}

func (s *requestsSeen) option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("test.requestsSeen",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if bg, ok := in.Parameters.(*dynamodb.BatchGetItemInput); ok {
						s.mu.Lock()
						for _, ka := range bg.RequestItems {
							s.consistent = append(s.consistent, aws.ToBool(ka.ConsistentRead))
							s.keys = append(s.keys, len(ka.Keys))
						}
						s.mu.Unlock()
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	}
}

func (s *requestsSeen) take() ([]bool, []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, k := s.consistent, s.keys
	s.consistent, s.keys = nil, nil
	return c, k
}

// The consistent-read option: the repository's default, overridden per
// call either way.
func TestBatchGetConsistentRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := newRepo[Account](t, e)
	mustCreate(t, setup, Account{ID: "a1", Balance: 5})
	seen := &requestsSeen{}
	client := ddblocal.Client(t, seen.option())
	strong := mustNew[Account](t, client, e.table)
	eventual := mustNew[Account](t, client, e.table, func(o *repo.Options) { o.EventuallyConsistent = true })
	ctx := context.Background()
	keys := []repo.ItemKey{repo.Key("a1")}
	for _, c := range []struct {
		name string
		r    *repo.Repository[Account]
		opt  func(*repo.BatchGetOptions)
		want bool
	}{
		{"repository default", strong, func(*repo.BatchGetOptions) {}, true},
		{"eventually consistent repository", eventual, func(*repo.BatchGetOptions) {}, false},
		{"eventual per call", strong, func(o *repo.BatchGetOptions) { o.EventuallyConsistent = true }, false},
		{"consistent per call", eventual, func(o *repo.BatchGetOptions) { o.EventuallyConsistent = false }, true},
	} {
		res, err := c.r.BatchGet(ctx, keys, c.opt)
		if err != nil || !res.Found[0] || res.Items[0].Balance != 5 {
			t.Fatalf("%s: %+v, %v", c.name, res, err)
		}
		if got, _ := seen.take(); !slices.Equal(got, []bool{c.want}) {
			t.Errorf("%s: ConsistentRead %v, want [%v]", c.name, got, c.want)
		}
	}
}

// bigItem is an item of about 350 KB: 100 of them are a 35 MB answer, over
// BatchGetItem's 16 MB limit.
type bigItem struct {
	ID      string `dynamo:"id,hash"`
	Blob    string `dynamo:"blob"`
	Version int64  `dynamo:"version"`
}

// DynamoDB Local answers a BatchGetItem of 100 items of 350 KB with part
// of them and the rest in UnprocessedKeys: BatchGet asks again for the
// rest, after a backoff, until it has them all.
func TestBatchGetUnprocessedKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var (
		mu      sync.Mutex
		retries []repo.RetryEvent
	)
	bigs := newRepo[bigItem](t, e, func(o *repo.Options) {
		o.Observer.Retry = func(ev repo.RetryEvent) { mu.Lock(); retries = append(retries, ev); mu.Unlock() }
	})
	const n = 100
	blob := strings.Repeat("x", 350*1024)
	items := make([]bigItem, n)
	keys := make([]repo.ItemKey, n)
	for i := range items {
		id := fmt.Sprintf("big%03d", i)
		items[i] = bigItem{ID: id, Blob: blob}
		keys[n-1-i] = repo.Key(id)
	}
	results, err := bigs.SaveAll(context.Background(), items, func(o *repo.BulkOptions) { o.Concurrency = 4 })
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
	}
	mu.Lock()
	retries = nil
	mu.Unlock()
	e.counter.Reset()

	res, err := bigs.BatchGet(context.Background(), keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range res.Items {
		if want := fmt.Sprintf("big%03d", n-1-i); !res.Found[i] || it.ID != want || len(it.Blob) != len(blob) || it.Version != 1 {
			t.Fatalf("position %d: found %v, id %s, %d bytes, version %d; want %s", i, res.Found[i], it.ID, len(it.Blob), it.Version, want)
		}
	}
	reqs := e.counter.ByOperation()["BatchGetItem"]
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d BatchGetItem requests for %d keys of %d KB; retries: %d", reqs, n, len(blob)/1024, len(retries))
	for _, r := range retries {
		t.Logf("  attempt %d: %v (delay %v)", r.Attempt, r.Err, r.Delay)
	}
	if reqs < 2 {
		t.Fatalf("%d BatchGetItem request(s): DynamoDB Local left nothing unprocessed, the retry was not exercised", reqs)
	}
	if len(retries) != int(reqs)-1 {
		t.Fatalf("%d retry events for %d requests, want one per request after the first", len(retries), reqs)
	}
	for _, r := range retries {
		if r.Op != "BatchGet" || !strings.Contains(r.Err.Error(), "unprocessed") {
			t.Fatalf("retry event %+v, want an unprocessed-keys retry of BatchGet", r)
		}
	}
}

// The table is missing: the error says so.
func TestBatchGetNoTable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := mustNew[Account](t, e.client, e.table)
	_, err := accounts.BatchGet(context.Background(), []repo.ItemKey{repo.Key("a1")})
	if !errors.Is(err, repo.ErrTableNotFound) {
		t.Fatalf("BatchGet on a missing table: %v, want ErrTableNotFound", err)
	}
}

// withholding is a client option whose Deserialize middleware moves the
// items of the next n BatchGetItem responses but keep of them into
// UnprocessedKeys, as DynamoDB does when it throttles: the requests go to
// DynamoDB Local, only their answers are cut short.
func withholding(n *atomic.Int64, keep int, schemaKey func(map[string]types.AttributeValue) map[string]types.AttributeValue) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("test.withholding",
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleDeserialize(ctx, in)
					bg, ok := out.Result.(*dynamodb.BatchGetItemOutput)
					if err != nil || !ok || n.Add(-1) < 0 {
						return out, md, err
					}
					for table, items := range bg.Responses {
						if len(items) <= keep {
							continue
						}
						if bg.UnprocessedKeys == nil {
							bg.UnprocessedKeys = map[string]types.KeysAndAttributes{}
						}
						ka := bg.UnprocessedKeys[table]
						for _, item := range items[keep:] {
							ka.Keys = append(ka.Keys, schemaKey(item))
						}
						bg.UnprocessedKeys[table] = ka
						bg.Responses[table] = items[:keep]
					}
					return out, md, err
				}), middleware.Before)
		})
	}
}

func batchAccountKey(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": item["id"]}
}

// Unprocessed keys withheld by the middleware: a few rounds are fetched
// after backoffs; when they never come, BatchGet stops with the policy
// spent and says why.
func TestBatchGetWithheld(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := newRepo[Account](t, e)
	seedBatchAccounts(t, setup, 30, func(int) bool { return false })
	keys := make([]repo.ItemKey, 30)
	for i := range keys {
		keys[i] = repo.Key(fmt.Sprintf("k%03d", i))
	}
	ctx := context.Background()
	policy := func(o *repo.BatchGetOptions) {
		o.Retry = retry.Policy{InitialInterval: time.Millisecond, MaxInterval: 4 * time.Millisecond, Multiplier: 2, MaxAttempts: 5}
	}

	// Three answers of 8 items each, then the 6 left: 4 requests.
	var n atomic.Int64
	n.Store(3)
	c := &ddblocal.RequestCounter{}
	r := mustNew[Account](t, ddblocal.Client(t, c.Option(), withholding(&n, 8, batchAccountKey)), e.table)
	res, err := r.BatchGet(ctx, keys, policy)
	if err != nil {
		t.Fatal(err)
	}
	if m := res.Missing(); m != nil || res.Items[29].Balance != 29 {
		t.Fatalf("missing %v, last %+v; want all 30", m, res.Items[29])
	}
	if got := c.ByOperation()["BatchGetItem"]; got != 4 {
		t.Fatalf("%d BatchGetItem requests, want 4 (30 keys, 8 answered per request for three)", got)
	}

	// Nothing ever answered: 5 attempts, then the policy is spent.
	n.Store(1 << 30)
	c.Reset()
	r = mustNew[Account](t, ddblocal.Client(t, c.Option(), withholding(&n, 0, batchAccountKey)), e.table)
	res, err = r.BatchGet(ctx, keys, policy)
	if !errors.Is(err, retry.ErrExhausted) || !strings.Contains(err.Error(), "30 of 30 keys unprocessed") || res.Items != nil {
		t.Fatalf("BatchGet with every key withheld: %+v, %v; want no result, ErrExhausted and the unprocessed count", res, err)
	}
	if got := c.ByOperation()["BatchGetItem"]; got != 5 {
		t.Fatalf("%d BatchGetItem requests, want the policy's 5", got)
	}
}

// Throttling and 500s on BatchGetItem are retried.
func TestBatchGetTransientErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := newRepo[Account](t, e)
	seedBatchAccounts(t, setup, 5, func(int) bool { return false })
	client, tr := scripted(t, "BatchGetItem", faults.Throttle, faults.Error500, faults.Reset, faults.Throttle, faults.Throttle, faults.Error500)
	r := mustNew[Account](t, client, e.table, fastRetry)
	keys := []repo.ItemKey{repo.Key("k004"), repo.Key("k000")}
	res, err := r.BatchGet(context.Background(), keys)
	if err != nil || res.Missing() != nil || res.Items[0].Balance != 4 {
		t.Fatalf("BatchGet through faults %v: %+v, %v", tr.Stats(), res, err)
	}
	t.Logf("faults %v", tr.Stats())
}

// inFlight tracks how many operations of a client are in flight at once
// and the most there were, through an Initialize middleware.
type inFlight struct {
	now, most atomic.Int64
}

func (f *inFlight) option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("test.inFlight",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					n := f.now.Add(1)
					defer f.now.Add(-1)
					for {
						m := f.most.Load()
						if n <= m || f.most.CompareAndSwap(m, n) {
							break
						}
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	}
}

// BatchGetOptions.Concurrency bounds the requests in flight.
func TestBatchGetConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := newRepo[Account](t, e)
	seedBatchAccounts(t, setup, 1000, func(i int) bool { return i%2 == 1 })
	keys := make([]repo.ItemKey, 1000)
	for i := range keys {
		keys[i] = repo.Key(fmt.Sprintf("k%03d", i))
	}
	for _, conc := range []int{1, 2, 0} {
		f := &inFlight{}
		c := &ddblocal.RequestCounter{}
		r := mustNew[Account](t, ddblocal.Client(t, f.option(), c.Option()), e.table)
		res, err := r.BatchGet(context.Background(), keys, func(o *repo.BatchGetOptions) { o.Concurrency = conc })
		if err != nil {
			t.Fatal(err)
		}
		if m := res.Missing(); len(m) != 500 || m[0] != 1 || res.Items[998].Balance != 998 {
			t.Fatalf("concurrency %d: %d missing, item 998 %+v; want the 500 odd ones missing", conc, len(m), res.Items[998])
		}
		limit := map[int]int64{0: 4}[conc]
		if limit == 0 {
			limit = int64(conc)
		}
		t.Logf("concurrency %d: at most %d of %d requests in flight", conc, f.most.Load(), c.Count())
		if f.most.Load() > limit || c.Count() != 10 {
			t.Errorf("concurrency %d: %d requests in flight at once, %d in all; want at most %d, 10 in all", conc, f.most.Load(), c.Count(), limit)
		}
	}
}
