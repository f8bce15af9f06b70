// Command leader is leader election with a lease: candidate processes
// campaign for one name; the one holding the lease leads and, while it
// does, appends its fencing token to a term item with writes guarded by
// its lease. The parent kills the leader with SIGKILL; another candidate
// takes over one lease duration after the dead leader's last renewal (it
// must see that renewal unchanged for a full lease on its own clock).
//
// It checks that one candidate leads at a time (from the times the
// candidates announce), that tokens grow with every new leader, that each
// takeover came no sooner than a lease duration after the dead leader's
// last renewal and at most a few seconds after the kill, that the term
// item holds the leaders' tokens in order (no fenced-out leader wrote after
// its successor), and that the lease is free after shutdown. It exits with
// status 1 if any check fails.
//
//	go run ./examples/leader [-candidates 3] [-kills 2] [-lease 2s] [-endpoint URL]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/demo"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// Term is the item the leaders write while they lead, guarded by their
// lease: only the current leader's writes get through.
type Term struct {
	Name    string  `dynamo:"name,hash"`
	Leader  string  `dynamo:"leader"`
	Tokens  []int64 `dynamo:"tokens"` // the writer's token, one per write
	Version int64   `dynamo:"version"`
}

var (
	candidates = flag.Int("candidates", 3, "candidate processes")
	kills      = flag.Int("kills", 2, "leaders to kill, one after the other (at most candidates-1)")
	leaseDur   = flag.Duration("lease", 2*time.Second, "lease duration")
	child      = flag.String("campaign", "", "internal: run as a candidate for this name")
)

const (
	timeout   = 25 * time.Second       // for the whole run, DynamoDB Local's start aside
	tolerance = 50 * time.Millisecond  // for clock readings in different processes
	slack     = 3 * time.Second        // a takeover comes at most lease+slack after a kill
	beat      = 200 * time.Millisecond // a leader's guarded writes
)

func main() {
	flag.Parse()
	run := run
	if *child != "" {
		run = campaign
	}
	if err := run(); err != nil {
		demo.Fatal(err)
	}
}

// The parent.

// event is a line a candidate printed: VERB UNIXNANO ARGS, at the time
// the candidate gives (its wall clock, which is the parent's: same host).
// The parent adds EXIT when a candidate has exited.
type event struct {
	cand int
	verb string // LEADER, RENEWED, WORK, FENCED, LOST, RELEASED, ERROR, EXIT
	at   time.Time
	args []string
}

// term is one candidate's time as leader, as it announced it.
type term struct {
	cand       int
	token      int64
	start, end time.Time // end zero while it leads
	renewed    time.Time // when its last renewal was sent
	works      int
	how        string // how it ended
}

// state follows the candidates' events.
type state struct {
	events   chan event
	deadline time.Time
	terms    []*term       // in announcement order
	open     map[int]*term // by candidate, while it leads
	alive    int
	stopping bool
	killed   map[int]bool
}

func run() error {
	ep, stop, err := demo.Endpoint(context.Background())
	if err != nil {
		return err
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	locks, terms, err := tables(ctx, ep)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("leader-%d", time.Now().UnixNano()) // fresh per run
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if *kills > *candidates-1 {
		*kills = *candidates - 1
	}

	s := &state{events: make(chan event, 256), deadline: time.Now().Add(timeout), open: map[int]*term{}, killed: map[int]bool{}}
	cmds := make([]*exec.Cmd, *candidates)
	stdins := make([]io.WriteCloser, *candidates)
	var readers sync.WaitGroup
	defer func() { // on every return: no candidate left running
		for i, c := range cmds {
			if c != nil {
				stdins[i].Close()
				_ = c.Process.Kill() // harmless if it has exited
			}
		}
		go func() { readers.Wait(); close(s.events) }()
		for range s.events { // let the readers finish
		}
	}()
	for i := range cmds {
		c := exec.Command(self, "-campaign", name, "-endpoint", ep, "-lease", leaseDur.String())
		c.Stderr = os.Stderr
		out, err := c.StdoutPipe()
		if err != nil {
			return err
		}
		if stdins[i], err = c.StdinPipe(); err != nil {
			return err
		}
		if err := c.Start(); err != nil {
			return err
		}
		cmds[i] = c
		s.alive++
		readers.Add(1)
		go func() { // owns c: reads its output to the end, then waits for it
			defer readers.Done()
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) < 2 {
					continue
				}
				ns, _ := strconv.ParseInt(f[1], 10, 64)
				s.events <- event{i, f[0], time.Unix(0, ns), f[2:]}
			}
			_ = c.Wait()
			s.events <- event{i, "EXIT", time.Now(), nil}
		}()
	}

	var problems []string
	check := func(ok bool, format string, a ...any) {
		fmt.Printf(format+": %s\n", append(a, okStr(ok))...)
		if !ok {
			problems = append(problems, fmt.Sprintf(format, a...))
		}
	}

	if err := s.until("a first leader", 15*time.Second, func() bool { return s.leader() != nil }); err != nil {
		return err
	}
	first := s.leader()
	fmt.Printf("candidate %d (pid %d) leads with token %d\n", first.cand, cmds[first.cand].Process.Pid, first.token)
	// Let each leader lead a while, and renew its lease at least once.
	leadFor := max(time.Second, *leaseDur/2)
	for range *kills {
		if err := s.until("", leadFor, func() bool { return false }); err != nil {
			return err
		}
		if err := s.until("a leader", *leaseDur+slack, func() bool { return s.leader() != nil }); err != nil {
			return err // it lost the lease on its own, and no one took over
		}
		dead := s.leader()
		if err := cmds[dead.cand].Process.Kill(); err != nil {
			return err
		}
		killed := time.Now()
		s.killed[dead.cand] = true
		s.end(dead, killed, "killed")
		if err := s.until("a new leader", *leaseDur+slack, func() bool { return s.leader() != nil }); err != nil {
			return err
		}
		next := s.leader()
		took, after := next.start.Sub(killed), next.start.Sub(dead.renewed)
		if dead.renewed.IsZero() {
			return fmt.Errorf("FAILED: candidate %d was killed before it renewed its lease once", dead.cand)
		}
		fmt.Printf("killed candidate %d (token %d); candidate %d took over with token %d, %v after the kill, %v after the dead leader's last renewal\n",
			dead.cand, dead.token, next.cand, next.token, took.Round(time.Millisecond), after.Round(time.Millisecond))
		check(after >= *leaseDur-tolerance && took <= *leaseDur+slack,
			"takeover no sooner than the lease (%v) after the last renewal, at most %v after the kill", *leaseDur, *leaseDur+slack)
	}

	// Let the last leader work a little, then stop everyone: closing stdin
	// makes a candidate release its lease and exit.
	if err := s.until("", 3*beat, func() bool { return false }); err != nil {
		return err
	}
	s.stopping = true
	for i := range cmds {
		stdins[i].Close()
	}
	if err := s.until("the candidates to stop", 10*time.Second, func() bool { return s.alive == 0 }); err != nil {
		return err
	}

	// The announced terms, in order of their start: one leader at a time,
	// tokens growing.
	ts := slices.SortedFunc(slices.Values(s.terms), func(a, b *term) int { return a.start.Compare(b.start) })
	var tokens []int64
	overlap, growing := "", true
	for i, t := range ts {
		fmt.Printf("term %d: candidate %d, token %d, %d guarded writes, %s\n", i+1, t.cand, t.token, t.works, t.how)
		if i > 0 && (ts[i-1].end.IsZero() || ts[i-1].end.After(t.start)) && overlap == "" {
			overlap = fmt.Sprintf(" (candidate %d began at %v, before candidate %d ended)", t.cand, t.start.Format(time.StampMilli), ts[i-1].cand)
		}
		if i > 0 && t.token <= ts[i-1].token {
			growing = false
		}
		tokens = append(tokens, t.token)
	}
	check(overlap == "", "%d terms, one leader at a time%s", len(ts), overlap)
	check(growing, "tokens %v strictly increasing", tokens)

	// The term item: the guarded writes of each leader, in the order
	// DynamoDB took them.
	item, err := terms.Get(ctx, repo.Key(name))
	if err != nil {
		return err
	}
	check(slices.IsSorted(item.Tokens) && slices.Equal(slices.Compact(slices.Clone(item.Tokens)), tokens),
		"term item: %d guarded writes, by the leaders in turn", len(item.Tokens))
	st, err := locks.Inspect(ctx, name)
	if err != nil {
		return err
	}
	check(!st.Held, "lease free after shutdown")
	if len(problems) > 0 {
		return fmt.Errorf("FAILED: %s", strings.Join(problems, "; "))
	}
	fmt.Printf("%d candidates, %d leaders killed, tokens %v: OK\n", *candidates, len(s.killed), tokens)
	return nil
}

// until applies events until done() or d has passed. Then it fails,
// saying it waited for what, unless what is "" (a plain wait). It also
// fails on a candidate's ERROR line or unexpected exit, and when the run's
// timeout is reached.
func (s *state) until(what string, d time.Duration, done func() bool) error {
	wait := min(d, time.Until(s.deadline))
	t := time.NewTimer(wait)
	defer t.Stop()
	for !done() {
		select {
		case e := <-s.events:
			if err := s.apply(e); err != nil {
				return err
			}
		case <-t.C:
			switch {
			case wait < d:
				return fmt.Errorf("FAILED: run timeout %v reached", timeout)
			case what != "":
				return fmt.Errorf("FAILED: waited %v for %s", d, what)
			}
			return nil
		}
	}
	return nil
}

// apply records what event e says.
func (s *state) apply(e event) error {
	t := s.open[e.cand]
	arg := func(i int) int64 { n, _ := strconv.ParseInt(e.args[i], 10, 64); return n }
	switch e.verb {
	case "LEADER":
		t = &term{cand: e.cand, token: arg(0), start: e.at}
		s.terms = append(s.terms, t)
		s.open[e.cand] = t
	case "RENEWED":
		if t != nil {
			t.renewed = e.at
		}
	case "WORK":
		if t == nil || t.token != arg(0) {
			return fmt.Errorf("FAILED: candidate %d wrote with token %d while not leading with it", e.cand, arg(0))
		}
		t.works++
	case "FENCED":
		fmt.Printf("candidate %d: a guarded write was refused: %s\n", e.cand, strings.Join(e.args, " "))
	case "LOST":
		fmt.Printf("candidate %d lost the lease: %s\n", e.cand, strings.Join(e.args, " "))
		if t != nil {
			// Its lease ended at its safe time at the latest, even if it
			// noticed later (a paused process notices late).
			last := t.start // after the acquiring write was sent
			if !t.renewed.IsZero() {
				last = t.renewed
			}
			s.end(t, minTime(e.at, last.Add(*leaseDur-margin())), "lost the lease")
		}
	case "RELEASED":
		if t != nil {
			s.end(t, e.at, "released")
		}
	case "EXIT":
		s.alive--
		if !s.stopping && !s.killed[e.cand] {
			return fmt.Errorf("FAILED: candidate %d exited unexpectedly", e.cand)
		}
		if t != nil {
			s.end(t, e.at, "exited")
		}
	case "ERROR":
		return fmt.Errorf("candidate %d: %s", e.cand, strings.Join(e.args, " "))
	}
	return nil
}

// leader is the term that began last among those still going.
func (s *state) leader() *term {
	var l *term
	for _, t := range s.open {
		if l == nil || t.start.After(l.start) {
			l = t
		}
	}
	return l
}

// end ends t at the given time.
func (s *state) end(t *term, at time.Time, how string) {
	if t.end.IsZero() {
		t.end, t.how = at, how
	}
	if s.open[t.cand] == t {
		delete(s.open, t.cand)
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// margin is the lease's SafetyMargin: a holder whose last renewal was sent
// at t holds the lease until t+Duration-margin at most.
func margin() time.Duration { return *leaseDur / 10 }

func okStr(ok bool) string {
	if ok {
		return "OK"
	}
	return "FAILED"
}

// tables creates the lease table and the term table.
func tables(ctx context.Context, ep string) (*lease.Manager, *repo.Repository[Term], error) {
	client := ddblocal.NewClient(ep)
	locks, err := lease.New(client, "leader-locks")
	if err != nil {
		return nil, nil, err
	}
	if err := locks.CreateTable(ctx); err != nil {
		return nil, nil, err
	}
	terms, err := repo.New[Term](client, "leader-terms")
	if err != nil {
		return nil, nil, err
	}
	return locks, terms, terms.CreateTable(ctx)
}

// The candidates.

var outMu sync.Mutex

// say prints one line for the parent: verb, time, args.
func say(verb string, at time.Time, args ...any) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Println(append([]any{verb, at.UnixNano()}, args...)...)
}

// campaign is a candidate: it campaigns for the name until its stdin
// closes, leading whenever it holds the lease.
func campaign() error {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // stdin closed (or the parent gone): stop campaigning
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	ep, _, err := demo.Endpoint(ctx) // the parent's, from -endpoint
	if err != nil {
		return err
	}
	client := ddblocal.NewClient(ep)
	terms, err := repo.New[Term](client, "leader-terms")
	if err != nil {
		return err
	}
	locks, err := lease.New(client, "leader-locks", func(o *lease.Options) {
		o.Duration, o.SafetyMargin = *leaseDur, margin()
		o.Observer.Renewed = func(e lease.RenewedEvent) { say("RENEWED", time.Now().Add(-e.Latency), e.Token) }
	})
	if err != nil {
		return err
	}
	for {
		l, err := locks.Acquire(ctx, *child)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			say("ERROR", time.Now(), err)
			return err
		}
		say("LEADER", time.Now(), l.Token())
		stopped := lead(ctx, l, terms)
		if err := l.Err(); err != nil {
			say("LOST", stopped, err)
			continue
		}
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = l.Release(rctx)
		rcancel()
		if err != nil {
			say("ERROR", time.Now(), err)
			return err
		}
		say("RELEASED", stopped)
	}
}

// lead does the leader's work until the lease is lost or ctx is done, and
// returns when it stopped: every beat, a write to the term item that
// DynamoDB accepts only while l is held.
func lead(ctx context.Context, l *lease.Lease, terms *repo.Repository[Term]) time.Time {
	tick := time.NewTicker(beat)
	defer tick.Stop()
	guard := repo.Guard(l.Condition())
	for {
		t, err := terms.Update(l.Context(), repo.Key(*child), func(t *Term) error {
			t.Leader, t.Tokens = l.Owner(), append(t.Tokens, l.Token())
			return nil
		}, guard)
		if errors.Is(err, repo.ErrNotFound) {
			t, err = terms.Create(l.Context(), Term{Name: *child, Leader: l.Owner(), Tokens: []int64{l.Token()}}, guard)
		}
		switch {
		case err == nil:
			say("WORK", time.Now(), l.Token(), len(t.Tokens))
		case errors.Is(err, repo.ErrGuardFailed):
			say("FENCED", time.Now(), err) // the lease is gone: Done closes soon
		case l.Err() == nil && ctx.Err() == nil:
			say("ERROR", time.Now(), err)
		}
		select {
		case <-tick.C:
		case <-l.Done():
			return time.Now()
		case <-ctx.Done():
			return time.Now()
		}
	}
}
