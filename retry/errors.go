package retry

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidPolicy is wrapped by the errors of [Policy.Validate], and so by
// the error [Do] returns for an invalid [Policy].
var ErrInvalidPolicy = errors.New("retry: invalid policy")

// ErrExhausted is matched by every [*ExhaustedError] (errors.Is(err,
// ErrExhausted)): the policy allowed no further attempt.
var ErrExhausted = errors.New("retry: attempts exhausted")

// ErrNilOp is returned by [Do] when its op is nil.
var ErrNilOp = errors.New("retry: nil op")

// ExhaustedError is returned by [Do] when the [Policy] is spent:
// [Policy.MaxAttempts] attempts failed with retryable errors, or the backoff
// stopped because [Policy.MaxElapsedTime] passed. It wraps both
// [ErrExhausted] and the last attempt's error, so errors.Is and errors.As
// reach either.
//
// An ExhaustedError is a plain value; reading it from several goroutines is
// safe, mutating it while others read is not.
type ExhaustedError struct {
	// Attempts is the number of attempts made (all of which failed).
	Attempts int
	// Elapsed is the time from the start of Do to the end of the last attempt.
	Elapsed time.Duration
	// Last is the error of the last attempt.
	Last error
}

// Error returns "retry: gave up after N attempts in D: <last>". It does not
// block and is safe for concurrent use.
func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("retry: gave up after %d attempts in %v: %v", e.Attempts, e.Elapsed, e.Last)
}

// Unwrap returns [ErrExhausted] and the last error (only ErrExhausted when
// Last is nil). It does not block and is safe for concurrent use.
func (e *ExhaustedError) Unwrap() []error {
	if e.Last == nil {
		return []error{ErrExhausted}
	}
	return []error{ErrExhausted, e.Last}
}
