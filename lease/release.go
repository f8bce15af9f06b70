package lease

import (
	"context"

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
	var err error
	l.release.Do(func() {
		l.cancel()
		<-l.done
		if l.Err() == nil {
			err = l.free(ctx)
		}
	})
	return err
}

// free writes the record free, from the record last stored, and once more
// from a later one that is still this lease's (a renewal of unknown outcome
// was stored).
func (l *Lease) free(ctx context.Context) error {
	f, cur, err := l.freeFrom(ctx, l.record())
	verdict, le := afterRelease(f, cur, l.me, false)
	if verdict == releaseAgain {
		f, cur, err = l.freeFrom(ctx, cur)
		verdict, le = afterRelease(f, cur, l.me, true)
	}
	switch verdict {
	case releaseDone:
		l.finish(ErrReleased, &cur)
		return nil
	case releaseLost:
		l.lose(le)
		return nil
	}
	// Outcome still unknown: the lease is not renewed any more and expires.
	l.lose(&LostError{Reason: NotRenewed, Cause: err})
	return err
}

// freeFrom sends one release write based on rec. If its outcome is
// unknown (the write ids could not tell: another owner's acquiring write
// replaces them), it reads the record, which can.
func (l *Lease) freeFrom(ctx context.Context, rec record) (found, record, error) {
	rec.Owner = ""
	rec.Data = nil
	rec.Expires = l.st.clock.Now().Unix()
	stored, err := l.st.save(ctx, rec)
	if f, cur := learn(stored, err); f != foundUnknown {
		return f, cur, err
	}
	cur, gerr := l.st.recs.Get(ctx, repo.Key(l.name))
	if gerr != nil {
		return foundFailed, record{}, err
	}
	return foundRead, cur, err
}
