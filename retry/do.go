package retry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Attempt describes a failed attempt that [Do] is about to retry; it is
// passed to [Options.OnRetry]. It is a plain value: copying and reading it
// from several goroutines is safe.
type Attempt struct {
	// Number is the 1-based number of the attempt that failed.
	Number int
	// Err is the error the attempt returned.
	Err error
	// Class is Classify(Err): Conflict or Transient.
	Class Class
	// Delay is the sleep before the next attempt.
	Delay time.Duration
	// Elapsed is the time from the start of Do to the end of the failed attempt.
	Elapsed time.Duration
}

// Options tunes one call of [Do]. Pass functions that modify it, the
// aws-sdk-go-v2 way:
//
//	retry.Do(ctx, p, op, func(o *retry.Options) { o.OnRetry = log })
//
// Do starts from the defaults (the zero Options: no OnRetry, the system
// clock) on every call and applies the functions to that copy, so one
// option function may be shared by concurrent calls as long as it only sets
// fields. The OnRetry it installs is then used by each of those calls: it
// must be safe for concurrent use if the calls are concurrent.
type Options struct {
	// OnRetry, when non-nil, is called synchronously before each sleep (not
	// after the final failure), on the goroutine that called Do. It delays
	// the retry by however long it blocks.
	OnRetry func(Attempt)
	// Clock measures the elapsed time (for [Policy.MaxElapsedTime] and
	// [Attempt.Elapsed]) and times the sleeps between attempts. nil means
	// [SystemClock]. Tests inject a fake one.
	Clock Clock
}

// MarkPermanent marks err so that [Do] stops and returns it at once,
// whatever the error's own class would be ([Classify] of the result is
// [Permanent]). Do returns err itself, without the marker; if the marked
// error is wrapped further, errors.Is and errors.As still reach err through
// the marker, and its message is err's. MarkPermanent(nil) is nil.
// (backoff.Permanent from cenkalti/backoff/v4 is honoured the same way.)
//
// It is not called Permanent because that name is the [Class] constant.
//
// MarkPermanent does not block and is safe for concurrent use.
func MarkPermanent(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*permanentError); ok {
		return err // already marked at the top
	}
	return &permanentError{err: err}
}

// permanentError is the marker made by MarkPermanent.
type permanentError struct{ err error }

func (e *permanentError) Error() string     { return e.err.Error() }
func (e *permanentError) Unwrap() error     { return e.err }
func (e *permanentError) RetryClass() Class { return Permanent }

// unmark strips a permanent marker (ours or backoff's) found at the top of err.
func unmark(err error) error {
	for {
		switch e := err.(type) {
		case *permanentError:
			err = e.err
		case *backoff.PermanentError:
			if e == nil || e.Err == nil {
				return err
			}
			err = e.Err
		default:
			return err
		}
	}
}

// Do calls op until it returns nil, returns an error whose [Class] is
// [Permanent], the policy is spent, or ctx is done. op receives ctx and the
// 1-based attempt number. [Conflict] and [Transient] errors are retried after
// the delay drawn from p (see [Policy]); one that has a method RetryNow()
// bool returning true is retried at once, still counting as an attempt,
// and the backoff does not advance.
//
// Do returns:
//   - nil when an attempt succeeds;
//   - an error wrapping [ErrInvalidPolicy] when p is invalid, or [ErrNilOp]
//     when op is nil, without calling op;
//   - the error itself when it is Permanent (with a top-level
//     [MarkPermanent] or backoff.Permanent marker removed);
//   - an [*ExhaustedError] when p.MaxAttempts attempts failed or
//     p.MaxElapsedTime passed;
//   - when ctx is done before the first attempt, after a failed attempt or
//     during a sleep: an error wrapping ctx.Err() (and context.Cause(ctx) if
//     that differs) and the last error, if any.
//
// Do blocks until one of these happens. Cancelling ctx interrupts a sleep at
// once; an attempt in progress is only interrupted if op honours ctx. Do
// never sleeps past ctx.Done and leaves no goroutine behind. It is safe for
// concurrent use: every call builds its own backoff state. Do panics if ctx
// is nil.
func Do(ctx context.Context, p Policy, op func(ctx context.Context, attempt int) error, optFns ...func(*Options)) error {
	if ctx == nil {
		panic("retry: Do called with a nil context.Context")
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if op == nil {
		return ErrNilOp
	}
	var o Options
	for _, fn := range optFns {
		if fn != nil {
			fn(&o)
		}
	}
	clk := o.Clock
	if clk == nil {
		clk = SystemClock()
	}
	start := clk.Now()
	b := p.newBackOff(clk)

	if ctx.Err() != nil {
		return fmt.Errorf("retry: %w before the first attempt", ctxErr(ctx))
	}
	for n := 1; ; n++ {
		err := op(ctx, n)
		if err == nil {
			return nil
		}
		class := Classify(err)
		if class == Permanent {
			return unmark(err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("retry: %w after %d attempts: %w", ctxErr(ctx), n, err)
		}
		elapsed := clk.Now().Sub(start)
		if p.MaxAttempts > 0 && n >= p.MaxAttempts {
			return &ExhaustedError{Attempts: n, Elapsed: elapsed, Last: err}
		}
		delay, ok := nextDelay(p, b, err, elapsed)
		if !ok {
			return &ExhaustedError{Attempts: n, Elapsed: elapsed, Last: err}
		}
		if o.OnRetry != nil {
			o.OnRetry(Attempt{Number: n, Err: err, Class: class, Delay: delay, Elapsed: elapsed})
		}
		if sleep(ctx, clk, delay) != nil {
			return fmt.Errorf("retry: %w after %d attempts: %w", ctxErr(ctx), n, err)
		}
	}
}

// retryNow is implemented by errors whose attempt is best tried again at
// once: a conflict whose answer carried the current item (repo answers a
// hot item's rivals that way).
type retryNow interface{ RetryNow() bool }

// nextDelay is the sleep before the next attempt after err: none for an
// error that asks to be retried now (the backoff does not advance), else
// the backoff's. ok is false when the policy is spent.
func nextDelay(p Policy, b backoff.BackOff, err error, elapsed time.Duration) (d time.Duration, ok bool) {
	var now retryNow
	if errors.As(err, &now) && now.RetryNow() {
		return 0, p.MaxElapsedTime == 0 || elapsed < p.MaxElapsedTime
	}
	d = b.NextBackOff()
	return d, d != backoff.Stop
}

// ctxErr returns ctx.Err(), joined with context.Cause(ctx) when a cause was
// given that differs from it, so errors.Is finds both.
func ctxErr(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return &causeError{err: err, cause: cause}
	}
	return err
}

// causeError reads as "context canceled (cause: ...)" and unwraps to both.
type causeError struct{ err, cause error }

func (e *causeError) Error() string   { return e.err.Error() + " (cause: " + e.cause.Error() + ")" }
func (e *causeError) Unwrap() []error { return []error{e.err, e.cause} }
