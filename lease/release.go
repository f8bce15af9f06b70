package lease

import (
	"context"
	"time"

	"github.com/ddbocc/ddbocc/repo"
)

// Release ends the lease: it cancels Context, which stops the heartbeat,
// waits for the heartbeat to return, then marks the record free on
// condition that it is still this lease's (same version, hence same owner
// and token). Afterwards [Lease.Err] says how the lease ended:
// [ErrReleased] if this Release freed the record, or the [*LostError] of a
// loss (before the Release, or found by it: another owner holds the
// record). Like etcd's Session.Close, it returns only an error: nil unless
// ctx was done first or the write failed, or its outcome stayed unknown;
// the lease is then neither renewed nor released (Err says NotRenewed) and
// expires after its duration.
//
// Only the first call writes; later calls wait for it and return nil, so
// `defer l.Release(ctx)` is always safe. It blocks for one request (two or
// three when a lost response leaves its outcome unknown: it then reads the
// record). Safe for concurrent use.
func (l *Lease) Release(ctx context.Context) error {
	_, err := l.end(func() error { return l.free(ctx, false) })
	return err
}

// end runs the lease's one release write, write (Release's, ReleaseDone's
// or ReleaseDoneWith's), unless an earlier call ran it: it stops the
// heartbeat, waits for it, and writes if the lease is still held. ran says
// whether this call did; err is the write's error.
func (l *Lease) end(write func() error) (ran bool, err error) {
	l.release.Do(func() {
		ran = true
		l.cancel()
		<-l.done
		if l.Err() == nil {
			err = write()
		}
	})
	return ran, err
}

// free writes the record free (with this lease's completion mark if
// mark), from the record last stored, and once more from a later one that
// is still this lease's (a renewal of unknown outcome was stored).
func (l *Lease) free(ctx context.Context, mark bool) error {
	judge := afterRelease
	if mark {
		judge = afterReleaseDone
	}
	to := l.yield(ctx) // a waiter elsewhere the record is reserved for, or ""
	f, cur, err := l.freeFrom(ctx, l.record(), mark, to)
	verdict, le := judge(f, cur, l.me, false)
	if verdict == releaseAgain {
		f, cur, err = l.freeFrom(ctx, cur, mark, to)
		verdict, le = judge(f, cur, l.me, true)
	}
	switch verdict {
	case releaseDone:
		l.stored(cur) // for Completed and a later ReleaseDone
		l.freedAs(cur)
		return nil
	case releaseLost:
		l.lose(le)
		return nil
	}
	// Outcome still unknown: the lease is not renewed any more and expires.
	l.lose(&LostError{Reason: NotRenewed, Cause: err})
	return err
}

// freed is rec as a release of l at now stores it: free, with l's
// completion mark if mark, reserved for owner reserveTo if not "".
func (l *Lease) freed(rec record, now time.Time, mark bool, reserveTo string) record {
	rec = rec.released(now)
	if reserveTo != "" {
		rec.ReservedFor, rec.ReservedMs = reserveTo, reserveFor.Milliseconds()
	}
	if mark {
		rec = withMark(rec, l.me, now)
	}
	return rec
}

// freeFrom sends one release write based on rec (see freed). If its
// outcome is unknown (the write ids could not tell: another owner's
// acquiring write replaces them), it reads the record, which can.
func (l *Lease) freeFrom(ctx context.Context, rec record, mark bool, reserveTo string) (found, record, error) {
	stored, err := l.st.save(ctx, l.freed(rec, l.st.clock.Now(), mark, reserveTo))
	if f, cur := learn(stored, err); f != foundUnknown {
		return f, cur, err
	}
	cur, gerr := l.st.recs.Get(ctx, repo.Key(l.name))
	if gerr != nil {
		return foundFailed, record{}, err
	}
	return foundRead, cur, err
}
