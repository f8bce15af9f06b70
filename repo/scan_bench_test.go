package repo_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/repo"
)

// scanBenchItem is the small item of BenchmarkParallelScan.
type scanBenchItem struct {
	ID      string `dynamo:"id,hash"`
	N       int    `dynamo:"n"`
	Pad     string `dynamo:"pad"`
	Version int64  `dynamo:"version"`
}

const (
	scanBenchItems  = 100_000
	scanBenchWindow = 10 * time.Second // per turn, at least one full scan
	scanBenchRounds = 4
)

// BenchmarkParallelScan compares a sequential Scan with a parallel Scan
// of 4 segments over the same 100k items, in the same run: each round runs
// both contenders, in rotating order, each for a turn of full scans lasting
// at least scanBenchWindow; the reported figures are the medians of the
// items per second of the turns (and the spread is logged). One untimed
// scan of each warms DynamoDB Local up first. Run it alone, once, with -v
// to see every turn:
//
//	go test -run '^$' -bench BenchmarkParallelScan -benchtime 1x -v ./repo/
func BenchmarkParallelScan(b *testing.B) {
	if testing.Short() {
		b.Skip("loads 100k items")
	}
	ctx := context.Background()
	client := ddblocal.Client(b)
	table := ddblocal.TableName(b)
	r := mustTable[scanBenchItem](b, client, table)
	start := time.Now()
	loadScanBench(b, client, table)
	b.Logf("loaded %d items in %v", scanBenchItems, time.Since(start).Round(time.Millisecond))

	contenders := []struct {
		name     string
		segments int
	}{{"1 segment", 1}, {"4 segments", 4}}
	rates := make([][]float64, len(contenders))
	// scan reads every item once in segments, and returns how many.
	scan := func(name string, segments int) int {
		n := 0
		for _, err := range r.Scan(ctx, func(o *repo.ScanOptions) { o.Segments = segments }) {
			if err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			n++
		}
		if n != scanBenchItems {
			b.Fatalf("%s: scanned %d items, want %d", name, n, scanBenchItems)
		}
		return n
	}
	for _, c := range contenders { // warm up DynamoDB Local's JIT, untimed
		scan(c.name, c.segments)
	}
	b.ResetTimer()
	for round := range scanBenchRounds {
		for k := range contenders {
			i := (round + k) % len(contenders)
			c := contenders[i]
			items, scans := 0, 0
			t0 := time.Now()
			for scans == 0 || time.Since(t0) < scanBenchWindow {
				items += scan(c.name, c.segments)
				scans++
			}
			rate := float64(items) / time.Since(t0).Seconds()
			rates[i] = append(rates[i], rate)
			b.Logf("round %d: %-10s %d scans, %.0f items/s", round+1, c.name, scans, rate)
		}
	}
	b.StopTimer()
	var sb strings.Builder
	for i, c := range contenders {
		s := slices.Sorted(slices.Values(rates[i]))
		med := medianOf(s)
		fmt.Fprintf(&sb, "\n%-10s median %.0f items/s, min %.0f, max %.0f, spread (max-min)/median %.1f%%",
			c.name, med, s[0], s[len(s)-1], 100*(s[len(s)-1]-s[0])/med)
		b.ReportMetric(med, strings.ReplaceAll(c.name, " ", "-")+"-items/s")
	}
	b.ReportMetric(medianOf(slices.Sorted(slices.Values(rates[1])))/medianOf(slices.Sorted(slices.Values(rates[0]))), "speedup")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d rounds, turns of at least %v:%s", scanBenchRounds, scanBenchWindow, sb.String())
}

func medianOf(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// loadScanBench writes the benchmark's items with BatchWriteItem, 25 per
// request from 8 goroutines, re-sending unprocessed items.
func loadScanBench(b *testing.B, client *dynamodb.Client, table string) {
	b.Helper()
	ctx := context.Background()
	batches := make(chan []types.WriteRequest)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for reqs := range batches {
				for len(reqs) > 0 {
					out, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
						RequestItems: map[string][]types.WriteRequest{table: reqs},
					})
					if err != nil {
						mu.Lock()
						failed = err
						mu.Unlock()
						break
					}
					reqs = out.UnprocessedItems[table]
				}
			}
		}()
	}
	pad := strings.Repeat("x", 32)
	var batch []types.WriteRequest
	for i := range scanBenchItems {
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"id":      &types.AttributeValueMemberS{Value: fmt.Sprintf("item-%06d", i)},
			"n":       &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
			"pad":     &types.AttributeValueMemberS{Value: pad},
			"version": &types.AttributeValueMemberN{Value: "1"},
		}}})
		if len(batch) == 25 {
			batches <- batch
			batch = nil
		}
	}
	if len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	wg.Wait()
	if failed != nil {
		b.Fatalf("BatchWriteItem: %v", failed)
	}
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err == nil {
		b.Logf("table %s: %d items (as DescribeTable reports)", table, aws.ToInt64(out.Table.ItemCount))
	}
}
