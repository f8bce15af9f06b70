package dynamolocal_test

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/dynamolocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
)

func TestRequestCounterCountsCalls(t *testing.T) {
	t.Parallel()
	var counter dynamolocal.RequestCounter
	if got := counter.Count(); got != 0 {
		t.Fatalf("zero value Count() = %d", got)
	}
	setup := dynamolocal.Client(t)
	table := dynamolocal.Table(t)
	createTable(t, setup, table)
	client := dynamolocal.Client(t, counter.Option())
	ctx := context.Background()

	const goroutines, perGoroutine = 16, 5
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perGoroutine)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perGoroutine {
				_, err := client.PutItem(ctx, &dynamodb.PutItemInput{
					TableName: aws.String(table),
					Item:      map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("g%d-i%d", g, i)}},
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("PutItem: %v", err)
	}
	if _, err := client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)}); err != nil {
		t.Fatalf("Scan: %v", err)
	}

	const puts = goroutines * perGoroutine
	if got := counter.Count(); got != puts+1 {
		t.Errorf("Count() = %d, want %d", got, puts+1)
	}
	want := map[string]int64{"PutItem": puts, "Scan": 1}
	if got := counter.ByOperation(); !maps.Equal(got, want) {
		t.Errorf("ByOperation() = %v, want %v", got, want)
	}

	// Requests from clients without the option are not counted.
	if _, err := setup.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	if got := counter.Count(); got != puts+1 {
		t.Errorf("after an uncounted call Count() = %d, want %d", got, puts+1)
	}

	counter.Reset()
	if got, ops := counter.Count(), counter.ByOperation(); got != 0 || len(ops) != 0 {
		t.Errorf("after Reset: Count() = %d, ByOperation() = %v", got, ops)
	}
	// The option can also be given per call.
	if _, err := setup.ListTables(ctx, &dynamodb.ListTablesInput{}, counter.Option()); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	if got := counter.ByOperation(); !maps.Equal(got, map[string]int64{"ListTables": 1}) {
		t.Errorf("per-call option: ByOperation() = %v", got)
	}
}

// The SDK's retry of a request answered with a 500 is counted as a request
// of its own.
func TestRequestCounterCountsSDKRetries(t *testing.T) {
	t.Parallel()
	table := dynamolocal.Table(t)
	createTable(t, dynamolocal.Client(t), table)

	var counter dynamolocal.RequestCounter
	retried := 0
	client, tr := faults.Client(dynamolocal.Endpoint(t), faults.Config{}, counter.Option(), func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
				retried++
				return 0, nil
			})
		})
	})
	tr.Script(faults.Error500) // the first request only; the others go through

	_, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "missing"}},
	})
	if err != nil {
		t.Fatalf("GetItem after one injected 500: %v", err)
	}
	if requests := tr.Stats().Requests; retried != 1 || requests != 2 {
		t.Fatalf("expected exactly one SDK retry: backoff called %d times, %d HTTP requests", retried, requests)
	}
	if got := counter.Count(); got != 2 {
		t.Errorf("one GetItem with one SDK retry: Count() = %d, want 2", got)
	}
	if got := counter.ByOperation(); !maps.Equal(got, map[string]int64{"GetItem": 2}) {
		t.Errorf("ByOperation() = %v, want map[GetItem:2]", got)
	}
}
