package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
)

// windowSpec is one process's part of a window. The parent sends it to its
// children as JSON.
type windowSpec struct {
	Endpoint   string        `json:"endpoint"`
	Table      string        `json:"table"`
	Contender  string        `json:"contender"`
	Keys       []string      `json:"keys"` // each call picks one uniformly at random
	Goroutines int           `json:"goroutines"`
	Window     time.Duration `json:"window"`
	NaiveSleep time.Duration `json:"naive_sleep"`
}

// procResult is what one process measured in one window.
type procResult struct {
	Elapsed          float64          `json:"elapsed_s"`
	Commits          int64            `json:"commits"` // ended within the window
	Late             int64            `json:"late"`    // committed, but ended after the window
	Failed           int64            `json:"failed"`
	Requests         int64            `json:"requests"`
	Conflicts        int64            `json:"conflicts"`
	ByOp             map[string]int64 `json:"by_op"`
	Mallocs          uint64           `json:"mallocs"`
	GoroutineCommits []int64          `json:"goroutine_commits"`
	LatencyUS        []int64          `json:"latency_us"`
	Errors           []string         `json:"errors,omitempty"`
}

// window is a prepared window: the contender built on a fresh counting
// client, connections opened.
type window struct {
	spec    windowSpec
	inc     incFunc
	counter *reqCounter
}

// prepare builds the contender of spec on a client of its own (a fresh
// Repository, for the Repository contenders) and opens one connection per
// goroutine with uncounted reads, so that no contender pays for dialling.
func prepare(ctx context.Context, spec windowSpec) (*window, error) {
	c, ok := contenderNamed(spec.Contender)
	if !ok {
		return nil, fmt.Errorf("unknown contender %q", spec.Contender)
	}
	if len(spec.Keys) == 0 || spec.Goroutines < 1 {
		return nil, fmt.Errorf("window needs keys and goroutines: %+v", spec)
	}
	counter := &reqCounter{}
	inc, err := c.build(ddblocal.NewClient(spec.Endpoint, counter.option()), spec.Table, spec.NaiveSleep)
	if err != nil {
		return nil, err
	}
	plain := ddblocal.NewClient(spec.Endpoint) // shares the HTTP transport
	errs := make(chan error, spec.Goroutines)
	for range spec.Goroutines {
		go func() {
			_, _, err := rawGet(ctx, plain, spec.Table, spec.Keys[0], true)
			errs <- err
		}()
	}
	for range spec.Goroutines {
		if err := <-errs; err != nil {
			return nil, err
		}
	}
	return &window{spec: spec, inc: inc, counter: counter}, nil
}

// run makes calls from every goroutine until the window has passed. A call
// that ends after the deadline is a late commit (or a failure): it is
// waited for, and its requests, latency and allocations are counted, so
// that requests per commit are those of whole calls. Cancelling ctx stops
// the calls.
func (w *window) run(ctx context.Context) procResult {
	type gstats struct {
		commits, late, failed int64
		lat                   []int64
		errs                  []string
	}
	g := make([]gstats, w.spec.Goroutines)
	keys := w.spec.Keys
	var res procResult
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(w.spec.Window)
	for i := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &g[i]
			for ctx.Err() == nil && time.Now().Before(deadline) {
				key := keys[0]
				if len(keys) > 1 {
					key = keys[rand.IntN(len(keys))]
				}
				t0 := time.Now()
				err := w.inc(ctx, key)
				t1 := time.Now()
				switch {
				case err != nil:
					s.failed++
					if len(s.errs) < 3 {
						s.errs = append(s.errs, err.Error())
					}
					continue
				case t1.After(deadline):
					s.late++
				default:
					s.commits++
				}
				s.lat = append(s.lat, t1.Sub(t0).Microseconds())
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start).Seconds()
	runtime.ReadMemStats(&ms)
	res.Mallocs = ms.Mallocs - mallocs
	res.Requests, res.Conflicts, res.ByOp = w.counter.requests.Load(), w.counter.conflicts.Load(), w.counter.ops()
	for _, s := range g {
		res.Commits += s.commits
		res.Late += s.late
		res.Failed += s.failed
		res.GoroutineCommits = append(res.GoroutineCommits, s.commits)
		res.LatencyUS = append(res.LatencyUS, s.lat...)
		if len(res.Errors) < 5 {
			res.Errors = append(res.Errors, s.errs...)
		}
	}
	return res
}
