package repo

import (
	"context"

	"github.com/ddbocc/ddbocc/retry"
)

// Fair contention between processes on a hot item. Each process has at
// most one write in flight per key (the local queue), and its Updates are
// combined, so the writers of a hot item are its processes. A process
// whose write just succeeded sends its next one at once, on the item it
// stored; a loser that waits out a backoff comes back with an item that is
// stale by then, and loses again: one process takes every write. So a
// queued Update answers a conflict at once, with the item the failed write
// returned (ALL_OLD, the current one): every process then writes on the
// same item at the same moment, one of them wins, and the rounds go to
// each in turn at random. It costs no request without contention, and at
// most one request per process per round with it: the request rate on the
// key is bounded by the number of processes, not goroutines.

// maxRivalRounds bounds the conflicts one call answers at once; beyond
// them the retry policy's backoff applies again. Rounds count as attempts
// of the policy (retry.Do retries a rivalConflict without a delay).
const maxRivalRounds = 64

// againNow reports whether the conflict err is answered at once.
func (l *loop[T]) againNow(ctx context.Context, err error) bool {
	return l.rivals && l.rounds < maxRivalRounds && l.plan == nil && l.known &&
		ctx.Err() == nil && retry.Classify(err) == retry.Conflict
}

// rivalConflict is a conflict to be answered at once: retry.Do tries again
// without a delay.
type rivalConflict struct{ err error }

func (e rivalConflict) Error() string           { return e.err.Error() }
func (e rivalConflict) Unwrap() error           { return e.err }
func (e rivalConflict) RetryClass() retry.Class { return retry.Conflict }
func (e rivalConflict) RetryNow() bool          { return true }
