package lease_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/dynamolocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// exampleClient connects the examples to the test binary's DynamoDB Local,
// which TestMain starts with dynamolocal.RunTests (a program would call
// dynamolocal.Start). In an application, pass a *dynamodb.Client made with
// dynamodb.NewFromConfig.
func exampleClient() *dynamodb.Client {
	local, err := dynamolocal.Shared()
	if err != nil {
		panic(err)
	}
	return local.Client()
}

// exampleManager returns a lease Manager on a new lock table.
func exampleManager() *lease.Manager {
	m, err := lease.New(exampleClient(), fmt.Sprintf("example-locks-%d", rand.Int64()),
		func(o *lease.Options) { o.Duration = 10 * time.Second })
	if err != nil {
		panic(err)
	}
	if err := m.CreateTable(context.Background()); err != nil {
		panic(err)
	}
	return m
}

// A commit lock: acquire, work while l.Context() is live, release.
func ExampleManager_Acquire() {
	ctx := context.Background()
	locks := exampleManager()
	l, err := locks.Acquire(ctx, "db.events/commit")
	if err != nil {
		panic(err)
	}
	fmt.Println("holding with token", l.Token())
	err = l.Release(ctx)
	fmt.Println("released:", err, l.Err())
	l, err = locks.Acquire(ctx, "db.events/commit")
	if err != nil {
		panic(err)
	}
	defer l.Release(ctx)
	fmt.Println("holding again with token", l.Token())
	// Output:
	// holding with token 1
	// released: <nil> lease: released
	// holding again with token 3
}

// A job that must run once at a time.
func ExampleManager_Do() {
	ctx := context.Background()
	locks := exampleManager()
	err := locks.Do(ctx, "nightly-report", func(ctx context.Context) error {
		fmt.Println("running the report")
		return ctx.Err() // cancelled if the lease were lost
	})
	fmt.Println("err:", err)
	st, _ := locks.Inspect(ctx, "nightly-report")
	fmt.Println("held after Do:", st.Held)
	// Output:
	// running the report
	// err: <nil>
	// held after Do: false
}

// Releasing every lease on SIGTERM. A service takes its context from
// signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
// and, once it is done, closes the Manager with a context of its own:
// here a cancel func stands in for the signal.
func ExampleManager_Close() {
	locks := exampleManager()
	ctx, stop := context.WithCancel(context.Background()) // signal.NotifyContext(...)
	defer stop()

	l, err := locks.Acquire(ctx, "shard-7")
	if err != nil {
		panic(err)
	}
	fmt.Println("holding shard-7 with token", l.Token())
	worker := make(chan error, 1)
	go func() {
		// A worker waiting for the same name, with a context of its own.
		_, err := locks.Acquire(context.Background(), "shard-7")
		worker <- err
	}()

	stop() // SIGTERM
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println("closed:", locks.Close(shutdownCtx))
	fmt.Println("shard-7:", l.Err())
	fmt.Println("worker:", <-worker)
	_, err = locks.TryAcquire(context.Background(), "shard-8")
	fmt.Println("after Close:", err)
	st, _ := locks.Inspect(context.Background(), "shard-7")
	fmt.Println("shard-7 held:", st.Held)
	// Output:
	// holding shard-7 with token 1
	// closed: <nil>
	// shard-7: lease: released
	// worker: lease: manager closed
	// after Close: lease: manager closed
	// shard-7 held: false
}

// Every record of the lease table, page by page.
func ExampleManager_List() {
	ctx := context.Background()
	locks := exampleManager()
	for _, name := range []string{"jobs/a", "jobs/b", "jobs/c"} {
		l, err := locks.Acquire(ctx, name)
		if err != nil {
			panic(err)
		}
		if name == "jobs/b" {
			l.Release(ctx)
		} else {
			defer l.Release(ctx)
		}
	}
	var all []lease.Status
	for after := ""; ; {
		page, err := locks.List(ctx, func(o *lease.ListOptions) { o.Limit, o.After = 2, after })
		if err != nil {
			panic(err)
		}
		all = append(all, page.Records...)
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	slices.SortFunc(all, func(a, b lease.Status) int { return strings.Compare(a.Name, b.Name) })
	for _, st := range all {
		fmt.Printf("%s held=%v mine=%v token=%d version=%d\n", st.Name, st.Held, st.Mine, st.Token, st.Version)
	}
	// Output:
	// jobs/a held=true mine=true token=1 version=1
	// jobs/b held=false mine=false token=1 version=2
	// jobs/c held=true mine=true token=1 version=1
}

// A write that DynamoDB refuses unless the lease is still held: the guard
// is checked atomically with the write, so a holder paused past its lease
// (and taken over) cannot write.
func ExampleLease_Condition() {
	ctx := context.Background()
	locks := exampleManager()
	type Report struct {
		Day     string `dynamo:"day,hash"`
		Rows    int    `dynamo:"rows"`
		Version int64  `dynamo:"version"`
	}
	c := exampleClient()
	reports, err := repo.New[Report](c, locks.Table()+"-reports")
	if err != nil {
		panic(err)
	}
	if err := reports.CreateTable(ctx); err != nil {
		panic(err)
	}
	var stale *lease.Lease
	err = locks.Do(ctx, "nightly-report", func(ctx context.Context) error {
		l, _ := lease.FromContext(ctx)
		stale = l
		_, err := reports.Save(ctx, Report{Day: "2026-11-23", Rows: 42}, repo.Guard(l.Condition()))
		return err
	})
	fmt.Println("guarded write while held:", err)
	// After Release (or a takeover), the old lease's guard fails.
	_, err = reports.Update(ctx, repo.Key("2026-11-23"), func(r *Report) error { r.Rows++; return nil },
		repo.Guard(stale.Condition()))
	fmt.Println("refused:", errors.Is(err, repo.ErrGuardFailed), errors.Is(err, lease.ErrLost))
	// Output:
	// guarded write while held: <nil>
	// refused: true true
}

// Work that must be done once per key, whichever replica gets to it: the
// first Once runs the job and marks the key done in the same write that
// releases the lease; later ones, here or in other processes, learn by
// whom and when, and do not run it.
func ExampleManager_Once() {
	ctx := context.Background()
	table := exampleManager().Table()
	c := exampleClient()
	replica := func(owner string) *lease.Manager {
		m, err := lease.New(c, table, func(o *lease.Options) { o.Owner = owner })
		if err != nil {
			panic(err)
		}
		return m
	}
	r1, r2 := replica("replica-1"), replica("replica-2")
	job := func(ctx context.Context) error {
		l, _ := lease.FromContext(ctx)
		fmt.Println(l.Owner(), "builds the report of", l.Name())
		return nil
	}
	fmt.Println("replica-1:", r1.Once(ctx, "nightly/2026-11-30", job))
	err := r2.Once(ctx, "nightly/2026-11-30", job)
	var done *lease.DoneError
	if errors.As(err, &done) {
		fmt.Println("replica-2: skipped, done by", done.By, "with token", done.Token)
	}
	st, _ := r2.Inspect(ctx, "nightly/2026-11-30")
	fmt.Println("done:", st.Done, st.DoneBy, "held:", st.Held)
	// Output:
	// replica-1 builds the report of nightly/2026-11-30
	// replica-1: <nil>
	// replica-2: skipped, done by replica-1 with token 1
	// done: true replica-1 held: false
}
