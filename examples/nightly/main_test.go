package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/repo"
)

// TestMain also runs the runners of TestNightly: the test binary started
// with -batch (by runnerCmd) runs runner, telling what it does in a format
// the test parses: VERB UNIXNANO ARGS.
func TestMain(m *testing.M) {
	flag.Parse()
	if *batch != "" {
		var mu sync.Mutex
		say = func(verb string, at time.Time, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			for i, a := range args {
				if t, ok := a.(time.Time); ok {
					args[i] = t.UnixMilli()
				}
			}
			fmt.Println(append([]any{verb, at.UnixNano()}, args...)...)
		}
		if err := withDynamoDB(runner); err != nil {
			fatal(err)
		}
		os.Exit(0)
	}
	ddblocal.RunTests(m)
}

// TestNightly runs three runner processes over five days' jobs and kills
// (SIGKILL) the first runner to start a job, in the middle of it. Then it
// starts one more runner, as a replica restarted after the crash would be.
// It checks, from what the runners said and what is stored, that:
//   - every day's job ran to the end exactly once (one RAN, one entry in
//     the day's report) and the day is marked done by that run (owner,
//     token), free;
//   - the killed runner's job was redone by another runner, with a greater
//     token, which started it no sooner than a lease duration after the
//     killed one started it (it took the lease over);
//   - every other runner learned of each day it did not run that it was
//     done, by whom, with which token and when (the mark), without running
//     it, and the restarted runner ran nothing.
func TestNightly(t *testing.T) {
	t.Parallel()
	const tolerance = 50 * time.Millisecond // for clock readings in different processes
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ep := ddblocal.Endpoint(t)
	b := fmt.Sprintf("nightly-test-%d", time.Now().UnixNano())
	locks, reports, err := setup(ctx, ddblocal.Client(t), b, *days)
	if err != nil {
		t.Fatal(err)
	}
	s := &procs{t: t, ep: ep, batch: b, events: make(chan event, 1024), cmds: map[int]*exec.Cmd{}, deadline: time.Now().Add(30 * time.Second)}
	t.Cleanup(s.cleanup)
	for i := range *runners {
		s.start(i)
	}

	started := s.await("a first job", func(e event) bool { return e.verb == "START" })
	victim, vName, vToken := started.runner, started.args[0], arg(started, 1)
	time.Sleep(*jobDur / 4) // into the job
	if err := s.cmds[victim].Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	t.Logf("killed runner-%d %v into the job of %s (token %d)", victim, killed.Sub(started.at).Round(time.Millisecond), vName, vToken)
	for range *runners {
		e := s.await("the runners to exit", func(e event) bool { return e.verb == "EXIT" })
		if e.runner != victim && len(e.args) > 0 {
			t.Fatalf("runner-%d: %s", e.runner, strings.Join(e.args, " "))
		}
	}
	restarted := *runners
	s.start(restarted)
	if e := s.await("the restarted runner to exit", func(e event) bool { return e.verb == "EXIT" }); len(e.args) > 0 {
		t.Fatalf("restarted runner-%d: %s", e.runner, strings.Join(e.args, " "))
	}

	by := func(verb, name string) []event {
		var es []event
		for _, e := range s.seen {
			if e.verb == verb && e.args[0] == name {
				es = append(es, e)
			}
		}
		return es
	}
	for _, e := range s.seen {
		if e.verb == "LOST" {
			t.Logf("runner-%d lost a lease: %s", e.runner, strings.Join(e.args, " "))
		}
	}
	for _, name := range dayNames(b, *days) {
		st, err := locks.Inspect(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := reports.Get(ctx, repo.Key(name))
		if err != nil {
			t.Fatal(err)
		}
		mark := fmt.Sprintf("%s %d", st.DoneBy, st.DoneToken)
		t.Logf("%s: done %v by %s at %s; report runs %q", name, st.Done, mark, st.DoneAt.Format("15:04:05.000"), r.Runs)
		if !st.Done || st.Held {
			t.Errorf("%s: %+v, want done and free", name, st)
		}
		if !slices.Equal(r.Runs, []string{mark}) {
			t.Errorf("%s: runs %q, want one, the marked one: %q", name, r.Runs, mark)
		}
		ran := by("RAN", name)
		if len(ran) != 1 || owner(ran[0].runner) != st.DoneBy || arg(ran[0], 1) != st.DoneToken {
			t.Errorf("%s: ran %d times %v, want once, by the mark's %s", name, len(ran), ran, mark)
		}
		// Every runner alive, or restarted, when the day was done learned
		// the mark (or made it).
		for i := range *runners + 1 {
			if i == victim {
				continue
			}
			skipped := slices.DeleteFunc(by("SKIPPED", name), func(e event) bool { return e.runner != i })
			switch {
			case len(ran) == 1 && ran[0].runner == i:
				if len(skipped) > 0 {
					t.Errorf("%s: runner-%d ran it and skipped it", name, i)
				}
			case len(skipped) != 1:
				t.Errorf("%s: runner-%d skipped it %d times, want once", name, i, len(skipped))
			case skipped[0].args[1] != st.DoneBy || arg(skipped[0], 2) != st.DoneToken || arg(skipped[0], 3) != st.DoneAt.UnixMilli():
				t.Errorf("%s: runner-%d learned it was done by %v, want %s at %d", name, i, skipped[0].args[1:], mark, st.DoneAt.UnixMilli())
			}
		}
		if name != vName {
			continue
		}
		// The killed job was redone after a takeover.
		if st.DoneBy == owner(victim) || st.DoneToken <= vToken {
			t.Errorf("%s: marked %s, want another runner's redo with a token > %d", name, mark, vToken)
		}
		redo := slices.DeleteFunc(by("START", name), func(e event) bool { return e.runner == victim })
		if len(redo) != 1 {
			t.Errorf("%s: started %d times after the kill, want once: %v", name, len(redo), redo)
			continue
		}
		t.Logf("%s redone by runner-%d (token %d), started %v after the kill, %v after the killed run started", name,
			redo[0].runner, arg(redo[0], 1), redo[0].at.Sub(killed).Round(time.Millisecond), redo[0].at.Sub(started.at).Round(time.Millisecond))
		if gap := redo[0].at.Sub(started.at); gap < *leaseDur-tolerance {
			t.Errorf("%s redone %v after the killed run started, want a takeover: >= the lease duration %v", name, gap, *leaseDur)
		}
	}
	if slices.ContainsFunc(s.seen, func(e event) bool { return e.runner == restarted && e.verb == "START" }) {
		t.Errorf("the restarted runner ran a job")
	}
}

// event is a line a runner printed: VERB UNIXNANO ARGS, at the time the
// runner gives (its wall clock: the test's, same host). The test adds EXIT
// (ARGS: the error, if any) when a runner has exited.
type event struct {
	runner int
	verb   string // START, RAN, SKIPPED, LOST, EXIT
	at     time.Time
	args   []string
}

func (e event) String() string {
	return fmt.Sprintf("runner-%d %s %s", e.runner, e.verb, strings.Join(e.args, " "))
}

// arg is e's numeric argument i.
func arg(e event, i int) int64 {
	if i >= len(e.args) {
		return -1
	}
	n, _ := strconv.ParseInt(e.args[i], 10, 64)
	return n
}

// procs are the runner processes of a test and what they said.
type procs struct {
	t        *testing.T
	ep       string
	batch    string
	events   chan event
	seen     []event
	cmds     map[int]*exec.Cmd
	readers  sync.WaitGroup
	deadline time.Time
}

// start starts runner i, with a goroutine that reads its events to the end
// and then waits for it.
func (s *procs) start(i int) {
	c := runnerCmd(s.ep, s.batch, i)
	c.Stderr = os.Stderr
	out, err := c.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmds[i] = c
	s.readers.Add(1)
	go func() {
		defer s.readers.Done()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 3 {
				ns, _ := strconv.ParseInt(f[1], 10, 64)
				s.events <- event{i, f[0], time.Unix(0, ns), f[2:]}
			}
		}
		e := event{runner: i, verb: "EXIT", at: time.Now()}
		if err := c.Wait(); err != nil {
			e.args = []string{err.Error()}
		}
		s.events <- e
	}()
}

// await collects events until one satisfies done, which it returns, and
// fails the test, saying it waited for what, at the run's deadline.
func (s *procs) await(what string, done func(event) bool) event {
	s.t.Helper()
	tm := time.NewTimer(time.Until(s.deadline))
	defer tm.Stop()
	for {
		select {
		case e := <-s.events:
			s.seen = append(s.seen, e)
			if done(e) {
				return e
			}
		case <-tm.C:
			s.t.Fatalf("run deadline reached waiting for %s; %d events, the last: %v", what, len(s.seen), s.seen[max(0, len(s.seen)-10):])
		}
	}
}

// cleanup kills the runners left and lets their readers finish.
func (s *procs) cleanup() {
	for _, c := range s.cmds {
		_ = c.Process.Kill() // harmless if it has exited
	}
	go func() { s.readers.Wait(); close(s.events) }()
	for range s.events {
	}
}
