package repo_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
)

// The hot-item benchmark: G goroutines share b.N increments of one item.
// Three implementations run in the same binary against the same DynamoDB
// Local: ddbocc's Update, the seeds' recipe (consistent GetItem, conditional
// UpdateItem, on conflict read again at once) and the best hand-written loop
// we know (conditional UpdateItem asking for ALL_OLD, on conflict reuse the
// returned item after a full-jitter backoff). Metrics: commits/s,
// requests/commit (counted by SDK middleware, SDK retries included) and,
// with -benchmem, allocations per commit.
//
//	make bench BENCH=UpdateHot

type hotItem struct {
	ID      string `dynamo:"id,hash"`
	Count   int64  `dynamo:"count"`
	Payload string `dynamo:"payload"`
	Version int64  `dynamo:"version"`
}

type benchEnv struct {
	client  *dynamodb.Client
	counter *ddblocal.RequestCounter
	repo    *repo.Repository[hotItem]
	table   string
}

func newBenchEnv(b *testing.B, policy retry.Policy) *benchEnv {
	c := &ddblocal.RequestCounter{}
	client := ddblocal.Client(b, c.Option())
	table := ddblocal.TableName(b)
	r := mustTable[hotItem](b, client, table, func(o *repo.Options) { o.Retry = policy })
	return &benchEnv{client: client, counter: c, repo: r, table: table}
}

// increment is one implementation: add one to the item under key.
type increment func(ctx context.Context, e *benchEnv, key string, p retry.Policy) error

func viaRepo(ctx context.Context, e *benchEnv, key string, _ retry.Policy) error {
	_, err := e.repo.Update(ctx, repo.Key(key), func(h *hotItem) error { h.Count++; return nil })
	return err
}

func rawKey(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: key}}
}

func rawGet(ctx context.Context, e *benchEnv, key string) (count, version int64, err error) {
	out, err := e.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: rawKey(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, 0, err
	}
	return rawFields(out.Item)
}

func rawFields(item map[string]types.AttributeValue) (count, version int64, err error) {
	c, ok1 := item["count"].(*types.AttributeValueMemberN)
	v, ok2 := item["version"].(*types.AttributeValueMemberN)
	if !ok1 || !ok2 {
		return 0, 0, errors.New("item lacks count or version")
	}
	count, _ = strconv.ParseInt(c.Value, 10, 64)
	version, _ = strconv.ParseInt(v.Value, 10, 64)
	return count, version, nil
}

func rawWrite(ctx context.Context, e *benchEnv, key string, count, version int64, allOld bool) (map[string]types.AttributeValue, error) {
	in := &dynamodb.UpdateItemInput{
		TableName:                aws.String(e.table),
		Key:                      rawKey(key),
		UpdateExpression:         aws.String("SET #c = :c, #v = :nv"),
		ConditionExpression:      aws.String("#v = :v"),
		ExpressionAttributeNames: map[string]string{"#c": "count", "#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":c":  &types.AttributeValueMemberN{Value: strconv.FormatInt(count, 10)},
			":nv": &types.AttributeValueMemberN{Value: strconv.FormatInt(version+1, 10)},
			":v":  &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)},
		},
	}
	if allOld {
		in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	}
	_, err := e.client.UpdateItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, err
	}
	return nil, err
}

// recipe: read, write if the version is unchanged, on conflict read again
// at once.
func recipe(ctx context.Context, e *benchEnv, key string, _ retry.Policy) error {
	for {
		count, version, err := rawGet(ctx, e, key)
		if err != nil {
			return err
		}
		_, err = rawWrite(ctx, e, key, count+1, version, false)
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return err
		}
	}
}

// best: read once; on conflict reuse the ALL_OLD item after a full-jitter
// exponential backoff with the same parameters as ddbocc's policy.
func best(ctx context.Context, e *benchEnv, key string, p retry.Policy) error {
	count, version, err := rawGet(ctx, e, key)
	if err != nil {
		return err
	}
	cap := p.InitialInterval
	for {
		old, err := rawWrite(ctx, e, key, count+1, version, true)
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return err
		}
		if count, version, err = rawFields(old); err != nil {
			return err
		}
		time.Sleep(rand.N(cap + 1))
		cap = min(time.Duration(float64(cap)*p.Multiplier), p.MaxInterval)
	}
}

// impl is one contender of the hot-item benchmark.
type impl struct {
	name string
	inc  increment
}

var impls = []impl{{"ddbocc", viaRepo}, {"noqueue", viaRepoNoQueue}, {"recipe", recipe}, {"best", best}}

// viaRepoNoQueue is ddbocc's Update with local queueing off: every
// goroutine contends through DynamoDB, as separate processes would.
func viaRepoNoQueue(ctx context.Context, e *benchEnv, key string, _ retry.Policy) error {
	_, err := e.repo.Update(ctx, repo.Key(key), func(h *hotItem) error { h.Count++; return nil },
		func(o *repo.Options) { o.DisableLocalQueue = true })
	return err
}

// tally accumulates one implementation's measurements over rounds.
type tally struct {
	commits  int
	elapsed  time.Duration
	requests int64
	mallocs  uint64
}

// runHot runs n increments of a fresh item over g goroutines with one
// implementation and adds what it measured to t.
func runHot(b *testing.B, e *benchEnv, g, n int, inc increment, p retry.Policy, t *tally) {
	ctx := context.Background()
	key := fmt.Sprintf("hot-%d", rand.Int64())
	if _, err := e.repo.Create(ctx, hotItem{ID: key, Payload: "0123456789abcdef0123456789abcdef"}); err != nil {
		b.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	e.counter.Reset()
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < g; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if err := inc(ctx, e, key, p); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	t.elapsed += time.Since(start)
	t.requests += e.counter.Count()
	runtime.ReadMemStats(&ms)
	t.mallocs += ms.Mallocs - mallocs
	t.commits += n
	count, _, err := rawGet(ctx, e, key)
	if err != nil {
		b.Fatal(err)
	}
	if count != int64(n) {
		b.Fatalf("count %d after %d increments", count, n)
	}
}

// compareHot runs b.N increments with every implementation, interleaved in
// rounds so that DynamoDB Local's drift over time (GC, JIT, table growth)
// falls on all of them alike, and reports each one's metrics side by side.
// ns/op is the whole round of all implementations; read the named metrics.
func compareHot(b *testing.B, e *benchEnv, g int, p retry.Policy, contenders []impl) {
	const rounds = 5
	tallies := make([]tally, len(contenders))
	per := max(b.N/rounds, 1)
	for r := 0; r < rounds; r++ {
		for i := range contenders {
			j := (i + r) % len(contenders) // rotate who goes first
			runHot(b, e, g, per, contenders[j].inc, p, &tallies[j])
		}
	}
	for i, c := range contenders {
		t := tallies[i]
		b.ReportMetric(float64(t.commits)/t.elapsed.Seconds(), c.name+"-commits/s")
		b.ReportMetric(float64(t.requests)/float64(t.commits), c.name+"-req/commit")
		b.ReportMetric(float64(t.mallocs)/float64(t.commits), c.name+"-allocs/commit")
	}
	rate := func(t tally) float64 { return float64(t.commits) / t.elapsed.Seconds() }
	bestLoop := tallies[len(contenders)-1] // the best hand-written loop comes last
	for i, c := range contenders[:len(contenders)-1] {
		if c.name == "ddbocc" || c.name == "noqueue" {
			b.ReportMetric(rate(tallies[i])/rate(bestLoop), c.name+"/best")
		}
	}
}

func BenchmarkUpdateHot(b *testing.B) {
	p := retry.DefaultPolicy()
	e := newBenchEnv(b, p)
	warmUp(b, e, p)
	for _, g := range []int{1, 16} {
		b.Run(fmt.Sprintf("g=%d", g), func(b *testing.B) { compareHot(b, e, g, p, impls) })
	}
}

// warmUp runs every implementation for a while on a fresh table before
// anything is measured: DynamoDB Local's JIT and a new table's first writes
// otherwise slow down whichever implementation happens to run first.
func warmUp(b *testing.B, e *benchEnv, p retry.Policy) {
	ctx := context.Background()
	key := fmt.Sprintf("warm-%d", rand.Int64())
	if _, err := e.repo.Create(ctx, hotItem{ID: key}); err != nil {
		b.Fatal(err)
	}
	for _, c := range impls {
		inc := c.inc
		for i := 0; i < 300; i++ {
			if err := inc(ctx, e, key, p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPolicySweep measures ddbocc's Update and the best hand-written
// loop on the hot item at 16 goroutines under several backoff policies: the
// data behind retry.DefaultPolicy.
func BenchmarkPolicySweep(b *testing.B) {
	for _, init := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond} {
		for _, maxI := range []time.Duration{20 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond} {
			p := retry.Policy{InitialInterval: init, MaxInterval: maxI, Multiplier: 2, MaxElapsedTime: time.Minute}
			e := newBenchEnv(b, p)
			warmUp(b, e, p)
			b.Run(fmt.Sprintf("init=%v/max=%v", init, maxI), func(b *testing.B) {
				compareHot(b, e, 16, p, []impl{{"noqueue", viaRepoNoQueue}, {"best", best}})
			})
		}
	}
}

// BenchmarkTransfer measures the transfer workload of examples/transfer: G
// goroutines each committing transactions that move an amount between two
// of 8 accounts and write a ledger entry, reading the two accounts either
// in one TransactGetItems snapshot (TxGetMany) or with two GetItems (TxGet).
// It reports commits/s, requests per committed transfer and conflicts per
// commit.
func BenchmarkTransfer(b *testing.B) {
	type ledgerEntry struct {
		ID      string `dynamo:"id,hash"`
		Amount  int64  `dynamo:"amount"`
		Version int64  `dynamo:"version"`
	}
	e := newBenchEnv(b, retry.DefaultPolicy())
	ledger := mustTable[ledgerEntry](b, e.client, e.table+"-ledger")
	const naccounts = 8
	ctx := context.Background()
	for _, g := range []int{1, 16} {
		for _, many := range []bool{true, false} {
			name := map[bool]string{true: "TxGetMany", false: "TxGet"}[many]
			b.Run(fmt.Sprintf("g=%d/%s", g, name), func(b *testing.B) {
				prefix := fmt.Sprintf("acct-%d-", rand.Int64())
				for i := 0; i < naccounts; i++ {
					if _, err := e.repo.Create(ctx, hotItem{ID: fmt.Sprint(prefix, i), Count: 1 << 40}); err != nil {
						b.Fatal(err)
					}
				}
				var conflicts atomic.Int64
				opt := func(o *repo.TxOptions) {
					o.Observer.Conflict = func(repo.ConflictEvent) { conflicts.Add(1) }
					o.Retry.MaxElapsedTime = time.Minute
				}
				e.counter.Reset()
				var left atomic.Int64
				left.Store(int64(b.N))
				var wg sync.WaitGroup
				b.ResetTimer()
				start := time.Now()
				for w := 0; w < g; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for n := left.Add(-1); n >= 0; n = left.Add(-1) {
							from, to := rand.IntN(naccounts), rand.IntN(naccounts-1)
							if to >= from {
								to++
							}
							err := repo.Transact(ctx, e.client, func(tx *repo.Tx) error {
								var src, dst hotItem
								if many {
									items, _, err := e.repo.TxGetMany(tx, repo.Key(fmt.Sprint(prefix, from)), repo.Key(fmt.Sprint(prefix, to)))
									if err != nil {
										return err
									}
									src, dst = items[0], items[1]
								} else {
									var err error
									if src, err = e.repo.TxGet(tx, repo.Key(fmt.Sprint(prefix, from))); err != nil {
										return err
									}
									if dst, err = e.repo.TxGet(tx, repo.Key(fmt.Sprint(prefix, to))); err != nil {
										return err
									}
								}
								src.Count--
								dst.Count++
								if err := e.repo.TxSave(tx, &src); err != nil {
									return err
								}
								if err := e.repo.TxSave(tx, &dst); err != nil {
									return err
								}
								return ledger.TxCreate(tx, &ledgerEntry{ID: fmt.Sprint(prefix, "e", n), Amount: 1})
							}, opt)
							if err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "commits/s")
				b.ReportMetric(float64(e.counter.Count())/float64(b.N), "req/commit")
				b.ReportMetric(float64(conflicts.Load())/float64(b.N), "conflicts/commit")
			})
		}
	}
}
