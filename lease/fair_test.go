package lease_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/lease"
)

// fairnessEnv set to 1 makes TestFairnessAcrossProcesses check the issue's
// bound (see there).
const fairnessEnv = "DDBOCC_FAIRNESS"

// fairChild is the body of a child process of TestFairnessAcrossProcesses:
// LEASE_G goroutines take turns on "fair", holding it about a millisecond,
// from LEASE_START to LEASE_END (Unix milliseconds). It prints its holds
// and its goroutines' waits.
func fairChild(ctx context.Context, m *lease.Manager) {
	g, _ := strconv.Atoi(os.Getenv("LEASE_G"))
	startMs, _ := strconv.ParseInt(os.Getenv("LEASE_START"), 10, 64)
	endMs, _ := strconv.ParseInt(os.Getenv("LEASE_END"), 10, 64)
	time.Sleep(time.Until(time.UnixMilli(startMs)))
	end := time.UnixMilli(endMs)
	var mu sync.Mutex
	var waits []time.Duration
	holds := 0
	var wg sync.WaitGroup
	for range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				start := time.Now()
				actx, cancel := context.WithDeadline(ctx, end)
				l, err := m.Acquire(actx, "fair")
				cancel()
				if err != nil {
					mu.Lock()
					waits = append(waits, time.Since(start)) // still waiting at the end
					mu.Unlock()
					return
				}
				w := time.Since(start)
				time.Sleep(time.Millisecond)
				if err := l.Release(ctx); err != nil {
					fmt.Println("error", err)
					os.Exit(2)
				}
				mu.Lock()
				holds++
				waits = append(waits, w)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.Sort(waits)
	fmt.Printf("holds %d p50 %d max %d\n", holds, waits[len(waits)/2].Milliseconds(), waits[len(waits)-1].Milliseconds())
}

// Four processes × four goroutines take turns on one lease with short
// holds for 16 s: each process gets at least half the holds of the busiest
// (the issue measured [0 0 2255 0] before; this test, before fair turns,
// [340 8 1420 0] in 8 s). The longest wait of any goroutine is logged, not
// asserted (timing).
//
// Fairness needs CPU for every process: with the -race suites of other
// packages on the same 2 cores, holds fall to a third and the shares
// scatter (0.37–0.42 measured). So under `go test ./...` the test checks
// only that no process is starved (min/max >= 0.2; the bug gave 0.00), and
// `make test` runs it once more alone with fairnessEnv set, which checks
// the 0.5. Not parallel, for the same reason.
func TestFairnessAcrossProcesses(t *testing.T) {
	want := 0.2
	if os.Getenv(fairnessEnv) == "1" {
		want = 0.5
	}
	_, table := setup(t)
	const procs = 4
	start := time.Now().Add(2 * time.Second)
	end := start.Add(16 * time.Second)
	outs := make(chan string, procs)
	for range procs {
		cmd := child(t, "fair", table, "LEASE_G=4", "LEASE_START="+strconv.FormatInt(start.UnixMilli(), 10),
			"LEASE_END="+strconv.FormatInt(end.UnixMilli(), 10))
		go func() {
			b, err := cmd.CombinedOutput()
			if err != nil {
				b = append(b, []byte("error "+err.Error())...)
			}
			outs <- string(b)
		}()
	}
	var holds []int
	maxWait := int64(0)
	for range procs {
		out := <-outs
		var h int
		var p50, mx int64
		i := strings.Index(out, "holds ")
		if i < 0 {
			t.Fatalf("child: %s", out)
		}
		if _, err := fmt.Sscanf(out[i:], "holds %d p50 %d max %d", &h, &p50, &mx); err != nil {
			t.Fatalf("child: %s", out)
		}
		holds = append(holds, h)
		maxWait = max(maxWait, mx)
	}
	total := 0
	for _, h := range holds {
		total += h
	}
	ratio := float64(slices.Min(holds)) / float64(max(1, slices.Max(holds)))
	t.Logf("holds per process %v (%d in all), min/max %.2f, longest wait %d ms", holds, total, ratio, maxWait)
	if ratio < want {
		t.Fatalf("holds per process %v: min/max %.2f, want >= %.1f", holds, ratio, want)
	}
}
