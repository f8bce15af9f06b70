package retry

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"syscall"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/cenkalti/backoff/v4"

	"github.com/ddbocc/ddbocc/internal/ddbcode"
)

// Class is what [Classify] decides about an error: whether retrying may help.
// It is a plain integer, safe for concurrent use.
type Class int

const (
	// Permanent errors are not retried: validation errors, missing resources,
	// access denied, cancellation, and anything not recognised.
	Permanent Class = iota
	// Conflict errors mean another writer won an optimistic-concurrency race
	// (a failed condition check). They are retried, normally after re-reading
	// the item.
	Conflict
	// Transient errors are throttles, timeouts, server faults and connection
	// errors. They are retried.
	Transient
)

// String returns "permanent", "conflict" or "transient" ("Class(n)" for
// other values). It does not block and is safe for concurrent use.
func (c Class) String() string {
	switch c {
	case Permanent:
		return "permanent"
	case Conflict:
		return "conflict"
	case Transient:
		return "transient"
	default:
		return "Class(" + strconv.Itoa(int(c)) + ")"
	}
}

// Classifier lets an error decide its own [Class]. [Classify] asks the
// outermost error in the chain that implements it (or is a backoff
// permanent marker) before applying any other rule; errors marked with
// [MarkPermanent] implement it.
//
// RetryClass must not block and should be safe for concurrent use.
type Classifier interface {
	RetryClass() Class
}

// Classify decides whether err is worth retrying. The rules, first match
// wins; every rule looks through the whole chain (errors.Is/errors.As, so
// fmt.Errorf("...: %w") wrappers, errors.Join and the SDK's
// *smithy.OperationError and retry.MaxAttemptsError are transparent):
//
//   - nil: Permanent.
//   - the outermost error in the chain that implements [Classifier] (this
//     includes [MarkPermanent]'s marker) or is a *backoff.PermanentError decides:
//     its RetryClass(), or Permanent for the backoff marker.
//   - context.Canceled: Permanent. context.DeadlineExceeded: Transient (a
//     deadline inside one attempt; [Do] separately stops when the caller's
//     ctx is done).
//   - a smithy.APIError whose ErrorCode() is ConditionalCheckFailedException:
//     Conflict; TransactionConflictException, ReplicatedWriteConflictException,
//     ProvisionedThroughputExceededException, ThrottlingException,
//     RequestLimitExceeded, InternalServerError, ServiceUnavailable,
//     ThrottledException, RequestThrottled: Transient;
//     LimitExceededException, TransactionCanceledException: Permanent.
//   - an error with HTTPStatusCode() int (such as *smithyhttp.ResponseError)
//     with status 429 or >= 500: Transient.
//   - *smithyhttp.RequestSendError, a net.Error whose Timeout() is true,
//     io.ErrUnexpectedEOF, syscall.ECONNRESET, ECONNREFUSED, EPIPE: Transient.
//   - anything else: Permanent.
//
// Classify does not block and is safe for concurrent use.
func Classify(err error) Class {
	if err == nil {
		return Permanent
	}
	if c, ok := markedClass(err); ok {
		return c
	}
	if errors.Is(err, context.Canceled) {
		return Permanent
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Transient
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch code := apiErr.ErrorCode(); {
		case code == ddbcode.ConditionalCheckFailed:
			return Conflict
		case ddbcode.Transient(code):
			return Transient
		case ddbcode.Permanent(code):
			return Permanent
		}
	}
	if status, ok := httpStatus(err); ok && (status == 429 || status >= 500) {
		return Transient
	}
	var sendErr *smithyhttp.RequestSendError
	if errors.As(err, &sendErr) {
		return Transient
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return Transient
	}
	if errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) {
		return Transient
	}
	return Permanent
}

// markedClass walks the chain in the order errors.As does (depth first,
// pre-order) and returns the class of the first node that is a Classifier or
// a *backoff.PermanentError. Walking once, rather than calling errors.As for
// each type in turn, lets an outer marker override an inner one: MarkPermanent
// around an error that classifies itself as a Conflict stops the retries.
func markedClass(err error) (Class, bool) {
	for err != nil {
		if c, ok := err.(Classifier); ok {
			return c.RetryClass(), true
		}
		if _, ok := err.(*backoff.PermanentError); ok {
			return Permanent, true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if c, ok := markedClass(e); ok {
					return c, true
				}
			}
			return 0, false
		default:
			return 0, false
		}
	}
	return 0, false
}

// httpStatus finds an HTTP status code in the chain. A *smithyhttp.ResponseError
// without a response is skipped (its HTTPStatusCode method would panic).
func httpStatus(err error) (int, bool) {
	for err != nil {
		switch e := err.(type) {
		case *smithyhttp.ResponseError:
			if e != nil && e.Response != nil && e.Response.Response != nil {
				return e.Response.StatusCode, true
			}
		case interface{ HTTPStatusCode() int }:
			if s, ok := safeStatus(e); ok {
				return s, true
			}
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if s, ok := httpStatus(e); ok {
					return s, true
				}
			}
			return 0, false
		default:
			return 0, false
		}
	}
	return 0, false
}

// safeStatus calls HTTPStatusCode, treating a panic (a wrapper around a
// ResponseError with a nil response, such as awshttp.ResponseError) as "no
// status".
func safeStatus(e interface{ HTTPStatusCode() int }) (status int, ok bool) {
	defer func() {
		if recover() != nil {
			status, ok = 0, false
		}
	}()
	return e.HTTPStatusCode(), true
}
