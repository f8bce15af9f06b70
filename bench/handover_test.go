package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
)

// Hand-over modes: where the waiter runs.
const (
	sameManager  = "same-manager"  // a goroutine of the holder's Manager: local queue
	otherManager = "other-manager" // a goroutine with its own Manager: polls DynamoDB
	otherProcess = "other-process" // a child process (the test binary re-run): polls DynamoDB
)

// handoverHold is how long the holder keeps the lease while the waiter
// waits: long enough for the waiter to reach its steady polling interval
// (50ms doubling to 250ms, jittered).
const handoverHold = 400 * time.Millisecond

// holdFor is a holder's hold of about hold: hold plus up to a quarter of it
// at random, so that a waiter that polls at a fixed period is not in phase
// with the holder's releases (with a fixed 400ms hold, a poller with a
// 100ms period would read just after each release). $HANDOVER_HOLD, if
// set, replaces hold (e.g. 3s to see a waiter's settled polling rate).
func holdFor(hold time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv("HANDOVER_HOLD")); err == nil && d > 0 {
		hold = d
	}
	return hold + rand.N(hold/4)
}

// waiterHold is how long the waiter keeps the lease it was handed.
const waiterHold = 10 * time.Millisecond

// acquisition is one Acquire of the waiter.
type acquisition struct {
	start, acquired int64 // wall clock, UnixNano: Acquire called, Acquire returned
	reqs            int64 // requests sent during the Acquire call (polls and the take)
	gets            int64 // GetItem requests among them: all polls, plus the take's read
}

// waiterSide is the waiter of a hand-over benchmark, wherever it runs. It
// acquires once per goAcquire, holds waiterHold and releases.
type waiterSide interface {
	goAcquire() error
	acquired() (acquisition, error)
	released() (reqs int64, err error) // requests of its Release
	close() error
}

// localWaiter is a waiter goroutine in this process.
type localWaiter struct {
	goCh  chan struct{}
	acqCh chan acquisition
	relCh chan int64
	errCh chan error
	done  chan struct{}
}

func startLocalWaiter(e *env, m *lease.Manager, name string) *localWaiter {
	w := &localWaiter{goCh: make(chan struct{}), acqCh: make(chan acquisition, 1), relCh: make(chan int64, 1),
		errCh: make(chan error, 1), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		ctx := tagged(context.Background(), "waiter")
		for range w.goCh {
			r0, g0 := e.tags.get("waiter"), e.tags.get("waiter/GetItem")
			start := time.Now()
			l, err := m.Acquire(ctx, name)
			if err != nil {
				w.errCh <- err
				return
			}
			w.acqCh <- acquisition{start: start.UnixNano(), acquired: time.Now().UnixNano(),
				reqs: e.tags.get("waiter") - r0, gets: e.tags.get("waiter/GetItem") - g0}
			time.Sleep(waiterHold)
			r1 := e.tags.get("waiter")
			if err := l.Release(ctx); err != nil || !errors.Is(l.Err(), lease.ErrReleased) {
				w.errCh <- fmt.Errorf("waiter Release: %v %v", err, l.Err())
				return
			}
			w.relCh <- e.tags.get("waiter") - r1
		}
	}()
	return w
}

func (w *localWaiter) goAcquire() error {
	select {
	case w.goCh <- struct{}{}:
		return nil
	case err := <-w.errCh:
		return err
	}
}

func (w *localWaiter) acquired() (acquisition, error) {
	select {
	case a := <-w.acqCh:
		return a, nil
	case err := <-w.errCh:
		return acquisition{}, err
	}
}

func (w *localWaiter) released() (int64, error) {
	select {
	case n := <-w.relCh:
		return n, nil
	case err := <-w.errCh:
		return 0, err
	}
}

func (w *localWaiter) close() error {
	close(w.goCh)
	<-w.done
	return nil
}

// Environment of the waiter child process.
const (
	helperEnv      = "BENCH_HELPER"
	helperTableEnv = "BENCH_TABLE"
	helperNameEnv  = "BENCH_NAME"
)

// procWaiter is a waiter child process: the test binary re-run with
// TestHelperProcess. It acquires on each "go" line of its stdin and prints
// "acq START ACQUIRED REQS GETS" and then "rel REQS".
type procWaiter struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr strings.Builder
}

func startProcWaiter(tb testing.TB, table, name string) *procWaiter {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=waiter", helperTableEnv+"="+table, helperNameEnv+"="+name,
		ddblocal.EnvEndpoint+"="+ddblocal.Endpoint(tb))
	w := &procWaiter{cmd: cmd}
	cmd.Stderr = &w.stderr
	var err error
	if w.stdin, err = cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	w.lines = bufio.NewScanner(out)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	if f, err := w.expect("ready"); err != nil || len(f) != 0 {
		w.close()
		tb.Fatalf("waiter process: %v %q", err, f)
	}
	return w
}

// expect reads the child's next line, which must start with word, and
// returns its other fields.
func (w *procWaiter) expect(word string) ([]string, error) {
	if !w.lines.Scan() {
		return nil, fmt.Errorf("waiter process ended (%v); stderr: %s", w.lines.Err(), w.stderr.String())
	}
	f := strings.Fields(w.lines.Text())
	if len(f) == 0 || f[0] != word {
		return nil, fmt.Errorf("waiter process: got %q, want %s", w.lines.Text(), word)
	}
	return f[1:], nil
}

func (w *procWaiter) goAcquire() error {
	_, err := io.WriteString(w.stdin, "go\n")
	return err
}

func (w *procWaiter) acquired() (acquisition, error) {
	f, err := w.expect("acq")
	if err != nil {
		return acquisition{}, err
	}
	if len(f) != 4 {
		return acquisition{}, fmt.Errorf("waiter process: bad acq line %q", f)
	}
	var v [4]int64
	for i := range v {
		if v[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
			return acquisition{}, err
		}
	}
	return acquisition{start: v[0], acquired: v[1], reqs: v[2], gets: v[3]}, nil
}

func (w *procWaiter) released() (int64, error) {
	f, err := w.expect("rel")
	if err != nil {
		return 0, err
	}
	if len(f) != 1 {
		return 0, fmt.Errorf("waiter process: bad rel line %q", f)
	}
	return strconv.ParseInt(f[0], 10, 64)
}

func (w *procWaiter) close() error {
	w.stdin.Close() // the child exits on EOF
	done := make(chan error, 1)
	go func() { done <- w.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(15 * time.Second):
		w.cmd.Process.Kill()
		<-done
		return errors.New("waiter process did not exit on EOF; killed")
	}
}

// runWaiterProcess is the child side of procWaiter.
func runWaiterProcess() error {
	ctx := context.Background()
	counter := &ddblocal.RequestCounter{}
	client := ddblocal.NewClient(os.Getenv(ddblocal.EnvEndpoint), counter.Option())
	m, err := lease.New(client, os.Getenv(helperTableEnv))
	if err != nil {
		return err
	}
	name := os.Getenv(helperNameEnv)
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() != "go" {
			return fmt.Errorf("unexpected input %q", in.Text())
		}
		r0, g0 := counter.Count(), counter.ByOperation()["GetItem"]
		start := time.Now()
		l, err := m.Acquire(ctx, name)
		if err != nil {
			return err
		}
		acquired := time.Now()
		fmt.Println("acq", start.UnixNano(), acquired.UnixNano(), counter.Count()-r0, counter.ByOperation()["GetItem"]-g0)
		time.Sleep(waiterHold)
		r1 := counter.Count()
		if err := l.Release(ctx); err != nil || !errors.Is(l.Err(), lease.ErrReleased) {
			return fmt.Errorf("Release: %v %v", err, l.Err())
		}
		fmt.Println("rel", counter.Count()-r1)
	}
	return in.Err()
}

// TestHelperProcess is the waiter child process of BenchmarkHandover; it
// does nothing in a normal test run.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "waiter" {
		t.Skip("helper process for BenchmarkHandover")
	}
	if err := runWaiterProcess(); err != nil {
		fmt.Fprintln(os.Stderr, "waiter process:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// handoverResult is what runHandover measured over n hand-overs.
type handoverResult struct {
	n            int
	fromRelEnd   samples // holder's Release returned → waiter's Acquire returned
	fromRelStart samples // holder's Release called → waiter's Acquire returned
	waiterReqs   int64   // requests inside the waiter's Acquire calls
	polls        int64   // the waiter's reads that found the name held
	waiting      time.Duration
	total        int64 // every request of both sides
}

// add records one hand-over: the holder's Release ran from relStart to
// relEnd, and the waiter's acquisition was a.
func (r *handoverResult) add(relStart, relEnd time.Time, a acquisition) {
	got := time.Unix(0, a.acquired) // wall clock: a child's is the same host's
	r.fromRelEnd = append(r.fromRelEnd, got.Sub(relEnd.Round(0)))
	r.fromRelStart = append(r.fromRelStart, got.Sub(relStart.Round(0)))
	r.waiterReqs += a.reqs
	r.polls += max(a.gets-1, 0) // the last read found it free; a local hand-over reads nothing
	r.waiting += relStart.Round(0).Sub(time.Unix(0, a.start))
}

// waitRate is the waiter's requests per second of waiting, the one
// acquiring write of each hand-over left out: what waiting costs.
func (r handoverResult) waitRate() float64 {
	return float64(r.waiterReqs-int64(r.n)) / r.waiting.Seconds()
}

// merge adds o's hand-overs to r.
func (r *handoverResult) merge(o handoverResult) {
	r.n += o.n
	r.fromRelEnd = append(r.fromRelEnd, o.fromRelEnd...)
	r.fromRelStart = append(r.fromRelStart, o.fromRelStart...)
	r.waiterReqs += o.waiterReqs
	r.polls += o.polls
	r.waiting += o.waiting
	r.total += o.total
}

// report reports r's metrics on b.
func (r handoverResult) report(b *testing.B) {
	r.fromRelEnd.report(b, "", "handover")
	r.fromRelStart.report(b, "relstart-", "handover")
	b.ReportMetric(float64(r.waiterReqs)/float64(r.n), "waiter-req/handover")
	b.ReportMetric(float64(r.polls)/float64(r.n), "polls/handover")
	b.ReportMetric(float64(r.polls)/r.waiting.Seconds(), "polls/s-waiting")
	b.ReportMetric(float64(r.waiterReqs)/r.waiting.Seconds(), "waiter-req/s-waiting") // reads and marking writes
	b.ReportMetric(r.waitRate(), "wait-req/s")
	b.ReportMetric(float64(r.total)/float64(r.n), "req/cycle")
}

// until says when a run of hand-overs stops: after n of them, or, if end is
// set, at the first hand-over that ends after end (a fixed time window).
type until struct {
	n   int
	end time.Time
}

func (u until) more(done int) bool {
	if !u.end.IsZero() {
		return time.Now().Before(u.end)
	}
	return done < u.n
}

// runHandover runs n hand-overs: the holder acquires, tells the waiter to
// Acquire, holds handoverHold, releases; the waiter acquires, holds
// waiterHold, releases, and the cycle starts again.
func runHandover(tb testing.TB, e *env, mode string, n int, hold time.Duration) handoverResult {
	tb.Helper()
	return runHandoverUntil(tb, e, mode, until{n: n}, hold)
}

// runHandoverUntil is runHandover until u says stop.
func runHandoverUntil(tb testing.TB, e *env, mode string, u until, hold time.Duration) handoverResult {
	tb.Helper()
	table := e.leaseTable(tb)
	return runHandoverOn(tb, e, mode, u, hold, table, e.manager(tb, table))
}

// runHandoverOn is runHandoverUntil with holder, a Manager on table, as
// the holder: one that lives longer than a run keeps what it learned of
// its holds (the forecast its acquires store, lease/pace.go).
func runHandoverOn(tb testing.TB, e *env, mode string, u until, hold time.Duration, table string, holder *lease.Manager) handoverResult {
	tb.Helper()
	const name = "handover"
	var w waiterSide
	switch mode {
	case sameManager:
		w = startLocalWaiter(e, holder, name)
	case otherManager:
		w = startLocalWaiter(e, e.manager(tb, table), name)
	case otherProcess:
		w = startProcWaiter(tb, table, name)
	default:
		tb.Fatalf("unknown mode %q", mode)
	}
	defer func() {
		if err := w.close(); err != nil {
			tb.Error(err)
		}
	}()
	ctx := tagged(context.Background(), "holder")
	var res handoverResult
	before := e.counter.Count()
	for ; u.more(res.n); res.n++ {
		l, err := holder.Acquire(ctx, name)
		if err != nil {
			tb.Fatal(err)
		}
		if err := w.goAcquire(); err != nil {
			tb.Fatal(err)
		}
		time.Sleep(holdFor(hold))
		relStart := time.Now()
		if err := l.Release(ctx); err != nil || !errors.Is(l.Err(), lease.ErrReleased) {
			tb.Fatalf("holder Release: %v %v", err, l.Err())
		}
		relEnd := time.Now()
		a, err := w.acquired()
		if err != nil {
			tb.Fatal(err)
		}
		res.add(relStart, relEnd, a)
		rel, err := w.released()
		if err != nil {
			tb.Fatal(err)
		}
		if mode == otherProcess {
			res.total += a.reqs + rel
		}
	}
	res.total += e.counter.Count() - before
	return res
}

// BenchmarkHandover measures how long a released lease takes to reach a
// waiter that was already waiting, with the waiter in the holder's Manager
// (local queue), in another Manager of this process, or in another
// process; the holder keeps the lease handoverHold before releasing, so the
// waiter is in its steady polling state. One op is one hand-over.
func BenchmarkHandover(b *testing.B) {
	e := newEnv(b)
	runHandover(b, e, otherManager, 3, 100*time.Millisecond) // warm up
	for _, mode := range []string{sameManager, otherManager, otherProcess} {
		b.Run(mode, func(b *testing.B) {
			b.ResetTimer()
			r := runHandover(b, e, mode, b.N, handoverHold)
			b.StopTimer()
			r.report(b)
		})
	}
}
