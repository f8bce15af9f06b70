package lease

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrHeld: the lease is held by another owner. A [*HeldError] carries the holder.
	ErrHeld = errors.New("lease: held")
	// ErrLost: the lease is no longer held. A [*LostError] says why.
	ErrLost = errors.New("lease: lost")
	// ErrReleased is what [Lease.Err] returns after a [Lease.Release] that
	// marked the record free.
	ErrReleased = errors.New("lease: released")
	// ErrInvalidArgument: a bad argument (nil client, nil fn, a bad option
	// given to [New] or a call). No request was sent.
	ErrInvalidArgument = errors.New("lease: invalid argument")
	// ErrClosed: the [Manager] was closed ([Manager.Close]) before or while
	// the call waited. An acquisition that was under way was given up.
	ErrClosed = errors.New("lease: manager closed")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}

// HeldError is the typed form of [ErrHeld].
type HeldError struct {
	Name    string
	Owner   string
	Token   int64
	Expires time.Time // the holder's own estimate, from its clock; informative only
	Data    []byte
}

// Error implements error.
func (e *HeldError) Error() string {
	return fmt.Sprintf("lease: %q held by %s (token %d)", e.Name, e.Owner, e.Token)
}

// Is matches [ErrHeld].
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// Reason says why a lease was lost.
type Reason int

const (
	// TakenOver: another owner holds the record.
	TakenOver Reason = iota + 1
	// ReleasedElsewhere: the record was marked free by someone else.
	ReleasedElsewhere
	// NotRenewed: no renewal succeeded before the safe time (DynamoDB could
	// not be reached, or answered with errors).
	NotRenewed
)

func (r Reason) String() string {
	switch r {
	case TakenOver:
		return "taken over"
	case ReleasedElsewhere:
		return "released elsewhere"
	case NotRenewed:
		return "not renewed in time"
	}
	return "unknown"
}

// LostError is the typed form of [ErrLost].
type LostError struct {
	Name   string
	Token  int64
	Reason Reason
	Owner  string // the new owner for TakenOver
	Cause  error  // the last renewal error for NotRenewed
}

// Error implements error.
func (e *LostError) Error() string {
	s := fmt.Sprintf("lease: %q token %d lost: %s", e.Name, e.Token, e.Reason)
	if e.Owner != "" {
		s += " by " + e.Owner
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Is matches [ErrLost].
func (e *LostError) Is(target error) bool { return target == ErrLost }

// Unwrap returns the cause, if any.
func (e *LostError) Unwrap() error { return e.Cause }

// ErrLive: [Manager.Break] refused to break a lease whose holder renewed it
// within its lease (the record's expiry, by the breaker's wall clock, is
// still in the future). A [*LiveError] names the holder.
var ErrLive = errors.New("lease: live")

// LiveError is the typed form of [ErrLive].
type LiveError struct {
	Name  string
	Owner string
	Token int64
	// Renewed is when the holder last wrote the record (acquired or
	// renewed it), from its clock: the stored expiry minus its duration,
	// to the second.
	Renewed time.Time
	// Expires is the stored expiry (the holder's clock); Left is how far
	// in the future it was by the breaker's clock when Break read it.
	Expires time.Time
	Left    time.Duration
}

// Error implements error.
func (e *LiveError) Error() string {
	return fmt.Sprintf("lease: %q is live: held by %s (token %d), last renewed at %s, expires at %s (in %v); not broken without force",
		e.Name, e.Owner, e.Token, e.Renewed.UTC().Format(time.RFC3339), e.Expires.UTC().Format(time.RFC3339), e.Left.Round(100*time.Millisecond))
}

// Is matches [ErrLive].
func (e *LiveError) Is(target error) bool { return target == ErrLive }
