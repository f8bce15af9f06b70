// Command commitlock is a data-lake commit lock: writers in several
// processes (and several goroutines in each) queue for one table's commit
// lock and, while holding it, read the table's commit log and append their
// batch to it. The append is a Save guarded by the lease: DynamoDB refuses
// it unless the writer still holds the lock. It then checks that no append
// was lost, that no writer's batch was interleaved with another's, and
// that the fencing tokens grow along the log.
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
	"time"

	"github.com/ddbocc/ddbocc/internal/ddblocal"
	"github.com/ddbocc/ddbocc/internal/demo"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// Log is the table's commit log: one item, appended to under the lock.
type Log struct {
	Table   string   `dynamo:"table,hash"`
	Entries []string `dynamo:"entries"`
	Version int64    `dynamo:"version"`
}

const batch = 3 // entries per commit

var (
	procs   = flag.Int("procs", 3, "writer processes")
	writers = flag.Int("writers", 2, "writers (goroutines) per process")
	commits = flag.Int("commits", 4, "commits per writer")
	child   = flag.Int("proc", -1, "internal: run as writer process n")
)

func main() {
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ep, stop, err := demo.Endpoint(ctx)
	if err != nil {
		demo.Fatal(err)
	}
	defer stop()
	client := ddblocal.NewClient(ep)
	locks, err := lease.New(client, "commitlock-locks", func(o *lease.Options) { o.Duration = 2 * time.Second })
	if err != nil {
		demo.Fatal(err)
	}
	logs, err := repo.New[Log](client, "commitlock-logs")
	if err != nil {
		demo.Fatal(err)
	}
	if *child >= 0 {
		if err := write(ctx, *child, locks, logs); err != nil {
			demo.Fatal(err)
		}
		return
	}
	if err := locks.CreateTable(ctx); err != nil {
		demo.Fatal(err)
	}
	if err := logs.CreateTable(ctx); err != nil {
		demo.Fatal(err)
	}
	if err := logs.DeleteKey(ctx, repo.Key("events")); err != nil && !errors.Is(err, repo.ErrNotFound) {
		demo.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		demo.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, *procs)
	for p := range *procs {
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
	for err := range errs {
		demo.Fatal(err)
	}
	final, err := logs.Get(ctx, repo.Key("events"))
	if err != nil {
		demo.Fatal(err)
	}
	ok := check(final.Entries)
	fmt.Printf("%d processes x %d writers x %d commits in %v: %d entries (want %d)\n",
		*procs, *writers, *commits, time.Since(start).Round(time.Millisecond), len(final.Entries), *procs**writers**commits*batch)
	if !ok {
		fmt.Println("FAILED: appends lost or interleaved, or tokens not increasing along the log")
		os.Exit(1)
	}
	fmt.Println("OK: every batch appended once and whole, tokens increasing along the log")
}

// write is one writer process: its goroutines share one lease Manager, so
// they queue locally and only one of them polls DynamoDB.
func write(ctx context.Context, p int, locks *lease.Manager, logs *repo.Repository[Log]) error {
	var wg sync.WaitGroup
	errs := make(chan error, *writers)
	for w := range *writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range *commits {
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
					_, err = logs.Save(ctx, cur, repo.Guard(l.Condition()))
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// check reports whether entries hold every batch, whole, once, with
// tokens strictly increasing from one batch to the next.
func check(entries []string) bool {
	if len(entries) != *procs**writers**commits*batch {
		return false
	}
	seen := map[string]bool{}
	var last int64
	for i := 0; i < len(entries); i += batch {
		var p, w, c, k int
		var t int64
		if _, err := fmt.Sscanf(entries[i], "p%d-w%d-c%d-t%d-%d", &p, &w, &c, &t, &k); err != nil {
			return false
		}
		prefix := fmt.Sprintf("p%d-w%d-c%d-t%d-", p, w, c, t)
		for j := range batch {
			if entries[i+j] != fmt.Sprintf("%s%d", prefix, j) {
				return false
			}
		}
		if seen[prefix] || t <= last {
			return false
		}
		seen[prefix], last = true, t
	}
	return true
}
