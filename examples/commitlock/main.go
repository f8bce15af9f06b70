// Command commitlock is a data-lake commit lock: several writers queue for
// one table's commit lock and, while holding it, append their entries to a
// shared list item with an unconditional write (only the lease protects it,
// nothing else). It then checks that no append was lost
// and no writer's batch was interleaved with another's.
//
//	go run ./examples/commitlock [-writers 4] [-commits 5] [-endpoint URL]
//
// Writers run as goroutines of one process (separate processes: not yet).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"

	"github.com/ddbocc/ddbocc/internal/demo"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// Log is the shared list item: the table's commit log.
type Log struct {
	Table   string   `dynamo:"table,hash"`
	Entries []string `dynamo:"entries"`
	Version int64    `dynamo:"version"`
}

func main() {
	writers := flag.Int("writers", 4, "writers queueing for the commit lock")
	commits := flag.Int("commits", 5, "commits per writer, each appending 3 entries")
	flag.Parse()
	ctx := context.Background()
	client, stop, err := demo.Connect(ctx)
	if err != nil {
		demo.Fatal(err)
	}
	defer stop()
	locks, err := lease.New(client, "commitlock-locks")
	if err != nil {
		demo.Fatal(err)
	}
	logs, err := repo.New[Log](client, "commitlock-logs")
	if err != nil {
		demo.Fatal(err)
	}
	if err := locks.CreateTable(ctx); err != nil {
		demo.Fatal(err)
	}
	if err := logs.CreateTable(ctx); err != nil {
		demo.Fatal(err)
	}
	_ = logs.DeleteKey(ctx, repo.Key("events"))

	var wg sync.WaitGroup
	errs := make(chan error, *writers)
	for w := range *writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range *commits {
				err := locks.Do(ctx, "events/commit", func(ctx context.Context) error {
					cur, err := logs.Get(ctx, repo.Key("events"))
					if err != nil && !errors.Is(err, repo.ErrNotFound) {
						return err
					}
					cur.Table = "events"
					for i := range 3 {
						cur.Entries = append(cur.Entries, fmt.Sprintf("w%d-c%d-%d", w, c, i))
					}
					_, err = logs.Overwrite(ctx, cur)
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
	for err := range errs {
		demo.Fatal(err)
	}
	final, err := logs.Get(ctx, repo.Key("events"))
	if err != nil {
		demo.Fatal(err)
	}
	want := *writers * *commits * 3
	ok := len(final.Entries) == want
	for i := 0; ok && i < len(final.Entries); i += 3 {
		var w, c, k int
		fmt.Sscanf(final.Entries[i], "w%d-c%d-%d", &w, &c, &k)
		for j := range 3 {
			if final.Entries[i+j] != fmt.Sprintf("w%d-c%d-%d", w, c, j) {
				ok = false
			}
		}
	}
	fmt.Printf("%d writers x %d commits: %d entries (want %d), batches intact: %v\n", *writers, *commits, len(final.Entries), want, ok)
	if !ok {
		os.Exit(1)
	}
}
