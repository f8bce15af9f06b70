package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
)

func TestMain(m *testing.M) { ddblocal.RunTests(m) }

// env is one benchmark's client, with a RequestCounter for totals and a
// tagCounter that attributes each request to the party (holder, waiter,
// writer) whose context it was sent with.
type env struct {
	client  *dynamodb.Client
	counter *ddblocal.RequestCounter
	tags    *tagCounter
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	c := &ddblocal.RequestCounter{}
	tc := &tagCounter{}
	return &env{client: ddblocal.Client(tb, c.Option(), tc.option()), counter: c, tags: tc}
}

// leaseTable creates a fresh lease table and returns its name.
func (e *env) leaseTable(tb testing.TB) string {
	tb.Helper()
	table := ddblocal.TableName(tb)
	m := e.manager(tb, table)
	if err := m.CreateTable(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return table
}

// manager returns a new Manager (its own default Owner) on table.
func (e *env) manager(tb testing.TB, table string, optFns ...func(*lease.Options)) *lease.Manager {
	tb.Helper()
	m, err := lease.New(e.client, table, optFns...)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// tagKey is the context key of a request's tag.
type tagKey struct{}

// tagged returns ctx carrying tag: requests sent with it (or a context
// derived from it) are counted under tag.
func tagged(ctx context.Context, tag string) context.Context {
	return context.WithValue(ctx, tagKey{}, tag)
}

// tagCounter counts requests (every attempt, like ddblocal.RequestCounter)
// per tag of the call's context and per operation.
type tagCounter struct {
	mu sync.Mutex
	n  map[string]int64 // "tag" and "tag/Operation"
}

func (c *tagCounter) option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Deserialize.Add(tagMiddleware{c}, middleware.After)
		})
	}
}

// get returns the count of tag ("waiter") or of one operation of a tag
// ("waiter/GetItem").
func (c *tagCounter) get(key string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

type tagMiddleware struct{ c *tagCounter }

func (tagMiddleware) ID() string { return "bench.tagCounter" }

func (m tagMiddleware) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	tag, _ := ctx.Value(tagKey{}).(string)
	if tag == "" {
		tag = "untagged"
	}
	m.c.mu.Lock()
	if m.c.n == nil {
		m.c.n = map[string]int64{}
	}
	m.c.n[tag]++
	m.c.n[tag+"/"+middleware.GetOperationName(ctx)]++
	m.c.mu.Unlock()
	return next.HandleDeserialize(ctx, in)
}

// samples collects latencies.
type samples []time.Duration

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (s samples) mean() float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return ms(sum) / float64(len(s))
}

// pct returns the p-th percentile (nearest rank) in ms.
func (s samples) pct(p float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	c := slices.Clone(s)
	slices.Sort(c)
	i := int(math.Ceil(p/100*float64(len(c)))) - 1
	return ms(c[max(0, min(i, len(c)-1))])
}

// report reports mean, p50 and p99 of s in ms per unit, with an optional
// prefix ("relstart-").
func (s samples) report(b *testing.B, prefix, unit string) {
	b.ReportMetric(s.mean(), prefix+"ms/"+unit)
	b.ReportMetric(s.pct(50), prefix+"p50-ms/"+unit)
	b.ReportMetric(s.pct(99), prefix+"p99-ms/"+unit)
}

func (s samples) String() string {
	return fmt.Sprintf("n=%d mean=%.2fms p50=%.2fms p99=%.2fms", len(s), s.mean(), s.pct(50), s.pct(99))
}
