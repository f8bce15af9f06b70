package repo_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/ddbocc/ddbocc/repo"
)

// orderKey identifies an order.
type orderKey struct {
	customer string
	id       int
}

// eachOnce checks that got holds every order of customers c1 and c2 with ids
// 1..n exactly once.
func eachOnce(t *testing.T, what string, got []Order, n int) {
	t.Helper()
	seen := map[orderKey]int{}
	for _, o := range got {
		seen[orderKey{o.Customer, o.ID}]++
	}
	for _, c := range []string{"c1", "c2"} {
		for id := 1; id <= n; id++ {
			if k := seen[orderKey{c, id}]; k != 1 {
				t.Errorf("%s: %s/%d returned %d times, want once", what, c, id, k)
			}
		}
	}
	if len(got) != 2*n {
		t.Errorf("%s: %d items, want %d", what, len(got), 2*n)
	}
}

func TestScan(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := orderTable(t, e, 20)
	ctx := context.Background()

	var st repo.Stats
	all := collectAll(t, r.Scan(ctx, func(o *repo.ScanOptions) { o.PageSize, o.Stats = 7, &st }))
	eachOnce(t, "scan in pages of 7", all, 20)
	if st.Requests != 6 || st.Items != 40 || st.Scanned != 40 || st.ConsumedCapacity <= 0 {
		t.Errorf("stats %+v: want 6 requests, 40 items, some capacity", st)
	}
	for _, o := range all {
		if o.Version != 1 || o.Note == "" {
			t.Fatalf("scanned item %+v", o)
		}
	}
	eachOnce(t, "consistent scan", collectAll(t, r.Scan(ctx, func(o *repo.ScanOptions) { o.Consistent = true })), 20)

	// Filter (on a key too: a scan has no key condition) and Limit.
	got := collectAll(t, r.Scan(ctx, func(o *repo.ScanOptions) {
		o.Filter = expression.Name("customer").Equal(expression.Value("c2")).And(expression.Name("id").LessThanEqual(expression.Value(5)))
	}))
	if len(got) != 5 || got[0].Customer != "c2" {
		t.Errorf("filtered scan: %+v", got)
	}
	e.counter.Reset()
	if got := collectAll(t, r.Scan(ctx, func(o *repo.ScanOptions) { o.Limit, o.PageSize = 3, 2 })); len(got) != 3 {
		t.Errorf("limit 3: %d items", len(got))
	}
	if n := e.counter.Count(); n != 2 {
		t.Errorf("limit 3 in pages of 2: %d requests, want 2", n)
	}

	// Projections are partial, so Scan refuses them; ScanPartial takes
	// them.
	for _, err := range r.Scan(ctx, func(o *repo.ScanOptions) { o.Project = []string{"note"} }) {
		if !errors.Is(err, repo.ErrInvalidArgument) {
			t.Errorf("Scan with a projection: %v, want ErrInvalidArgument", err)
		}
	}
	ps := collectAll(t, r.ScanPartial(ctx, func(o *repo.ScanOptions) { o.Project = []string{"note"} }))
	if len(ps) != 40 || ps[0].Item.Note == "" || ps[0].Item.Total != 0 || ps[0].Version != 1 {
		t.Errorf("projected scan: %d items, first %+v", len(ps), ps[0])
	}

	// Indexes: a GSI scan is eventually consistent only.
	got = collectAll(t, r.Scan(ctx, func(o *repo.ScanOptions) { o.Index = "byStatus" }))
	eachOnce(t, "scan of byStatus", got, 20)
	for _, err := range r.Scan(ctx, func(o *repo.ScanOptions) { o.Index, o.Consistent = "byStatus", true }) {
		if !errors.Is(err, repo.ErrInvalidArgument) {
			t.Errorf("consistent scan of a GSI: %v, want ErrInvalidArgument", err)
		}
	}
	ps = collectAll(t, r.ScanPartial(ctx, func(o *repo.ScanOptions) { o.Index = "bySku" }))
	if len(ps) != 40 || !ps[0].Has("total") || ps[0].Has("note") {
		t.Errorf("scan of bySku: %d items, attributes %v", len(ps), ps[0].Attributes())
	}
	ps = collectAll(t, r.ScanPartial(ctx, func(o *repo.ScanOptions) { o.Index, o.Consistent = "byPlaced", true }))
	if len(ps) != 40 || ps[0].Has("note") {
		t.Errorf("scan of byPlaced: %d items", len(ps))
	}
}

func TestParallelScan(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := orderTable(t, e, 50)
	ctx := context.Background()
	for _, c := range []struct{ segments, concurrency int }{{4, 0}, {4, 2}, {7, 1}, {3, 16}} {
		var st repo.Stats
		got := collectAll(t, r.Scan(ctx, func(o *repo.ScanOptions) {
			o.Segments, o.Concurrency, o.PageSize, o.Stats = c.segments, c.concurrency, 5, &st
		}))
		what := fmt.Sprintf("%d segments, concurrency %d", c.segments, c.concurrency)
		eachOnce(t, what, got, 50)
		if st.Items != 100 || st.Requests < 100/5 || st.ConsumedCapacity <= 0 {
			t.Errorf("%s: stats %+v", what, st)
		}
	}
	// A limit across segments.
	if got := collectAll(t, r.Scan(ctx, func(o *repo.ScanOptions) { o.Segments, o.Limit, o.PageSize = 4, 9, 2 })); len(got) != 9 {
		t.Errorf("parallel scan with limit 9: %d items", len(got))
	}
	// Partial items, filtered, in parallel.
	ps := collectAll(t, r.ScanPartial(ctx, func(o *repo.ScanOptions) {
		o.Segments, o.Project = 4, []string{"status"}
		o.Filter = expression.Name("status").Equal(expression.Value("open"))
	}))
	if len(ps) != 50 || ps[0].Item.Status != "open" {
		t.Errorf("parallel partial filtered scan: %d items", len(ps))
	}
}

func TestScanPageSegments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := orderTable(t, e, 30)
	ctx := context.Background()
	var all []Order
	for seg := range 4 {
		got, _ := allPages(t, func(c string) (repo.Page[Order], error) {
			return r.ScanPage(ctx, c, func(o *repo.ScanOptions) { o.Segments, o.Segment, o.PageSize = 4, seg, 4 })
		})
		all = append(all, got...)
	}
	eachOnce(t, "4 segments in pages of 4", all, 30)
	got, n := allPages(t, func(c string) (repo.Page[Order], error) {
		return r.ScanPage(ctx, c, func(o *repo.ScanOptions) { o.PageSize = 3 })
	})
	eachOnce(t, "whole table in pages of 3", got, 30)
	if n != 20 && n != 21 {
		t.Errorf("60 items in pages of 3: %d pages", n)
	}
	ps, _ := allPages(t, func(c string) (repo.Page[repo.Partial[Order]], error) {
		return r.ScanPartialPage(ctx, c, func(o *repo.ScanOptions) { o.Index, o.PageSize = "bySku", 25 })
	})
	if len(ps) != 60 {
		t.Errorf("partial pages of bySku: %d items", len(ps))
	}
}

// scanWorkers returns the number of goroutines running a parallel scan's
// segment reader, how many of them are busy (in a call: a request, a send,
// a wait, rather than returning from the reader itself), and their stacks.
func scanWorkers() (n, busy int, stacks string) {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, ").parallelScan.func") {
			continue
		}
		n++
		found = append(found, g)
		lines := strings.Split(g, "\n")
		if len(lines) < 2 || !strings.Contains(lines[1], ").parallelScan.func") {
			busy++ // its innermost frame is not the reader's own
		}
	}
	return n, busy, strings.Join(found, "\n\n")
}

// repoGoroutines counts the goroutines running code of package repo.
func repoGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/ddbocc/ddbocc/repo.") {
			n++
		}
	}
	return n
}

// TestScanStops checks that breaking out of a parallel scan, and cancelling
// its ctx, stop every goroutine before the iterator returns, and that no
// request is sent after it. Not parallel: it counts goroutines.
func TestScanStops(t *testing.T) {
	e := newEnv(t)
	r := orderTable(t, e, 40)
	ctx := context.Background()
	slow := func(o *repo.ScanOptions) { o.Segments, o.Concurrency, o.PageSize = 8, 4, 1 }

	check := func(what string) {
		t.Helper()
		// The iterator has waited for every goroutine's wg.Done, which a
		// goroutine runs just before it ends: none may still be in a call,
		// and the rest must end in a moment.
		n, busy, stacks := scanWorkers()
		if busy != 0 {
			t.Fatalf("%s: %d scan goroutines still busy:\n%s", what, busy, stacks)
		}
		for i := 0; n != 0 && i < 100; i++ {
			time.Sleep(10 * time.Millisecond)
			n, _, stacks = scanWorkers()
		}
		if n != 0 {
			t.Fatalf("%s: %d scan goroutines still running:\n%s", what, n, stacks)
		}
		sent := e.counter.Count()
		time.Sleep(200 * time.Millisecond)
		if n := e.counter.Count(); n != sent {
			t.Errorf("%s: %d requests sent after the iterator returned", what, n-sent)
		}
	}

	for range 3 {
		e.counter.Reset()
		n := 0
		for _, err := range r.Scan(ctx, slow) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 3 {
				if w, _, _ := scanWorkers(); w == 0 || repoGoroutines() < w {
					t.Fatalf("%d scan goroutines seen during the scan: the check is blind", w)
				}
				break
			}
		}
		check("break")
	}

	e.counter.Reset()
	n := 0
	for range r.Scan(ctx, slow, func(o *repo.ScanOptions) { o.Limit = 5 }) {
		n++
	}
	if n != 5 {
		t.Errorf("limit 5: %d items", n)
	}
	check("limit")

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var last error
	n = 0
	for _, err := range r.Scan(cctx, slow) {
		if err != nil {
			last = err
			continue
		}
		if n++; n == 2 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("cancelled scan ended with %v after %d items, want context.Canceled", last, n)
	}
	if n >= 80 {
		t.Errorf("cancelled scan returned all %d items", n)
	}
	check("cancel")

	// A cancelled sequential scan too.
	cctx, cancel2 := context.WithCancel(ctx)
	defer cancel2()
	last, n = nil, 0
	for _, err := range r.Scan(cctx, func(o *repo.ScanOptions) { o.PageSize = 1 }) {
		if err != nil {
			last = err
			continue
		}
		if n++; n == 2 {
			cancel2()
		}
	}
	if !errors.Is(last, context.Canceled) || n != 2 {
		t.Errorf("cancelled sequential scan: %v after %d items, want context.Canceled after 2", last, n)
	}

	// No goroutine runs repository code any more (idle HTTP connections
	// may come and go; they are the client's).
	n = repoGoroutines()
	for i := 0; n != 0 && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
		n = repoGoroutines()
	}
	if n != 0 {
		t.Errorf("%d goroutines still in package repo", n)
	}

	// The same options still read everything.
	eachOnce(t, "full parallel scan", collectAll(t, r.Scan(ctx, slow)), 40)
}
