package repo

import (
	"context"
	"time"

	"github.com/ddbocc/ddbocc/internal/wait"
	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
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

// The winner is ahead all the same: its write was applied before the
// losers' (that is why they lost), so its answer, and its next write, come
// first. So while its process has seen a conflict on the key in the last
// second (contendedFor), a turn that would write at once on the item the
// previous turn stored first waits for one round trip of that write: the
// losers' answers to their conflict land in that pause, and one of them
// wins. Without conflicts nothing waits.

// contendedFor is how long after its last conflict a key counts as
// contended in this process.
const contendedFor = time.Second

// handoff is what one turn on a key hands the next: the item it stored,
// when known, and the key's contention as this process saw it.
type handoff struct {
	item      versioned.Item
	contended time.Time     // when a write of this process last met a conflict on the key
	rtt       time.Duration // the round trip of the last write
}

// wait pauses a turn that would write at once on the item the previous
// turn stored while the key is contended: one round trip of the last
// write, or until ctx is done.
func (h handoff) wait(ctx context.Context) {
	if h.item == nil || h.rtt <= 0 || time.Since(h.contended) > contendedFor {
		return
	}
	_ = wait.For(ctx, h.rtt)
}

// handoff is what the turn that ran l, after prev, hands the next turn
// once l ended with err: the stored item, computed only if a turn takes
// it, and the key's contention.
func (l *loop[T]) handoff(prev handoff, err error) func() handoff {
	contended := prev.contended
	if l.conflictAt.After(contended) {
		contended = l.conflictAt
	}
	rtt, after := l.rtt, l.after
	if err != nil {
		after = nil
	}
	return func() handoff {
		n := handoff{contended: contended, rtt: rtt}
		if after != nil {
			n.item = after()
		}
		return n
	}
}

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
