package bench

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/lease"
)

// The hand-over frontier: how fast a released lease reaches a waiter in
// another process, against how many requests the waiter sends while it
// waits. Each contender runs hand-overs for a fixed time window
// ($FRONTIER_WINDOW, default 30s), in $FRONTIER_ROUNDS rounds (default 3)
// whose order rotates, so that drift of the shared machine spreads over all
// contenders alike.

// frontierContender is one contender: run does hand-overs for window and
// returns what it measured.
type frontierContender struct {
	name string
	run  func(tb testing.TB, window time.Duration) handoverResult
}

// frontierRow is one contender's results over all rounds.
type frontierRow struct {
	pooled   handoverResult
	p50s     []float64 // per round, ms
	rates    []float64 // per round, waiting requests/s
	allRates []float64 // per round, every waiter request per second of waiting
}

// frontier runs the contenders and prints one row per contender: the
// hand-over latency (holder's Release returned → waiter's Acquire
// returned) pooled over rounds (p50, p90, n), the median and min..max of
// the rounds' p50s, and the waiter's requests per second of waiting (the
// acquiring writes left out, then all).
func frontier(b *testing.B, cs []frontierContender) {
	rounds := envInt("FRONTIER_ROUNDS", 3)
	window := 30 * time.Second
	if d, err := time.ParseDuration(os.Getenv("FRONTIER_WINDOW")); err == nil && d > 0 {
		window = d
	}
	rows := make([]frontierRow, len(cs))
	for r := range rounds {
		for k := range cs {
			i := (r + k) % len(cs)
			res := cs[i].run(b, window)
			if res.n == 0 {
				b.Fatalf("%s: no hand-over in %v", cs[i].name, window)
			}
			row := &rows[i]
			row.pooled.merge(res)
			row.p50s = append(row.p50s, res.fromRelEnd.pct(50))
			row.rates = append(row.rates, res.waitRate())
			row.allRates = append(row.allRates, float64(res.waiterReqs)/res.waiting.Seconds())
		}
	}
	fmt.Printf("frontier: %d rounds x %v per contender, rotating; hold %v\n", rounds, window, holdDesc())
	fmt.Printf("%-28s %6s %9s %9s %20s %22s %12s\n", "contender", "n", "p50 ms", "p90 ms", "round p50 med (range)", "wait req/s med (range)", "all req/s")
	for i, c := range cs {
		row := rows[i]
		fmt.Printf("%-28s %6d %9.1f %9.1f %8.1f (%4.1f..%4.1f) %8.2f (%5.2f..%5.2f) %12.2f\n", c.name, row.pooled.n,
			row.pooled.fromRelEnd.pct(50), row.pooled.fromRelEnd.pct(90),
			median(row.p50s), slices.Min(row.p50s), slices.Max(row.p50s),
			median(row.rates), slices.Min(row.rates), slices.Max(row.rates), median(row.allRates))
		b.ReportMetric(row.pooled.fromRelEnd.pct(50), c.name+"-p50-ms")
		b.ReportMetric(median(row.rates), c.name+"-wait-req/s")
	}
}

// holdDesc describes the holder's hold.
func holdDesc() string {
	if d, err := time.ParseDuration(os.Getenv("HANDOVER_HOLD")); err == nil && d > 0 {
		return fmt.Sprintf("%v..%v", d, d+d/4)
	}
	return fmt.Sprintf("%v..%v", handoverHold, handoverHold+handoverHold/4)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	c := slices.Clone(xs)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// leaseFrontier is the frontier's lease contenders: a waiter in another
// Manager of this process, and one in another process, both with lease's
// defaults. Each contender's holder is one Manager for all its rounds, as
// a service's is for its life, warmed up by $FRONTIER_WARMUP hand-overs
// (default 10, not measured) before its first: settled, it has learned
// how long it holds the name, and its acquires store a forecast that the
// waiter paces its polls by (lease/pace.go). FRONTIER_WARMUP=0 measures a
// holder that starts afresh each round instead.
func leaseFrontier(e *env) []frontierContender {
	hold := handoverHold
	warmup := envInt("FRONTIER_WARMUP", 10)
	if os.Getenv("FRONTIER_WARMUP") == "0" {
		warmup = 0
	}
	contender := func(mode string) frontierContender {
		var table string
		var holder *lease.Manager
		return frontierContender{"lease-" + mode, func(tb testing.TB, w time.Duration) handoverResult {
			if warmup == 0 {
				return runHandoverUntil(tb, e, mode, until{end: time.Now().Add(w)}, hold)
			}
			if holder == nil {
				table = e.leaseTable(tb)
				holder = e.manager(tb, table)
				runHandoverOn(tb, e, mode, until{n: warmup}, hold, table, holder)
			}
			return runHandoverOn(tb, e, mode, until{end: time.Now().Add(w)}, hold, table, holder)
		}}
	}
	return []frontierContender{contender(otherManager), contender(otherProcess)}
}

// BenchmarkFrontier is the frontier of lease alone (dynamolock.sh adds
// dynamolock: BenchmarkDynamolockFrontier). One op is one whole run.
func BenchmarkFrontier(b *testing.B) {
	e := newEnv(b)
	for range b.N {
		frontier(b, leaseFrontier(e))
	}
}
