package retry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/cenkalti/backoff/v4"

	"github.com/ddbocc/ddbocc/retry"
)

// neverClock is a retry.Clock whose sleeps never end unless stopped. Each
// sleep calls onSleep, if set, from another goroutine.
type neverClock struct {
	started, stopped atomic.Int32
	onSleep          func()
}

func (c *neverClock) Now() time.Time { return time.Unix(1_700_000_000, 0) }
func (c *neverClock) AfterFunc(time.Duration, func()) func() bool {
	c.started.Add(1)
	if c.onSleep != nil {
		go c.onSleep()
	}
	return func() bool { c.stopped.Add(1); return true }
}

func withClock(c retry.Clock) func(*retry.Options) {
	return func(o *retry.Options) { o.Clock = c }
}

var (
	errThrottled  = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}
	errValidation = &smithy.GenericAPIError{Code: "ValidationException", Message: "bad key"}
	errConflict   = &types.ConditionalCheckFailedException{Message: ptr("version mismatch")}
)

func ptr[T any](v T) *T { return &v }

func testPolicy(maxAttempts int) retry.Policy {
	return retry.Policy{
		InitialInterval: time.Millisecond,
		MaxInterval:     8 * time.Millisecond,
		Multiplier:      2,
		MaxAttempts:     maxAttempts,
		MaxElapsedTime:  time.Minute,
	}
}

func TestDoInvalidPolicy(t *testing.T) {
	calls := 0
	err := retry.Do(context.Background(), retry.Policy{}, func(context.Context, int) error { calls++; return nil })
	if !errors.Is(err, retry.ErrInvalidPolicy) {
		t.Fatalf("Do = %v, want ErrInvalidPolicy", err)
	}
	if calls != 0 {
		t.Fatalf("op called %d times, want 0", calls)
	}
}

func TestDoNilOp(t *testing.T) {
	err := retry.Do(context.Background(), testPolicy(3), nil)
	if !errors.Is(err, retry.ErrNilOp) {
		t.Fatalf("Do = %v, want ErrNilOp", err)
	}
}

func TestDoNilContextPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Do(nil ctx) did not panic")
		}
	}()
	var nilCtx context.Context // the programmer error under test
	_ = retry.Do(nilCtx, testPolicy(3), func(context.Context, int) error { return nil })
}

func TestDoContextDoneBeforeFirstAttempt(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	cause := errors.New("shutting down")
	withCause, cancel3 := context.WithCancelCause(context.Background())
	cancel3(cause)

	for name, ctx := range map[string]context.Context{"canceled": canceled, "expired": expired, "cause": withCause} {
		t.Run(name, func(t *testing.T) {
			calls := 0
			err := retry.Do(ctx, testPolicy(3), func(context.Context, int) error { calls++; return nil })
			if err == nil || !errors.Is(err, ctx.Err()) {
				t.Fatalf("Do = %v, want an error wrapping %v", err, ctx.Err())
			}
			if !errors.Is(err, context.Cause(ctx)) {
				t.Fatalf("Do = %v, want an error wrapping the cause %v", err, context.Cause(ctx))
			}
			if calls != 0 {
				t.Fatalf("op called %d times, want 0", calls)
			}
		})
	}
}

func TestDoSuccess(t *testing.T) {
	timer := retry.NewInstantClock()
	var got []int
	err := retry.Do(context.Background(), testPolicy(5), func(_ context.Context, n int) error {
		got = append(got, n)
		if n < 3 {
			return errThrottled
		}
		return nil
	}, withClock(timer))
	if err != nil {
		t.Fatalf("Do = %v, want nil", err)
	}
	if fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("attempt numbers = %v, want [1 2 3]", got)
	}
	if len(timer.Starts) != 2 || timer.Stops != 0 {
		t.Fatalf("clock: %d sleeps, %d cut short; want 2 and 0", len(timer.Starts), timer.Stops)
	}
}

func TestDoExhaustsMaxAttempts(t *testing.T) {
	timer := retry.NewInstantClock()
	calls := 0
	last := fmt.Errorf("put item: %w", errThrottled)
	err := retry.Do(context.Background(), testPolicy(5), func(context.Context, int) error {
		calls++
		return last
	}, withClock(timer))

	if calls != 5 {
		t.Fatalf("op called %d times, want 5", calls)
	}
	var ex *retry.ExhaustedError
	if !errors.As(err, &ex) {
		t.Fatalf("Do = %v (%T), want *ExhaustedError", err, err)
	}
	if ex.Attempts != 5 || ex.Last != last || ex.Elapsed < 0 {
		t.Fatalf("ExhaustedError = %+v, want Attempts 5, Last %v", ex, last)
	}
	if !errors.Is(err, retry.ErrExhausted) || !errors.Is(err, errThrottled) {
		t.Fatalf("errors.Is(err, ErrExhausted / the op's sentinel) = %v / %v, want both true",
			errors.Is(err, retry.ErrExhausted), errors.Is(err, errThrottled))
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" {
		t.Fatalf("errors.As(err, smithy.APIError) did not reach the op's error")
	}
	wantPrefix := "retry: gave up after 5 attempts in "
	if msg := err.Error(); !strings.HasPrefix(msg, wantPrefix) || !strings.HasSuffix(msg, ": "+last.Error()) {
		t.Fatalf("Error() = %q, want %q...: %s", msg, wantPrefix, last)
	}
	if len(timer.Starts) != 4 {
		t.Fatalf("slept %d times, want 4 (no sleep after the final failure)", len(timer.Starts))
	}
	// Full-jitter caps: 1, 2, 4, 8 ms.
	for i, d := range timer.Starts {
		if limit := time.Millisecond << i; d < 0 || d > limit {
			t.Errorf("delay %d = %v, want in [0, %v]", i+1, d, limit)
		}
	}
	if timer.Stops != 0 {
		t.Errorf("%d sleeps cut short, want 0", timer.Stops)
	}
}

func TestDoSingleAttempt(t *testing.T) {
	calls := 0
	err := retry.Do(context.Background(), testPolicy(1), func(context.Context, int) error { calls++; return errConflict },
		withClock(retry.NewInstantClock()))
	var ex *retry.ExhaustedError
	if calls != 1 || !errors.As(err, &ex) || ex.Attempts != 1 {
		t.Fatalf("calls = %d, err = %v; want 1 call and ExhaustedError{Attempts: 1}", calls, err)
	}
}

func TestDoExhaustsMaxElapsedTime(t *testing.T) {
	p := retry.Policy{InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, Multiplier: 1, MaxElapsedTime: time.Millisecond}
	calls := 0
	clock := retry.NewInstantClock()
	err := retry.Do(context.Background(), p, func(context.Context, int) error {
		calls++
		clock.Advance(2 * time.Millisecond) // past MaxElapsedTime after the first attempt
		return errThrottled
	}, withClock(clock))
	var ex *retry.ExhaustedError
	if !errors.As(err, &ex) {
		t.Fatalf("Do = %v, want *ExhaustedError", err)
	}
	if calls != 1 || ex.Attempts != 1 || ex.Elapsed < 2*time.Millisecond {
		t.Fatalf("calls = %d, ExhaustedError = %+v; want 1 attempt, Elapsed >= 2ms", calls, ex)
	}
}

func TestDoPermanentStopsAtOnce(t *testing.T) {
	myErr := errors.New("my bug")
	tests := []struct {
		name string
		ret  error // what op returns
		want error // what Do must return (identity)
	}{
		{"unclassified", myErr, myErr},
		{"validation", errValidation, errValidation},
		{"wrapped validation", fmt.Errorf("put: %w", errValidation), nil},
		{"caller marks a conflict permanent", retry.MarkPermanent(errConflict), errConflict},
		{"marked twice", retry.MarkPermanent(retry.MarkPermanent(errThrottled)), errThrottled},
		{"backoff.Permanent", backoff.Permanent(errThrottled), errThrottled},
		{"op's own context.Canceled", context.Canceled, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timer := retry.NewInstantClock()
			calls := 0
			err := retry.Do(context.Background(), testPolicy(5), func(context.Context, int) error {
				calls++
				return tt.ret
			}, withClock(timer), func(o *retry.Options) {
				o.OnRetry = func(a retry.Attempt) { t.Errorf("OnRetry called for a permanent error: %+v", a) }
			})
			if calls != 1 {
				t.Fatalf("op called %d times, want 1", calls)
			}
			want := tt.want
			if want == nil {
				want = tt.ret
			}
			if err != want {
				t.Fatalf("Do = %v (%T), want exactly %v (%T)", err, err, want, want)
			}
			if len(timer.Starts) != 0 {
				t.Fatalf("slept %d times, want 0", len(timer.Starts))
			}
		})
	}
}

func TestMarkPermanent(t *testing.T) {
	if retry.MarkPermanent(nil) != nil {
		t.Fatal("MarkPermanent(nil) != nil")
	}
	err := fmt.Errorf("outer: %w", retry.MarkPermanent(errConflict))
	if retry.Classify(err) != retry.Permanent {
		t.Fatalf("Classify(wrapped MarkPermanent(conflict)) = %v, want permanent", retry.Classify(err))
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) || !errors.Is(err, errConflict) {
		t.Fatal("errors.As/Is do not reach the marked error")
	}
	if err.Error() != "outer: "+errConflict.Error() {
		t.Fatalf("Error() = %q: the marker changed the message", err.Error())
	}
	// Do returns a wrapped marker as it is: the chain still reaches errConflict.
	got := retry.Do(context.Background(), testPolicy(3), func(context.Context, int) error { return err })
	if got != err {
		t.Fatalf("Do = %v, want the op's error", got)
	}
}

func TestDoOnRetry(t *testing.T) {
	timer := retry.NewInstantClock()
	var attempts []retry.Attempt
	const n = 6
	err := retry.Do(context.Background(), testPolicy(n), func(_ context.Context, a int) error {
		if a%2 == 1 {
			return errConflict
		}
		return errThrottled
	}, withClock(timer), func(o *retry.Options) {
		o.OnRetry = func(a retry.Attempt) {
			// Synchronous and before the sleep: the timer has not been started for it yet.
			if got := len(timer.Starts); got != a.Number-1 {
				t.Errorf("OnRetry(%d) with %d sleeps done, want %d", a.Number, got, a.Number-1)
			}
			attempts = append(attempts, a)
		}
	})
	if !errors.Is(err, retry.ErrExhausted) {
		t.Fatalf("Do = %v, want ErrExhausted", err)
	}
	if len(attempts) != n-1 {
		t.Fatalf("OnRetry called %d times, want %d", len(attempts), n-1)
	}
	var prevElapsed time.Duration
	for i, a := range attempts {
		wantErr, wantClass := error(errThrottled), retry.Transient
		if a.Number%2 == 1 {
			wantErr, wantClass = errConflict, retry.Conflict
		}
		if a.Number != i+1 || a.Err != wantErr || a.Class != wantClass || a.Delay != timer.Starts[i] || a.Elapsed < prevElapsed {
			t.Errorf("OnRetry #%d got %+v; want Number %d, Err %v, Class %v, Delay %v, Elapsed >= %v",
				i, a, i+1, wantErr, wantClass, timer.Starts[i], prevElapsed)
		}
		prevElapsed = a.Elapsed
	}
}

func TestDoCancelDuringSleep(t *testing.T) {
	// Exact: a timer that never fires, cancel from another goroutine once
	// the sleep has begun.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timer := &neverClock{onSleep: cancel}
	calls := 0
	err := retry.Do(ctx, testPolicy(5), func(context.Context, int) error {
		calls++
		return errThrottled
	}, withClock(timer))
	if calls != 1 || timer.started.Load() != 1 || timer.stopped.Load() != 1 {
		t.Fatalf("calls = %d, sleeps = %d, stopped = %d; want 1, 1 and 1", calls, timer.started.Load(), timer.stopped.Load())
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errThrottled) {
		t.Fatalf("Do = %v, want it to wrap context.Canceled and the last error", err)
	}
	if want := "retry: context canceled after 1 attempts: "; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Error() = %q, want prefix %q", err, want)
	}
}

func TestDoCancelDuringLongRealSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := retry.Policy{InitialInterval: time.Hour, MaxInterval: time.Hour, Multiplier: 2, MaxAttempts: 3}
	start := time.Now()
	time.AfterFunc(5*time.Millisecond, cancel)
	err := retry.Do(ctx, p, func(context.Context, int) error { return errThrottled })
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errThrottled) {
		t.Fatalf("Do = %v, want it to wrap context.Canceled and the last error", err)
	}
	if took > 100*time.Millisecond {
		t.Fatalf("Do returned %v after the cancel, want promptly", took)
	}
}

func TestDoContextDoneAfterFailedAttempt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timer := retry.NewInstantClock()
	calls := 0
	err := retry.Do(ctx, testPolicy(5), func(context.Context, int) error {
		calls++
		cancel()
		return errConflict // retryable, but the caller gave up
	}, withClock(timer))
	if calls != 1 || len(timer.Starts) != 0 {
		t.Fatalf("calls = %d, sleeps = %d; want 1 and 0", calls, len(timer.Starts))
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errConflict) {
		t.Fatalf("Do = %v, want it to wrap context.Canceled and the last error", err)
	}
}

func TestDoCallerDeadline(t *testing.T) {
	// op honours ctx and returns its DeadlineExceeded (Transient); Do must see
	// that the caller's ctx is done and stop rather than retry.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Millisecond)
	defer cancel()
	calls := 0
	err := retry.Do(ctx, testPolicy(0), func(ctx context.Context, _ int) error {
		calls++
		<-ctx.Done()
		return fmt.Errorf("get item: %w", ctx.Err())
	}, withClock(retry.NewInstantClock()))
	if calls != 1 {
		t.Fatalf("op called %d times, want 1", calls)
	}
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, retry.ErrExhausted) {
		t.Fatalf("Do = %v, want a context error, not exhaustion", err)
	}
}

func TestDoAttemptDeadlineIsRetried(t *testing.T) {
	// A deadline inside one attempt (not the caller's) is transient.
	calls := 0
	err := retry.Do(context.Background(), testPolicy(5), func(ctx context.Context, n int) error {
		calls++
		if n < 3 {
			actx, cancel := context.WithTimeout(ctx, 0)
			defer cancel()
			<-actx.Done()
			return actx.Err()
		}
		return nil
	}, withClock(retry.NewInstantClock()))
	if err != nil || calls != 3 {
		t.Fatalf("Do = %v after %d calls, want nil after 3", err, calls)
	}
}

func TestDoNilOptionFuncIgnored(t *testing.T) {
	if err := retry.Do(context.Background(), testPolicy(1), func(context.Context, int) error { return nil }, nil); err != nil {
		t.Fatal(err)
	}
}

func TestDoConcurrent(t *testing.T) {
	p := retry.Policy{InitialInterval: time.Microsecond, MaxInterval: 20 * time.Microsecond, Multiplier: 2, MaxAttempts: 10}
	var wg sync.WaitGroup
	var total atomic.Int64
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fails := g % 5
			err := retry.Do(context.Background(), p, func(_ context.Context, n int) error {
				total.Add(1)
				if n <= fails {
					return errThrottled
				}
				return nil
			}, func(o *retry.Options) {
				o.OnRetry = func(a retry.Attempt) {
					if a.Number > fails {
						t.Errorf("goroutine %d: retry after attempt %d, want at most %d", g, a.Number, fails)
					}
				}
			})
			if err != nil {
				t.Errorf("goroutine %d: %v", g, err)
			}
		}()
	}
	wg.Wait()
	// sum over g of (g%5 + 1)
	want := int64(0)
	for g := range 32 {
		want += int64(g%5 + 1)
	}
	if total.Load() != want {
		t.Fatalf("%d attempts in total, want %d", total.Load(), want)
	}
}

func TestExhaustedErrorUnwrap(t *testing.T) {
	e := &retry.ExhaustedError{Attempts: 2, Elapsed: 1200 * time.Millisecond, Last: errThrottled}
	if got, want := e.Error(), "retry: gave up after 2 attempts in 1.2s: "+errThrottled.Error(); got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if errs := (&retry.ExhaustedError{}).Unwrap(); len(errs) != 1 || errs[0] != retry.ErrExhausted {
		t.Fatalf("Unwrap() with nil Last = %v, want [ErrExhausted]", errs)
	}
}
