package faults_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
)

func TestMain(m *testing.M) { ddblocal.RunTests(m) }

func noRetry(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }

// put writes pk=key through c, n=i.
func put(ctx context.Context, c *dynamodb.Client, table, key string, i int, optFns ...func(*dynamodb.Options)) error {
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: key}, "n": &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
	}}, optFns...)
	return err
}

func stored(t *testing.T, table, key string) bool {
	t.Helper()
	out, err := ddblocal.Client(t).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Item) > 0
}

// Same seed, same requests in the same order: the same decisions, and each
// fault does what it says against DynamoDB Local.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	table := ddblocal.NewTable(t, ddblocal.Client(t))
	cfg := faults.Config{Seed: 42, Drop: 0.2, Throttle: 0.15, Error500: 0.15, Reset: 0.15, Latency: 2 * time.Millisecond, LatencyP: 0.3}
	run := func(prefix string) ([]faults.Decision, faults.Stats) {
		client, tr := faults.Client(ddblocal.Endpoint(t), cfg, noRetry)
		var got []faults.Decision
		tr.Observe = func(op string, d faults.Decision) {
			if op != "PutItem" {
				t.Errorf("decision for %q", op)
			}
			got = append(got, d)
		}
		ctx := context.Background()
		for i := 0; i < 60; i++ {
			key := fmt.Sprintf("%s-%d", prefix, i)
			err := put(ctx, client, table, key, i)
			d := got[len(got)-1]
			var pt *types.ProvisionedThroughputExceededException
			var ise *types.InternalServerError
			switch d.Fault {
			case faults.None:
				if err != nil {
					t.Errorf("request %d: no fault, error %v", i, err)
				}
			case faults.Throttle:
				if !errors.As(err, &pt) {
					t.Errorf("request %d: throttled, error %v (%T), want *types.ProvisionedThroughputExceededException", i, err, err)
				}
			case faults.Error500:
				if !errors.As(err, &ise) {
					t.Errorf("request %d: 500, error %v, want *types.InternalServerError", i, err)
				}
			case faults.Drop, faults.Reset:
				if !errors.Is(err, faults.ErrInjected) {
					t.Errorf("request %d: %v, error %v, want an injected reset", i, d.Fault, err)
				}
			}
			if want := d.Fault == faults.None || d.Fault == faults.Drop; stored(t, table, key) != want {
				t.Errorf("request %d with fault %v: stored = %v, want %v", i, d.Fault, !want, want)
			}
		}
		return got, tr.Stats()
	}
	a, sa := run("a")
	b, sb := run("b")
	if !slices.Equal(a, b) || sa != sb {
		t.Fatalf("same seed, different decisions:\n%v\n%v\n%v\n%v", a, b, sa, sb)
	}
	if sa.Drop == 0 || sa.Throttle == 0 || sa.Error500 == 0 || sa.Reset == 0 || sa.Delayed == 0 {
		t.Fatalf("60 requests did not see every fault: %v", sa)
	}
	t.Log(sa)

	cfg.Seed = 43
	c, _ := run("c")
	if slices.Equal(a, c) {
		t.Fatalf("seeds 42 and 43 gave the same decisions")
	}
}

// Ops limits the faults to the named operations; others draw nothing.
func TestOps(t *testing.T) {
	t.Parallel()
	table := ddblocal.NewTable(t, ddblocal.Client(t))
	client, tr := faults.Client(ddblocal.Endpoint(t), faults.Config{Seed: 1, Reset: 1, Ops: []string{"GetItem"}}, noRetry)
	ctx := context.Background()
	if err := put(ctx, client, table, "k", 1); err != nil {
		t.Fatalf("PutItem not in Ops: %v", err)
	}
	_, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}})
	if !errors.Is(err, faults.ErrInjected) {
		t.Fatalf("GetItem with Reset 1: %v", err)
	}
	if s := tr.Stats(); s.Requests != 2 || s.Affected != 1 || s.Reset != 1 {
		t.Fatalf("stats %v", s)
	}
}

// A script gives the next affected requests its faults, in order, before
// decisions are drawn again (none here: every probability is 0), and
// AfterFault runs once each fault has taken effect, before the caller sees
// it.
func TestScript(t *testing.T) {
	t.Parallel()
	table := ddblocal.NewTable(t, ddblocal.Client(t))
	client, tr := faults.Client(ddblocal.Endpoint(t), faults.Config{Ops: []string{"PutItem"}}, noRetry)
	tr.Script(faults.Drop, faults.Throttle)
	var after []faults.Fault
	tr.AfterFault = func(op string, d faults.Decision) {
		after = append(after, d.Fault)
		if d.Fault == faults.Drop && !stored(t, table, "k0") {
			t.Errorf("AfterFault of the dropped PutItem: not stored yet")
		}
	}
	ctx := context.Background()
	for i, want := range []faults.Fault{faults.Drop, faults.Throttle, faults.None, faults.None} {
		err := put(ctx, client, table, fmt.Sprint("k", i), i)
		var pt *types.ProvisionedThroughputExceededException
		switch want {
		case faults.Drop:
			if !errors.Is(err, faults.ErrInjected) {
				t.Errorf("PutItem %d, scripted %v: %v, want an injected reset", i, want, err)
			}
		case faults.Throttle:
			if !errors.As(err, &pt) {
				t.Errorf("PutItem %d, scripted %v: %v, want a throttle", i, want, err)
			}
		default:
			if err != nil {
				t.Errorf("PutItem %d after the script: %v", i, err)
			}
		}
		if got, wantStored := stored(t, table, fmt.Sprint("k", i)), want != faults.Throttle; got != wantStored {
			t.Errorf("PutItem %d, %v: stored = %v, want %v", i, want, got, wantStored)
		}
	}
	tr.Script(faults.Error500) // appends, after use too
	var ise *types.InternalServerError
	if err := put(ctx, client, table, "k4", 4); !errors.As(err, &ise) {
		t.Errorf("PutItem after Script(Error500): %v, want a 500", err)
	}
	if want := []faults.Fault{faults.Drop, faults.Throttle, faults.Error500}; !slices.Equal(after, want) {
		t.Errorf("AfterFault saw %v, want %v", after, want)
	}
	if s := tr.Stats(); s.Affected != 5 || s.Drop != 1 || s.Throttle != 1 || s.Error500 != 1 {
		t.Errorf("stats %v", s)
	}
}

// Latency is cut short by the request's context.
func TestLatencyHonoursContext(t *testing.T) {
	t.Parallel()
	table := ddblocal.NewTable(t, ddblocal.Client(t))
	client, _ := faults.Client(ddblocal.Endpoint(t), faults.Config{Seed: 1, Latency: time.Hour, LatencyP: 1}, noRetry)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := put(ctx, client, table, "k", 1)
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("PutItem with an hour of latency and a 50ms deadline: %v after %v", err, time.Since(start))
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []faults.Config{
		{Drop: -0.1}, {Drop: 0.6, Reset: 0.6}, {LatencyP: 2}, {Latency: -1},
		{Drop: 0.6, Late: 0.6}, {Late: -0.1}, {Slow: 1.5},
		{SlowMin: 2 * time.Millisecond, SlowMax: time.Millisecond},
		{LateDelay: -1}, {SlowMin: -1}, {SlowMax: -1}, {ClientTimeout: -1},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		} else {
			t.Log(err)
		}
	}
	ok := faults.Config{Drop: 0.5, Late: 0.5, LateDelay: time.Second, Slow: 1, SlowMin: time.Millisecond, SlowMax: time.Millisecond, ClientTimeout: time.Second}
	if err := ok.Validate(); err != nil {
		t.Errorf("%+v: %v", ok, err)
	}
}

// timeout reports whether err is a timeout, as net/http and the SDK report
// one.
func timeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// A late request fails at once and lands later; Wait waits for it.
func TestLate(t *testing.T) {
	t.Parallel()
	table := ddblocal.NewTable(t, ddblocal.Client(t))
	cfg := faults.Config{Seed: 1, Late: 1, LateDelay: 30 * time.Millisecond}
	client, tr := faults.Client(ddblocal.Endpoint(t), cfg, noRetry)
	defer tr.Wait()
	if err := put(context.Background(), client, table, "k", 1); !errors.Is(err, faults.ErrInjected) {
		t.Fatalf("PutItem with Late 1: %v, want an injected reset", err)
	}
	t.Logf("stored right after the failed PutItem: %v", stored(t, table, "k"))
	tr.Wait()
	if !stored(t, table, "k") {
		t.Fatal("late PutItem not stored after Wait")
	}
	if s := tr.Stats(); s.Late != 1 || s.Affected != 1 {
		t.Fatalf("stats %v", s)
	}
	tr.Wait() // again: nothing pending
}

// A slow request outlives the client's timeout and still lands; without a
// timeout its caller gets the real response after the delay.
func TestSlow(t *testing.T) {
	t.Parallel()
	table := ddblocal.NewTable(t, ddblocal.Client(t))
	ctx := context.Background()

	cfg := faults.Config{Seed: 1, Slow: 1, SlowMin: 80 * time.Millisecond, SlowMax: 100 * time.Millisecond, ClientTimeout: 30 * time.Millisecond}
	client, tr := faults.Client(ddblocal.Endpoint(t), cfg)
	defer tr.Wait()
	start := time.Now()
	err := put(ctx, client, table, "timed-out", 1, noRetry)
	elapsed := time.Since(start)
	if !timeout(err) || elapsed >= cfg.SlowMin {
		t.Fatalf("slow PutItem with a 30ms client timeout: %v after %v, want a timeout before %v", err, elapsed, cfg.SlowMin)
	}
	t.Logf("timed out after %v: %v", elapsed, err)
	tr.Wait()
	if !stored(t, table, "timed-out") {
		t.Fatal("timed-out slow PutItem not stored after Wait")
	}
	if s := tr.Stats(); s.Slow != 1 {
		t.Fatalf("stats %v", s)
	}

	cfg = faults.Config{Seed: 1, Slow: 1, SlowMin: 20 * time.Millisecond, SlowMax: 30 * time.Millisecond}
	client, tr = faults.Client(ddblocal.Endpoint(t), cfg, noRetry)
	defer tr.Wait()
	var d faults.Decision
	tr.Observe = func(_ string, dec faults.Decision) { d = dec }
	start = time.Now()
	if err := put(ctx, client, table, "slow", 1); err != nil {
		t.Fatalf("slow PutItem without a timeout: %v", err)
	}
	if elapsed := time.Since(start); d.ServerDelay < cfg.SlowMin || d.ServerDelay > cfg.SlowMax || elapsed < d.ServerDelay {
		t.Fatalf("slow PutItem: server delay %v, answered after %v", d.ServerDelay, elapsed)
	}
	if !stored(t, table, "slow") {
		t.Fatal("slow PutItem not stored")
	}
}

// WithLost reports every request whose answer did not reach the caller:
// an injected drop, and the client's own timeout with no fault injected
// (a loaded machine); an answered request is not reported.
func TestWithLost(t *testing.T) {
	t.Parallel()
	table := ddblocal.NewTable(t, ddblocal.Client(t))
	var lost []string
	ctx := faults.WithLost(context.Background(), func(op string) { lost = append(lost, op) })

	client, _ := faults.Client(ddblocal.Endpoint(t), faults.Config{Seed: 1})
	if err := put(ctx, client, table, "answered", 1, noRetry); err != nil || len(lost) != 0 {
		t.Fatalf("answered PutItem: %v, reported lost: %v", err, lost)
	}
	client, _ = faults.Client(ddblocal.Endpoint(t), faults.Config{Seed: 1, Drop: 1})
	if err := put(ctx, client, table, "dropped", 1, noRetry); err == nil || len(lost) != 1 || lost[0] != "PutItem" {
		t.Fatalf("dropped PutItem: %v, reported lost: %v", err, lost)
	}
	client, _ = faults.Client(ddblocal.Endpoint(t), faults.Config{Seed: 1, ClientTimeout: time.Microsecond})
	if err := put(ctx, client, table, "timed-out", 1, noRetry); err == nil || len(lost) < 2 {
		t.Fatalf("PutItem past the client's timeout, no fault injected: %v, reported lost: %v", err, lost)
	}
}
