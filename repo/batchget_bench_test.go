package repo_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/repo"
)

// The BatchGet benchmark: fetch the same 1000 items with one BatchGet
// (default concurrency 4, and 1) and with 1000 sequential Gets, in one run
// against one DynamoDB Local. Each contender fetches for a fixed window
// (DDBOCC_BENCH_WINDOW, default 5s), in several rounds in rotating order, so
// that a slow phase of the machine hits each contender alike. Reported per
// contender: the median fetches (of all 1000 items) per second, the spread
// of the rounds ((max-min)/median) and the requests per fetch.
//
//	DYNAMODB_ENDPOINT=http://localhost:8613 go test -run '^$' -bench BatchGet -benchtime 1x ./repo/

const (
	benchBatchItems  = 1000
	benchBatchRounds = 3
)

func benchWindow(b *testing.B) time.Duration {
	if s := os.Getenv("DDBOCC_BENCH_WINDOW"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatalf("DDBOCC_BENCH_WINDOW: %v", err)
		}
		return d
	}
	return 5 * time.Second
}

// batchContender fetches every item under keys once.
type batchContender struct {
	name  string
	fetch func(ctx context.Context, keys []repo.ItemKey) error
}

func BenchmarkBatchGet(b *testing.B) {
	c := &ddblocal.RequestCounter{}
	client := ddblocal.Client(b, c.Option())
	accounts := mustTable[Account](b, client, ddblocal.TableName(b))
	ctx := context.Background()
	items := make([]Account, benchBatchItems)
	keys := make([]repo.ItemKey, benchBatchItems)
	for i := range items {
		id := fmt.Sprintf("acct-%04d", i)
		items[i] = Account{ID: id, Owner: "owner-" + id, Balance: int64(i), Note: strings.Repeat("n", 200)}
		keys[i] = repo.Key(id)
	}
	results, err := accounts.SaveAll(ctx, items)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}

	batch := func(conc int) func(context.Context, []repo.ItemKey) error {
		return func(ctx context.Context, keys []repo.ItemKey) error {
			res, err := accounts.BatchGet(ctx, keys, func(o *repo.BatchGetOptions) { o.Concurrency = conc })
			if err == nil && len(res.Missing()) > 0 {
				err = fmt.Errorf("%d items missing", len(res.Missing()))
			}
			return err
		}
	}
	contenders := []batchContender{
		{"BatchGet", batch(0)},
		{"BatchGet-c1", batch(1)},
		{"Gets", func(ctx context.Context, keys []repo.ItemKey) error {
			for _, k := range keys {
				if _, err := accounts.Get(ctx, k); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	window := benchWindow(b)
	rates := make([][]float64, len(contenders)) // fetches/s per round
	reqs := make([]int64, len(contenders))
	fetches := make([]int, len(contenders))
	b.ResetTimer()
	for round := 0; round < benchBatchRounds; round++ {
		for k := range contenders {
			i := (k + round) % len(contenders)
			f := contenders[i]
			c.Reset()
			n := 0
			start := time.Now()
			for time.Since(start) < window {
				if err := f.fetch(ctx, keys); err != nil {
					b.Fatalf("%s: %v", f.name, err)
				}
				n++
			}
			elapsed := time.Since(start)
			rates[i] = append(rates[i], float64(n)/elapsed.Seconds())
			reqs[i] += c.Count()
			fetches[i] += n
			b.Logf("round %d: %-11s %4d fetches in %v: %.2f fetches/s, %.1f requests/fetch",
				round+1, f.name, n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), float64(c.Count())/float64(n))
		}
	}
	b.StopTimer()

	median := func(xs []float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		return s[len(s)/2]
	}
	gets := median(rates[len(contenders)-1])
	for i, f := range contenders {
		m := median(rates[i])
		spread := (slices.Max(rates[i]) - slices.Min(rates[i])) / m
		perFetch := float64(reqs[i]) / float64(fetches[i])
		b.Logf("%-11s median %8.2f fetches/s (%8.0f items/s), spread %4.1f%%, %6.1f requests per %d-item fetch, %5.1fx sequential Gets",
			f.name, m, m*benchBatchItems, 100*spread, perFetch, benchBatchItems, m/gets)
		name := strings.ToLower(f.name)
		b.ReportMetric(m, name+"-fetches/s")
		b.ReportMetric(perFetch, name+"-req/fetch")
		if f.name == "BatchGet" {
			b.ReportMetric(m/gets, "speedup")
			if perFetch > 12 {
				b.Errorf("BatchGet: %.1f requests per fetch of %d items, want at most 12", perFetch, benchBatchItems)
			}
		}
	}
}
