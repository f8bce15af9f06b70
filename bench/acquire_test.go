package bench

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/lease"
)

// pairFunc takes and frees one name once: the acquire and release halves
// are timed separately.
type pairFunc struct {
	name    string
	acquire func(ctx context.Context) (release func(ctx context.Context) error, err error)
}

// rawLock is the minimal lock a user would write by hand: one conditional
// PutItem to take the name, one conditional UpdateItem to free it. No
// heartbeat, no fencing token, no takeover: the baseline for the overhead.
type rawLock struct {
	client *dynamodb.Client
	table  string
	owner  string
}

func createRawTable(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("name"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("name"), AttributeType: types.ScalarAttributeTypeS}},
	})
	if err != nil {
		return err
	}
	return dynamodb.NewTableExistsWaiter(client).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, time.Minute)
}

var errRawHeld = errors.New("raw lock: held")

func (r *rawLock) take(ctx context.Context, name string) error {
	_, err := r.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(r.table),
		Item: map[string]types.AttributeValue{
			"name":  &types.AttributeValueMemberS{Value: name},
			"owner": &types.AttributeValueMemberS{Value: r.owner},
		},
		ConditionExpression:       aws.String("attribute_not_exists(#n) OR #o = :empty"),
		ExpressionAttributeNames:  map[string]string{"#n": "name", "#o": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":empty": &types.AttributeValueMemberS{Value: ""}},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return errRawHeld
	}
	return err
}

func (r *rawLock) free(ctx context.Context, name string) error {
	_, err := r.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(r.table),
		Key:                      map[string]types.AttributeValue{"name": &types.AttributeValueMemberS{Value: name}},
		UpdateExpression:         aws.String("SET #o = :empty"),
		ConditionExpression:      aws.String("#o = :me"),
		ExpressionAttributeNames: map[string]string{"#o": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":empty": &types.AttributeValueMemberS{Value: ""},
			":me":    &types.AttributeValueMemberS{Value: r.owner},
		},
	})
	return err
}

// pairContenders returns the three ways of taking and freeing one name.
func pairContenders(tb testing.TB, e *env) []pairFunc {
	tb.Helper()
	ctx := context.Background()
	table := e.leaseTable(tb)
	m := e.manager(tb, table)
	raw := &rawLock{client: e.client, table: table + "-raw", owner: m.Owner()}
	if err := createRawTable(ctx, e.client, raw.table); err != nil {
		tb.Fatal(err)
	}
	release := func(l *lease.Lease) func(context.Context) error {
		return func(ctx context.Context) error {
			err := l.Release(ctx)
			if err == nil && !errors.Is(l.Err(), lease.ErrReleased) {
				err = fmt.Errorf("Release: lease was lost: %w", l.Err())
			}
			return err
		}
	}
	return []pairFunc{
		{"lease-Acquire", func(ctx context.Context) (func(context.Context) error, error) {
			l, err := m.Acquire(ctx, "pair")
			if err != nil {
				return nil, err
			}
			return release(l), nil
		}},
		{"lease-TryAcquire", func(ctx context.Context) (func(context.Context) error, error) {
			l, err := m.TryAcquire(ctx, "pair")
			if err != nil {
				return nil, err
			}
			return release(l), nil
		}},
		{"raw", func(ctx context.Context) (func(context.Context) error, error) {
			if err := raw.take(ctx, "pair"); err != nil {
				return nil, err
			}
			return func(ctx context.Context) error { return raw.free(ctx, "pair") }, nil
		}},
	}
}

// pairResult is what runPairs measured.
type pairResult struct {
	acquire, release, pair samples
	requests               int64
}

// runPairs runs n acquire/release pairs of p one after the other.
func runPairs(tb testing.TB, e *env, p pairFunc, n int) pairResult {
	tb.Helper()
	ctx := context.Background()
	res := pairResult{acquire: make(samples, 0, n), release: make(samples, 0, n), pair: make(samples, 0, n)}
	before := e.counter.Count()
	for range n {
		t0 := time.Now()
		rel, err := p.acquire(ctx)
		if err != nil {
			tb.Fatalf("%s: acquire: %v", p.name, err)
		}
		t1 := time.Now()
		if err := rel(ctx); err != nil {
			tb.Fatalf("%s: release: %v", p.name, err)
		}
		t2 := time.Now()
		res.acquire = append(res.acquire, t1.Sub(t0))
		res.release = append(res.release, t2.Sub(t1))
		res.pair = append(res.pair, t2.Sub(t0))
	}
	res.requests = e.counter.Count() - before
	return res
}

// BenchmarkAcquireRelease: one uncontended Acquire (or TryAcquire) and
// Release of one name with a lease.Manager (Duration 10s: no heartbeat runs
// during a pair), next to the hand-written lock (conditional PutItem,
// conditional UpdateItem). One op is one pair.
func BenchmarkAcquireRelease(b *testing.B) {
	e := newEnv(b)
	benchPairs(b, e, pairContenders(b, e))
}

// benchPairs warms DynamoDB Local's JIT up with 200 pairs of each
// contender, then runs each as a sub-benchmark of b.N pairs.
func benchPairs(b *testing.B, e *env, contenders []pairFunc) {
	for _, p := range contenders {
		runPairs(b, e, p, 200)
	}
	for _, p := range contenders {
		b.Run(p.name, func(b *testing.B) {
			b.ResetTimer()
			r := runPairs(b, e, p, b.N)
			b.StopTimer()
			r.pair.report(b, "", "pair")
			b.ReportMetric(r.acquire.mean(), "ms/acquire")
			b.ReportMetric(r.release.mean(), "ms/release")
			b.ReportMetric(float64(r.requests)/float64(b.N), "req/pair")
		})
	}
}
