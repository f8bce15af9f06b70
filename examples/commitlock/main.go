// Command commitlock is a data-lake commit lock: writers in several
// processes (and several goroutines in each) queue for one table's commit
// lock and, while holding it, read the table's commit log and append their
// batch to it. The append is a Save guarded by the lease: DynamoDB refuses
// it unless the writer still holds the lock; a writer whose append was
// refused that way (it lost the lock) commits again. It then checks that no
// append was lost or doubled, that no writer's batch was interleaved with
// another's, and that the fencing tokens grow along the log.
//
//	go run ./examples/commitlock [-procs 3] [-writers 2] [-commits 4] [-endpoint URL]
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

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/demo"
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
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		demo.Fatal(err)
	}
}

func run() error {
	ep, stop, err := demo.Endpoint(context.Background())
	if err != nil {
		return err
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := ddblocal.NewClient(ep)
	locks, err := lease.New(client, "commitlock-locks", func(o *lease.Options) { o.Duration = 2 * time.Second })
	if err != nil {
		return err
	}
	logs, err := repo.New[Log](client, "commitlock-logs")
	if err != nil {
		return err
	}
	if *child >= 0 {
		return write(ctx, *child, locks, logs)
	}
	if err := locks.CreateTable(ctx); err != nil {
		return err
	}
	if err := logs.CreateTable(ctx); err != nil {
		return err
	}
	if err := logs.DeleteKey(ctx, repo.Key("events")); err != nil && !errors.Is(err, repo.ErrNotFound) {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, *procs)
	for p := range *procs {
		// Killed if ctx ends first; each child has its own lease Manager
		// and meets the others only in DynamoDB.
		cmd := exec.CommandContext(ctx, self, "-proc", fmt.Sprint(p), "-endpoint", ep,
			"-writers", fmt.Sprint(*writers), "-commits", fmt.Sprint(*commits))
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
	if err := <-errs; err != nil {
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

// write is one writer process: its goroutines share one lease Manager, so
// they queue locally and only one of them polls DynamoDB.
func write(ctx context.Context, p int, locks *lease.Manager, logs *repo.Repository[Log]) error {
	var wg sync.WaitGroup
	var again atomic.Int64
	errs := make(chan error, *writers)
	for w := range *writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := 0; c < *commits; {
				saved := errNotSaved // the guarded Save's error, once sent
				err := locks.Do(ctx, "events/commit", func(ctx context.Context) error {
					l, _ := lease.FromContext(ctx)
					cur, err := logs.Get(ctx, repo.Key("events"))
					if err != nil && !errors.Is(err, repo.ErrNotFound) {
						return err
					}
					cur.Table = "events"
					for i := range batch {
						cur.Entries = append(cur.Entries, fmt.Sprintf("p%d-w%d-c%d-t%d-%d", p, w, c, l.Token(), i))
					}
					// Refused by DynamoDB unless this lease is still held.
					_, saved = logs.Save(ctx, cur, repo.Guard(l.Condition()))
					return saved
				})
				switch {
				case err == nil:
					c++
				case errors.Is(err, lease.ErrLost) && (saved == errNotSaved || errors.Is(saved, repo.ErrGuardFailed)):
					// Lost the lock before appending, or the guard refused
					// the append: nothing was written, commit again.
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
