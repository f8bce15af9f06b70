package lease_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// exampleManager connects the examples to the test binary's DynamoDB Local.
// In an application, pass a *dynamodb.Client made with
// dynamodb.NewFromConfig.
func exampleManager() *lease.Manager {
	c, err := ddblocal.SharedClient()
	if err != nil {
		panic(err)
	}
	m, err := lease.New(c, fmt.Sprintf("example-locks-%d", rand.Int64()),
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
	c, _ := ddblocal.SharedClient()
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
