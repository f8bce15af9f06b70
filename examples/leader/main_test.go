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

// TestMain also runs the candidates of TestLeader: the test binary started
// with -campaign (by candidate) runs campaign, telling its events in a
// format the test parses: VERB UNIXNANO ARGS.
func TestMain(m *testing.M) {
	flag.Parse()
	if *topic != "" {
		var mu sync.Mutex
		say = func(verb string, at time.Time, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Println(append([]any{verb, at.UnixNano()}, args...)...)
		}
		if err := withDynamoDB(campaign); err != nil {
			fatal(err)
		}
		os.Exit(0)
	}
	ddblocal.RunTests(m)
}

const (
	tolerance = 50 * time.Millisecond // for clock readings in different processes
	slack     = 3 * time.Second       // a takeover comes at most lease+slack after a kill
)

// TestLeader runs three candidates, kills the leader twice, and checks from
// what the candidates announced and what is stored: that one candidate led
// at a time, that tokens grew with every new leader, that each takeover
// came no sooner than a lease duration after the dead leader's last renewal
// and at most a few seconds after the kill, that the term item holds the
// leaders' tokens in order (no fenced-out leader wrote after its
// successor), and that the lease is free after shutdown.
func TestLeader(t *testing.T) {
	const candidates, kills = 3, 2
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ep := ddblocal.Endpoint(t)
	name := fmt.Sprintf("leader-test-%d", time.Now().UnixNano())
	locks, terms, err := setup(ctx, ddblocal.Client(t), name)
	if err != nil {
		t.Fatal(err)
	}
	s := &state{t: t, events: make(chan event, 1024), deadline: time.Now().Add(45 * time.Second),
		open: map[int]*term{}, killed: map[int]bool{}}
	cmds := s.start(ep, name, candidates)

	s.until("a first leader", 15*time.Second, func() bool { return s.leader() != nil })
	for range kills {
		s.until("", max(time.Second, *leaseDur/2), func() bool { return false }) // lead, and renew, a while
		s.until("a leader", *leaseDur+slack, func() bool { return s.leader() != nil })
		dead := s.leader()
		if err := cmds[dead.cand].Process.Kill(); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		s.killed[dead.cand] = true
		s.end(dead, killed, "killed")
		s.until("a new leader", *leaseDur+slack, func() bool { return s.leader() != nil })
		next := s.leader()
		if dead.renewed.IsZero() {
			t.Fatalf("candidate %d was killed before it renewed its lease once", dead.cand)
		}
		took, after := next.start.Sub(killed), next.start.Sub(dead.renewed)
		t.Logf("killed candidate %d (token %d); candidate %d took over with token %d, %v after the kill, %v after the dead leader's last renewal",
			dead.cand, dead.token, next.cand, next.token, took.Round(time.Millisecond), after.Round(time.Millisecond))
		if after < *leaseDur-tolerance || took > *leaseDur+slack {
			t.Errorf("takeover %v after the last renewal (want >= the lease, %v) and %v after the kill (want <= %v)",
				after, *leaseDur, took, *leaseDur+slack)
		}
	}
	// Let the last leader work a little, then interrupt everyone: each
	// releases its lease and exits.
	s.until("", 600*time.Millisecond, func() bool { return false })
	s.stopping = true
	for i, c := range cmds {
		if !s.killed[i] {
			_ = c.Process.Signal(os.Interrupt)
		}
	}
	s.until("the candidates to stop", 10*time.Second, func() bool { return s.alive == 0 })

	tokens := s.checkTerms()
	item, err := terms.Get(ctx, repo.Key(name))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(item.Tokens) || !slices.Equal(slices.Compact(slices.Clone(item.Tokens)), tokens) {
		t.Errorf("term item: guarded writes by tokens %v, want the leaders' %v in turn", slices.Compact(slices.Clone(item.Tokens)), tokens)
	}
	st, err := locks.Inspect(ctx, name)
	if err != nil || st.Held {
		t.Errorf("lease after shutdown: %+v %v, want free", st, err)
	}
	t.Logf("%d candidates, %d leaders killed, tokens %v, %d guarded writes", candidates, kills, tokens, len(item.Tokens))
}

// event is a line a candidate printed: VERB UNIXNANO ARGS, at the time the
// candidate gives (its wall clock, which is the test's: same host). The
// test adds EXIT when a candidate has exited.
type event struct {
	cand int
	verb string // LEADER, RENEWED, WORK, FENCED, STOPPED, LOST, ERROR, EXIT
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
	t        *testing.T
	events   chan event
	deadline time.Time
	terms    []*term       // in announcement order
	open     map[int]*term // by candidate, while it leads
	alive    int
	stopping bool
	killed   map[int]bool
}

// start starts n candidates for name, each with a goroutine that reads its
// events to the end and then waits for it; cleanup kills those left.
func (s *state) start(ep, name string, n int) []*exec.Cmd {
	cmds := make([]*exec.Cmd, n)
	var readers sync.WaitGroup
	s.t.Cleanup(func() {
		for _, c := range cmds {
			if c != nil {
				_ = c.Process.Kill() // harmless if it has exited
			}
		}
		go func() { readers.Wait(); close(s.events) }()
		for range s.events { // let the readers finish
		}
	})
	for i := range cmds {
		c := candidate(ep, name, i)
		c.Stderr = os.Stderr
		out, err := c.StdoutPipe()
		if err != nil {
			s.t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			s.t.Fatal(err)
		}
		cmds[i] = c
		s.alive++
		readers.Add(1)
		go func() {
			defer readers.Done()
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if f := strings.Fields(sc.Text()); len(f) >= 2 {
					ns, _ := strconv.ParseInt(f[1], 10, 64)
					s.events <- event{i, f[0], time.Unix(0, ns), f[2:]}
				}
			}
			_ = c.Wait()
			s.events <- event{i, "EXIT", time.Now(), nil}
		}()
	}
	return cmds
}

// until applies events until done() or d has passed. Then it fails the
// test, saying it waited for what, unless what is "" (a plain wait). It
// also fails on a candidate's ERROR line or unexpected exit, and when the
// run's deadline is reached.
func (s *state) until(what string, d time.Duration, done func() bool) {
	s.t.Helper()
	wait := min(d, time.Until(s.deadline))
	tm := time.NewTimer(wait)
	defer tm.Stop()
	for !done() {
		select {
		case e := <-s.events:
			if err := s.apply(e); err != nil {
				s.t.Fatal(err)
			}
		case <-tm.C:
			switch {
			case wait < d:
				s.t.Fatalf("run deadline reached")
			case what != "":
				s.t.Fatalf("waited %v for %s", d, what)
			}
			return
		}
	}
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
			return fmt.Errorf("candidate %d wrote with token %d while not leading with it", e.cand, arg(0))
		}
		t.works++
	case "FENCED":
		s.t.Logf("candidate %d: a guarded write was refused: %s", e.cand, strings.Join(e.args, " "))
	case "STOPPED":
		if t != nil {
			// Its lease ended at its safe time at the latest, even if it
			// noticed later (a paused process notices late).
			last := t.start // after the acquiring write was sent
			if !t.renewed.IsZero() {
				last = t.renewed
			}
			s.end(t, minTime(e.at, last.Add(*leaseDur-*leaseDur/10)), "stopped")
		}
	case "LOST":
		s.t.Logf("candidate %d lost the lease: %s", e.cand, strings.Join(e.args, " "))
	case "EXIT":
		s.alive--
		if !s.stopping && !s.killed[e.cand] {
			return fmt.Errorf("candidate %d exited unexpectedly", e.cand)
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

// checkTerms checks the announced terms, in order of their start: one
// leader at a time, tokens growing. It returns the tokens.
func (s *state) checkTerms() []int64 {
	ts := slices.SortedFunc(slices.Values(s.terms), func(a, b *term) int { return a.start.Compare(b.start) })
	var tokens []int64
	for i, t := range ts {
		s.t.Logf("term %d: candidate %d, token %d, %d guarded writes, %s", i+1, t.cand, t.token, t.works, t.how)
		if i > 0 && (ts[i-1].end.IsZero() || ts[i-1].end.After(t.start)) {
			s.t.Errorf("candidate %d began at %v, before candidate %d ended", t.cand, t.start.Format(time.StampMilli), ts[i-1].cand)
		}
		if i > 0 && t.token <= ts[i-1].token {
			s.t.Errorf("token %d after token %d", t.token, ts[i-1].token)
		}
		tokens = append(tokens, t.token)
	}
	if len(ts) < 3 {
		s.t.Errorf("%d terms, want one per leader: 3", len(ts))
	}
	return tokens
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
