// Command leader is leader election with a lease: candidate processes
// campaign for one name; the one holding the lease leads and, while it
// does, writes a heartbeat item guarded by its lease. The parent kills the
// leader with SIGKILL; another candidate takes over after about one lease
// duration (it must see the dead leader's record unchanged for a full
// lease on its own clock). It checks that there is one leader at a time,
// that fencing tokens grow with every new leader, that each takeover came
// after about one lease duration, and that the guarded item names the last
// leader.
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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ddbocc/ddbocc/internal/ddblocal"
	"github.com/ddbocc/ddbocc/internal/demo"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// Term is the item a leader keeps writing while it leads, guarded by its
// lease: only the current leader's writes get through.
type Term struct {
	Name    string `dynamo:"name,hash"`
	Leader  string `dynamo:"leader"`
	Token   int64  `dynamo:"token"`
	Beats   int    `dynamo:"beats"`
	Version int64  `dynamo:"version"`
}

var (
	candidates = flag.Int("candidates", 3, "candidate processes")
	kills      = flag.Int("kills", 2, "leaders to kill, one after the other")
	leaseDur   = flag.Duration("lease", 2*time.Second, "lease duration")
	child      = flag.String("campaign", "", "internal: run as a candidate for this name")
)

func main() {
	flag.Parse()
	if *child != "" {
		campaign(*child)
		return
	}
	if err := run(); err != nil {
		demo.Fatal(err)
	}
}

// event is one line a candidate printed.
type event struct {
	cand int
	verb string // LEADER, LOST, EXIT
	arg  string
	at   time.Time
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ep, stop, err := demo.Endpoint(ctx)
	if err != nil {
		return err
	}
	defer stop()
	locks, terms, err := tables(ctx, ep)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("leader-%d", time.Now().UnixNano()) // fresh per run
	self, err := os.Executable()
	if err != nil {
		return err
	}

	events := make(chan event, 64)
	cmds := make([]*exec.Cmd, *candidates)
	stdins := make([]io.WriteCloser, *candidates)
	var readers sync.WaitGroup
	defer func() {
		for i, c := range cmds { // on any early return: no orphans
			if c != nil && c.Process != nil {
				stdins[i].Close()
				_ = c.Process.Kill()
			}
		}
		readers.Wait()
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
		readers.Add(1)
		go func() { // owns c: reads it to the end, then waits for it
			defer readers.Done()
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				verb, arg, _ := strings.Cut(sc.Text(), " ")
				events <- event{i, verb, arg, time.Now()}
			}
			_ = c.Wait()
			events <- event{i, "EXIT", "", time.Now()}
		}()
	}

	// next returns the next LEADER or LOST line, failing on anything else
	// unexpected, and checks there is one leader at a time.
	leader, alive := -1, *candidates
	next := func(d time.Duration) (event, error) {
		deadline := time.After(d)
		for {
			select {
			case e := <-events:
				switch e.verb {
				case "LEADER":
					if leader >= 0 {
						return e, fmt.Errorf("candidate %d leads while candidate %d still does", e.cand, leader)
					}
					leader = e.cand
					return e, nil
				case "LOST":
					fmt.Printf("candidate %d lost the lease: %s\n", e.cand, e.arg)
					if e.cand == leader {
						leader = -1
					}
				case "EXIT":
					alive--
					if e.cand == leader {
						leader = -1
					}
				case "ERROR":
					return e, fmt.Errorf("candidate %d: %s", e.cand, e.arg)
				}
			case <-deadline:
				return event{}, fmt.Errorf("no new leader within %v", d)
			}
		}
	}

	first, err := next(15 * time.Second)
	if err != nil {
		return err
	}
	token, _ := strconv.ParseInt(first.arg, 10, 64)
	fmt.Printf("candidate %d leads with token %d\n", first.cand, token)
	tokens := []int64{token}
	var takeovers []time.Duration
	ok := true
	for k := 0; k < *kills && k < *candidates-1; k++ {
		time.Sleep(time.Second) // let it lead a while
		dead := leader
		if err := cmds[dead].Process.Kill(); err != nil {
			return err
		}
		killed := time.Now()
		leader = -1 // SIGKILL: it leads no more, whatever its record says
		e, err := next(*leaseDur + 15*time.Second)
		if err != nil {
			return err
		}
		took := e.at.Sub(killed)
		t, _ := strconv.ParseInt(e.arg, 10, 64)
		// The dead leader renewed at most HeartbeatInterval (lease/3)
		// before it died; a candidate then waits a full lease from its
		// first read of that renewal.
		lo, hi := (*leaseDur*2/3 - 100*time.Millisecond).Round(time.Millisecond), *leaseDur+2*time.Second
		inWindow := took >= lo && took <= hi
		fmt.Printf("killed candidate %d; candidate %d took over after %v with token %d (lease %v, expected %v..%v): %s\n",
			dead, e.cand, took.Round(time.Millisecond), t, *leaseDur, lo, hi, okStr(inWindow && t > tokens[len(tokens)-1]))
		ok = ok && inWindow && t > tokens[len(tokens)-1]
		tokens = append(tokens, t)
		takeovers = append(takeovers, took.Round(time.Millisecond))
	}

	// Let the last leader write a little, then stop everyone: closing stdin
	// makes a candidate release its lease and exit.
	time.Sleep(500 * time.Millisecond)
	for i := range cmds {
		stdins[i].Close()
	}
	stopped := time.After(10 * time.Second)
	for alive > 0 {
		select {
		case e := <-events:
			if e.verb == "EXIT" {
				alive--
			}
		case <-stopped:
			return errors.New("candidates did not stop within 10s")
		}
	}
	term, err := terms.Get(ctx, repo.Key(name))
	if err != nil {
		return err
	}
	st, err := locks.Inspect(ctx, name)
	if err != nil {
		return err
	}
	final := tokens[len(tokens)-1]
	termOK := term.Token == final && !st.Held
	fmt.Printf("guarded term item written by the last leader (token %d, %d beats), lease free after shutdown: %s\n",
		term.Token, term.Beats, okStr(termOK))
	fmt.Printf("%d candidates, %d leaders killed, takeovers after %v, tokens %v, one leader at a time: OK\n",
		*candidates, len(takeovers), takeovers, tokens)
	if !ok || !termOK {
		os.Exit(1)
	}
	return nil
}

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

// campaign is a candidate: it campaigns for name until its stdin closes,
// leading whenever it holds the lease. It prints LEADER <token> when it
// starts leading and LOST <reason> when it stops.
func campaign(name string) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // stdin closed (or the parent gone): stop campaigning
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	ep, _, err := demo.Endpoint(ctx) // the parent's, from -endpoint
	if err != nil {
		fmt.Println("ERROR", err)
		return
	}
	terms, err := repo.New[Term](ddblocal.NewClient(ep), "leader-terms")
	if err != nil {
		fmt.Println("ERROR", err)
		return
	}
	locks, err := lease.New(ddblocal.NewClient(ep), "leader-locks", func(o *lease.Options) { o.Duration = *leaseDur })
	if err != nil {
		fmt.Println("ERROR", err)
		return
	}
	for ctx.Err() == nil {
		l, err := locks.Acquire(ctx, name)
		if err != nil {
			if ctx.Err() == nil {
				fmt.Println("ERROR", err)
			}
			return
		}
		fmt.Println("LEADER", l.Token())
		lead(ctx, l, terms, name)
		if _, err := l.Release(context.Background()); err != nil {
			fmt.Println("ERROR", err)
			return
		}
		if err := l.Err(); errors.Is(err, lease.ErrLost) {
			fmt.Println("LOST", err)
		}
	}
}

// lead does the leader's work until the lease is lost or ctx is done:
// every 200 ms a heartbeat write that DynamoDB accepts only while l is held.
func lead(ctx context.Context, l *lease.Lease, terms *repo.Repository[Term], name string) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := terms.Update(l.Context(), repo.Key(name), func(t *Term) error {
			t.Name, t.Leader, t.Token = name, l.Owner(), l.Token()
			t.Beats++
			return nil
		}, repo.Guard(l.Condition()))
		if errors.Is(err, repo.ErrNotFound) {
			_, err = terms.Create(l.Context(), Term{Name: name, Leader: l.Owner(), Token: l.Token(), Beats: 1}, repo.Guard(l.Condition()))
		}
		if err != nil && l.Err() == nil && ctx.Err() == nil {
			fmt.Println("ERROR", err)
		}
		select {
		case <-tick.C:
		case <-l.Done():
			return
		case <-ctx.Done():
			return
		}
	}
}
