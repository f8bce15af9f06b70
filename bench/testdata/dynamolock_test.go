//go:build dynamolock

// Side-by-side with cirello.io/dynamolock/v2, which is not a dependency of
// this module and not on the Go module proxy. This file lives in testdata/
// so that `go mod tidy` (which reads files of every build tag) and
// `go vet ./...` do not see it; ../dynamolock.sh overlays it into the bench
// package as dynamolock_test.go and builds it with -tags dynamolock and a
// modfile under ../../.cache that requires dynamolock from a local copy.

package bench

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"cirello.io/dynamolock/v2"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// dynamolockTable creates a lock table of dynamolock's schema (hash key
// "key") and returns its name.
func dynamolockTable(tb testing.TB, e *env) string {
	tb.Helper()
	ctx := context.Background()
	table := e.leaseTable(tb) + "-dynamolock"
	c := newDynamolock(tb, e, table)
	defer c.Close()
	if _, err := c.CreateTableWithContext(ctx, table); err != nil {
		tb.Fatal(err)
	}
	if err := dynamodb.NewTableExistsWaiter(e.client).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, time.Minute); err != nil {
		tb.Fatal(err)
	}
	return table
}

// newDynamolock returns a dynamolock client with its defaults (lease 20s,
// heartbeat 5s, random owner).
func newDynamolock(tb testing.TB, e *env, table string) *dynamolock.Client {
	tb.Helper()
	c, err := dynamolock.New(e.client, table)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// BenchmarkDynamolockAcquireRelease is BenchmarkAcquireRelease with
// dynamolock's AcquireLock and ReleaseLock next to the same contenders.
func BenchmarkDynamolockAcquireRelease(b *testing.B) {
	e := newEnv(b)
	c := newDynamolock(b, e, dynamolockTable(b, e))
	defer c.Close()
	contenders := append(pairContenders(b, e), pairFunc{"dynamolock", func(ctx context.Context) (func(context.Context) error, error) {
		l, err := c.AcquireLockWithContext(ctx, "pair")
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error {
			ok, err := c.ReleaseLockWithContext(ctx, l)
			if err == nil && !ok {
				err = errors.New("ReleaseLock: not released")
			}
			return err
		}, nil
	}})
	benchPairs(b, e, contenders)
}

// runDynamolockHandover is runHandover's other-manager mode with two
// dynamolock clients; refresh is the waiter's poll period (0: dynamolock's
// default, 1s).
func runDynamolockHandover(tb testing.TB, e *env, n int, hold, refresh time.Duration) handoverResult {
	tb.Helper()
	return runDynamolockHandoverUntil(tb, e, until{n: n}, hold, refresh)
}

// runDynamolockHandoverUntil is runDynamolockHandover until u says stop.
func runDynamolockHandoverUntil(tb testing.TB, e *env, u until, hold, refresh time.Duration) handoverResult {
	tb.Helper()
	table := dynamolockTable(tb, e)
	const name = "handover"
	holder, waiter := newDynamolock(tb, e, table), newDynamolock(tb, e, table)
	defer holder.Close()
	defer waiter.Close()
	var opts []dynamolock.AcquireLockOption
	if refresh > 0 {
		opts = append(opts, dynamolock.WithRefreshPeriod(refresh))
	}
	type acq struct {
		a   acquisition
		err error
	}
	goCh, acqCh, relCh := make(chan struct{}), make(chan acq, 1), make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx := tagged(context.Background(), "waiter")
		for range goCh {
			r0, g0 := e.tags.get("waiter"), e.tags.get("waiter/GetItem")
			start := time.Now()
			l, err := waiter.AcquireLockWithContext(ctx, name, opts...)
			a := acquisition{start: start.UnixNano(), acquired: time.Now().UnixNano(),
				reqs: e.tags.get("waiter") - r0, gets: e.tags.get("waiter/GetItem") - g0}
			acqCh <- acq{a, err}
			if err != nil {
				return
			}
			time.Sleep(waiterHold)
			if ok, err := waiter.ReleaseLockWithContext(ctx, l); err != nil || !ok {
				relCh <- fmt.Errorf("waiter ReleaseLock: %v %v", ok, err)
				return
			}
			relCh <- nil
		}
	}()
	defer func() { close(goCh); <-done }()
	ctx := tagged(context.Background(), "holder")
	var res handoverResult
	before := e.counter.Count()
	for ; u.more(res.n); res.n++ {
		l, err := holder.AcquireLockWithContext(ctx, name)
		if err != nil {
			tb.Fatal(err)
		}
		goCh <- struct{}{}
		time.Sleep(holdFor(hold))
		relStart := time.Now()
		if ok, err := holder.ReleaseLockWithContext(ctx, l); err != nil || !ok {
			tb.Fatalf("holder ReleaseLock: %v %v", ok, err)
		}
		relEnd := time.Now()
		r := <-acqCh
		if r.err != nil {
			tb.Fatal(r.err)
		}
		res.add(relStart, relEnd, r.a)
		if err := <-relCh; err != nil {
			tb.Fatal(err)
		}
	}
	res.total = e.counter.Count() - before
	return res
}

// BenchmarkDynamolockHandover: hand-over between two dynamolock clients of
// this process (default 1s refresh period, and 250ms like lease's
// MaxPollInterval), next to lease's other-manager mode.
func BenchmarkDynamolockHandover(b *testing.B) {
	e := newEnv(b)
	type contender struct {
		name string
		run  func(b *testing.B) handoverResult
	}
	for _, c := range []contender{
		{"lease-" + otherManager, func(b *testing.B) handoverResult { return runHandover(b, e, otherManager, b.N, handoverHold) }},
		{"lease-" + otherProcess, func(b *testing.B) handoverResult { return runHandover(b, e, otherProcess, b.N, handoverHold) }},
		{"dynamolock-refresh=100ms", func(b *testing.B) handoverResult {
			return runDynamolockHandover(b, e, b.N, handoverHold, 100*time.Millisecond)
		}},
		{"dynamolock-refresh=1s", func(b *testing.B) handoverResult { return runDynamolockHandover(b, e, b.N, handoverHold, 0) }},
		{"dynamolock-refresh=250ms", func(b *testing.B) handoverResult {
			return runDynamolockHandover(b, e, b.N, handoverHold, 250*time.Millisecond)
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ResetTimer()
			r := c.run(b)
			b.StopTimer()
			r.report(b)
		})
	}
}

// BenchmarkDynamolockFrontier is the hand-over frontier (frontier_test.go):
// lease's waiters next to dynamolock's with a 100ms refresh period and with
// its default (1s), each for a fixed window per round, rounds rotating.
func BenchmarkDynamolockFrontier(b *testing.B) {
	e := newEnv(b)
	dl := func(refresh time.Duration) func(tb testing.TB, w time.Duration) handoverResult {
		return func(tb testing.TB, w time.Duration) handoverResult {
			return runDynamolockHandoverUntil(tb, e, until{end: time.Now().Add(w)}, handoverHold, refresh)
		}
	}
	cs := append(leaseFrontier(e),
		frontierContender{"dynamolock-refresh=100ms", dl(100 * time.Millisecond)},
		frontierContender{"dynamolock-default", dl(0)})
	for range b.N {
		frontier(b, cs)
	}
}
