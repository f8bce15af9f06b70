package repo

import (
	"time"

	"github.com/ddbocc/ddbocc/internal/turns"
)

// Kept items: an Update that writes without reading. Each turn on a key
// hands the item it stored to the next (internal/turns); when no Update of
// the key waits, the queue keeps that item instead (Options.KeepItems, for
// the keys written last), and the next Update of the key writes at once on
// it: one request instead of a read and a write, for as long as no other
// process writes the key.
//
// The write's condition is what makes it safe. A kept item that is no
// longer current fails it, and the failed write returns the current item
// (ALL_OLD), on which fn runs again: a stale item costs the request the
// read would have, and never a lost update. Two rules keep the rest right:
//
//   - A decision that writes nothing stands only on an item known to be
//     current. An fn that fails or says NoChange on a handed-on item
//     (stale) is run again on a read (loop.prepare); in a combined batch,
//     such an fn's caller drops out only once the write shows the item was
//     current, or is run again on the item it returns (batchRun.plan). So
//     does a caller whose fn failed on a state carrying the changes of
//     callers before it in the batch, which is real only once stored.
//   - A kept item of a key that met a conflict in the last contendedFor is
//     not used: another process writes it, so the item is likely stale,
//     and a failed write costs more than a read (a write unit, not a read
//     unit).

// taken is what turn starts from: what the previous turn handed on, or
// what the queue kept while the key was idle, unless the key is contended.
func taken(turn *turns.Turn[handoff]) handoff {
	h, wasKept := turn.Take()
	if wasKept && time.Since(h.contended) <= contendedFor {
		h.item = nil
	}
	return h
}

// base starts l from the item h hands on, if any; it is stale.
func (l *loop[T]) base(h handoff) {
	if h.item != nil {
		l.cur, l.known, l.stale = h.item, true, true
	}
}
