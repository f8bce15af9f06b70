package retry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/retry"
)

// ExampleDo retries a write that is throttled once and loses a
// version race once, then succeeds.
func ExampleDo() {
	p := retry.Policy{
		InitialInterval: time.Millisecond,
		MaxInterval:     2 * time.Millisecond,
		Multiplier:      2,
		MaxAttempts:     5,
	}
	failures := []error{
		&types.ProvisionedThroughputExceededException{Message: ptr("rate exceeded")},
		&types.ConditionalCheckFailedException{Message: ptr("version mismatch")},
	}

	err := retry.Do(context.Background(), p, func(ctx context.Context, attempt int) error {
		if attempt <= len(failures) {
			return fmt.Errorf("put order: %w", failures[attempt-1])
		}
		fmt.Printf("attempt %d: saved\n", attempt)
		return nil
	}, func(o *retry.Options) {
		o.OnRetry = func(a retry.Attempt) {
			fmt.Printf("attempt %d failed (%v): %v\n", a.Number, a.Class, a.Err)
		}
	})
	fmt.Println("err:", err)
	// Output:
	// attempt 1 failed (transient): put order: ProvisionedThroughputExceededException: rate exceeded
	// attempt 2 failed (conflict): put order: ConditionalCheckFailedException: version mismatch
	// attempt 3: saved
	// err: <nil>
}

// ExampleDo_exhausted shows the error returned when the policy is spent.
func ExampleDo_exhausted() {
	p := retry.Policy{InitialInterval: time.Microsecond, MaxInterval: time.Microsecond, Multiplier: 1, MaxAttempts: 3}
	throttled := &types.ThrottlingException{Message: ptr("slow down")}

	err := retry.Do(context.Background(), p, func(ctx context.Context, attempt int) error {
		return throttled
	})

	var ex *retry.ExhaustedError
	if errors.As(err, &ex) {
		fmt.Println("attempts:", ex.Attempts)
	}
	fmt.Println(errors.Is(err, retry.ErrExhausted), errors.Is(err, throttled))
	// Output:
	// attempts: 3
	// true true
}

// ExampleMarkPermanent stops retrying an error that would otherwise be
// retried.
func ExampleMarkPermanent() {
	p := retry.Policy{InitialInterval: time.Microsecond, MaxInterval: time.Microsecond, Multiplier: 1, MaxAttempts: 5}
	conflict := &types.ConditionalCheckFailedException{Message: ptr("item was deleted")}

	calls := 0
	err := retry.Do(context.Background(), p, func(ctx context.Context, attempt int) error {
		calls++
		return retry.MarkPermanent(conflict) // no point re-reading: give up
	})
	fmt.Println(calls, err == conflict)
	// Output:
	// 1 true
}

func ExampleClassify() {
	for _, err := range []error{
		&types.ConditionalCheckFailedException{Message: ptr("stale version")},
		fmt.Errorf("get: %w", &types.ProvisionedThroughputExceededException{Message: ptr("rate exceeded")}),
		&types.ResourceNotFoundException{Message: ptr("no table")},
		context.DeadlineExceeded,
		context.Canceled,
	} {
		fmt.Printf("%-9v %v\n", retry.Classify(err), err)
	}
	// Output:
	// conflict  ConditionalCheckFailedException: stale version
	// transient get: ProvisionedThroughputExceededException: rate exceeded
	// permanent ResourceNotFoundException: no table
	// transient context deadline exceeded
	// permanent context canceled
}
