package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// counter is the hot item of BenchmarkProtectedIncrement.
type counter struct {
	ID      string `dynamo:"id,hash"`
	Count   int64  `dynamo:"count"`
	Version int64  `dynamo:"version"`
}

const counterID = "counter"

// Increment variants.
const (
	leaseShared    = "lease-shared"     // one Manager for all writers: local queue
	leasePerWriter = "lease-per-writer" // a Manager per writer, as separate processes
	updateShared   = "update-shared"    // repo.Update through one Repository: local queue
	updatePerWrite = "update-per-writer"
	// update-per-writer: a Repository per writer with DisableLocalQueue, as
	// separate processes.
)

var incrementVariants = []string{leaseShared, leasePerWriter, updateShared, updatePerWrite}

// incrementResult is what runIncrements measured.
type incrementResult struct {
	elapsed  time.Duration
	requests int64
	latency  samples // one increment as seen by its writer
	topShare float64 // the busiest writer's share of the increments (1/g if fair)
}

// runIncrements makes n increments of a fresh counter spread over g
// writers with one variant, on fresh tables, and checks the counter.
func runIncrements(tb testing.TB, e *env, variant string, g, n int) incrementResult {
	tb.Helper()
	ctx := context.Background()
	newRepo := func(table string) *repo.Repository[counter] {
		r, err := repo.New[counter](e.client, table)
		if err != nil {
			tb.Fatal(err)
		}
		return r
	}
	counterTable := e.leaseTable(tb) + "-counter"
	counters := newRepo(counterTable)
	if err := counters.CreateTable(ctx); err != nil {
		tb.Fatal(err)
	}
	if _, err := counters.Create(ctx, counter{ID: counterID}); err != nil {
		tb.Fatal(err)
	}
	leaseTable := e.leaseTable(tb)

	// inc[w] is writer w's increment.
	inc := make([]func(ctx context.Context) error, g)
	guarded := func(m *lease.Manager, r *repo.Repository[counter]) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			return m.Do(ctx, "counter", func(ctx context.Context) error {
				l, _ := lease.FromContext(ctx)
				c, err := r.Get(ctx, repo.Key(counterID))
				if err != nil {
					return err
				}
				c.Count++
				_, err = r.Save(ctx, c, repo.Guard(l.Condition()))
				return err
			})
		}
	}
	update := func(r *repo.Repository[counter], optFns ...func(*repo.Options)) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := r.Update(ctx, repo.Key(counterID), func(c *counter) error { c.Count++; return nil }, optFns...)
			return err
		}
	}
	switch variant {
	case leaseShared:
		m := e.manager(tb, leaseTable)
		for w := range inc {
			inc[w] = guarded(m, counters)
		}
	case leasePerWriter:
		for w := range inc {
			inc[w] = guarded(e.manager(tb, leaseTable), newRepo(counterTable))
		}
	case updateShared:
		for w := range inc {
			inc[w] = update(counters)
		}
	case updatePerWrite:
		for w := range inc {
			inc[w] = update(newRepo(counterTable), func(o *repo.Options) { o.DisableLocalQueue = true })
		}
	default:
		tb.Fatalf("unknown variant %q", variant)
	}

	var left atomic.Int64
	left.Store(int64(n))
	lat := make([]samples, g)
	errs := make(chan error, g)
	var wg sync.WaitGroup
	before := e.counter.Count()
	start := time.Now()
	for w := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				t0 := time.Now()
				if err := inc[w](ctx); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	res := incrementResult{elapsed: time.Since(start), requests: e.counter.Count() - before}
	close(errs)
	for err := range errs {
		tb.Fatalf("%s g=%d: %v", variant, g, err)
	}
	for _, l := range lat {
		res.latency = append(res.latency, l...)
		res.topShare = max(res.topShare, float64(len(l))/float64(n))
	}
	c, err := counters.Get(ctx, repo.Key(counterID))
	if err != nil {
		tb.Fatal(err)
	}
	if c.Count != int64(n) {
		tb.Fatalf("%s g=%d: counter %d after %d increments", variant, g, c.Count, n)
	}
	return res
}

// BenchmarkProtectedIncrement: g writers share b.N increments of one
// counter item, protected by a lease (Acquire, Get, Save guarded by the
// lease's fencing condition, Release) or by repo.Update's optimistic loop.
// One op is one increment.
func BenchmarkProtectedIncrement(b *testing.B) {
	e := newEnv(b)
	for _, v := range incrementVariants { // warm DynamoDB Local's JIT up
		runIncrements(b, e, v, 4, 100)
	}
	for _, g := range []int{1, 4, 16} {
		for _, v := range incrementVariants {
			b.Run(fmt.Sprintf("g=%d/%s", g, v), func(b *testing.B) {
				b.ResetTimer()
				r := runIncrements(b, e, v, g, b.N)
				b.StopTimer()
				b.ReportMetric(float64(b.N)/r.elapsed.Seconds(), "commits/s")
				b.ReportMetric(float64(r.requests)/float64(b.N), "req/commit")
				b.ReportMetric(r.latency.mean(), "ms/commit")
				b.ReportMetric(r.latency.pct(99), "p99-ms/commit")
				b.ReportMetric(r.topShare, "top-writer-share")
			})
		}
	}
}
