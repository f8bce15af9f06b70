package lease

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ddbocc/ddbocc/repo"
)

// Run-once work: a completion mark in the lease record says that the work
// of a name (say "nightly/2026-11-30") is done, by whom and when. The
// release write of the lease that did the work stores it (ReleaseDone), so
// the mark and the release are one conditional write; every later write of
// the record copies it. Once reads it before acquiring, and once more in
// the record it acquired.

// ErrDone: the work of the name is marked done. A [*DoneError] says by whom
// and when. (A sentinel like those of errors.go, declared here with the
// rest of run-once work.)
var ErrDone = errors.New("lease: done")

// DoneError is the typed form of [ErrDone]: a name's completion mark.
type DoneError struct {
	Name  string
	By    string    // the owner of the lease that stored the mark
	Token int64     // that lease's fencing token
	At    time.Time // when, from that Manager's clock (Options.Clock), to the millisecond
}

// Error implements error.
func (e *DoneError) Error() string {
	return fmt.Sprintf("lease: %q done by %s (token %d) at %s", e.Name, e.By, e.Token, e.At.UTC().Format(time.RFC3339Nano))
}

// Is matches [ErrDone].
func (e *DoneError) Is(target error) bool { return target == ErrDone }

// TryDo is [Manager.Do] with one attempt: it acquires name with
// [Manager.TryAcquire], and if the name is held (by another owner, or by
// another goroutine of this Manager) it does not run fn and returns the
// [*HeldError], matching [ErrHeld], that says by whom. Otherwise it runs fn
// and releases the lease as Do does, and returns what Do would. A nil fn is
// an error matching [ErrInvalidArgument]; no request is sent. It blocks
// for the acquiring attempt (one or two requests), fn and the release;
// cancelling ctx stops the attempt and cancels fn's context. Safe for
// concurrent use.
func (m *Manager) TryDo(ctx context.Context, name string, fn func(ctx context.Context) error, optFns ...func(*AcquireOptions)) error {
	if fn == nil {
		return invalid("nil fn")
	}
	l, err := m.TryAcquire(ctx, name, optFns...)
	if err != nil {
		return err
	}
	return m.run(ctx, l, fn, false)
}

// Once is for work that must be done once per name (say
// "nightly/2026-11-30"), across processes: it is [Manager.TryDo] that does
// not run fn for a name marked done, and marks the name done when fn
// succeeds.
//
// It first reads name's record (strongly consistent). If the record
// carries a completion mark, Once returns an error matching [ErrDone], a
// [*DoneError] saying by whom and when, without running fn and without
// writing. Otherwise it makes one attempt to acquire name: held, it
// returns the [*HeldError] (matching [ErrHeld]) and does not run fn; a
// record marked done meanwhile (found in the record it acquired) is
// released at once and reported as ErrDone. It then runs fn like
// [Manager.Do] (fn's context ends with ctx or the lease; [FromContext]
// gives the lease). If fn returns nil, Once releases the lease with
// [Lease.ReleaseDone]: the mark (this Manager's Owner, the lease's token,
// the time from Options.Clock) and the release are one write, conditioned
// on the lease's version, and Once returns its error: nil once the mark is
// stored, an error matching [ErrLost] if the lease was lost while fn ran
// (then another owner may be doing the work). If fn fails, the lease is
// released without a mark and Once returns fn's error (joined with the
// [*LostError] if the lease was lost), so the next Once, here or in
// another process, runs fn again. A process that dies while fn runs leaves
// no mark either: another process that calls Once until it stops getting
// ErrHeld takes the lease over (once its Manager has seen the record
// unrenewed for a lease duration, as with TryAcquire) and runs fn again.
//
// A process that dies after fn returned but before the mark was stored
// leaves the work unmarked, and it is done again: make fn's effects
// idempotent (guard its writes with [Lease.Condition] so that a holder that
// lost the lease cannot write). The mark lives as long as the record:
// Options.RecordTTL after the record's last write, after which TTL may
// delete it and the work of the name would run again.
//
// A nil fn or bad optFns is an error matching [ErrInvalidArgument], and
// once [Manager.Close] has begun the error matches [ErrClosed]; no request
// is sent. A lease that Close releases while fn runs gets no mark: Once
// returns fn's error joined with ErrClosed.
//
// Once blocks for one read, the acquiring attempt (one or two requests),
// fn and the release; cancelling ctx stops the read and the attempt, and
// cancels fn's context (the release is still sent). Safe for concurrent
// use.
func (m *Manager) Once(ctx context.Context, name string, fn func(ctx context.Context) error, optFns ...func(*AcquireOptions)) error {
	if ctx == nil {
		panic("lease: nil context")
	}
	if fn == nil {
		return invalid("nil fn")
	}
	if _, err := m.opts.acquireOptions(optFns); err != nil {
		return err
	}
	if m.life.closing() {
		return ErrClosed // before the read, as TryAcquire would
	}
	cur, err := m.st.get(ctx, name)
	if err != nil {
		return err
	}
	if d := doneOf(cur); d != nil {
		return d
	}
	l, err := m.tryAcquire(ctx, name, optFns, &cur) // from the record read: no second read
	if err != nil {
		return err
	}
	if d := l.Completed(); d != nil {
		// Marked between the read and the acquiring write. A failed
		// release only leaves the lease to expire: the mark stays.
		_ = l.Release(context.WithoutCancel(ctx))
		return d
	}
	return m.run(ctx, l, fn, true)
}

// run runs fn under held lease l, as [Manager.Do] does, and ends the
// lease: with ReleaseDone if mark and fn succeeded, else with Release. It
// returns what Do returns; a mark that [Manager.Close] prevented (it
// released the lease first) is ErrClosed too.
func (m *Manager) run(ctx context.Context, l *Lease, fn func(ctx context.Context) error, mark bool) error {
	// fn's ctx ends with the caller's ctx or the lease, whichever first.
	fctx, cancel := context.WithCancel(context.WithValue(ctx, leaseKey{}, l))
	stop := context.AfterFunc(l.Context(), cancel)
	ferr := fn(fctx)
	closed := l.Context().Err() != nil && m.life.closing() // Close released it, unless lost
	stop()
	cancel()
	rctx := context.WithoutCancel(ctx)
	if mark && ferr == nil && !closed {
		err := l.ReleaseDone(rctx) // a *LostError if the lease was lost while fn ran
		if errors.Is(err, ErrReleased) && m.life.closing() {
			return errors.Join(err, ErrClosed) // Close released it first
		}
		return err
	}
	rerr := l.Release(rctx)
	if lerr := l.lostErr(); lerr != nil {
		return errors.Join(ferr, lerr)
	}
	if closed {
		return errors.Join(ferr, ErrClosed)
	}
	if ferr != nil {
		return ferr
	}
	return rerr
}

// ReleaseDone is [Lease.Release] that also stores the completion mark of
// the lease's name (the lease's owner and token, and the time from its
// Manager's Options.Clock), in the same write: the release write, on
// condition that the record is still this lease's (same version), as
// Release's. Afterwards [Lease.Completed] reports the mark, and
// [Manager.Once] of the name, in any process, returns [ErrDone] without
// running its function. It replaces a mark the record already carried
// (check [Lease.Completed] after acquiring to skip work already done).
//
// It returns nil once the mark is stored. A lease no longer held cannot
// store it: if the lease was lost (before the call or found by its
// write), the error matches [ErrLost] (and wraps the [*LostError] saying
// why); after a plain Release, it matches ErrLost and [ErrReleased]. If
// ctx ends first or the write fails or its outcome stays unknown, it
// returns that error, as Release does: the lease then expires, and the
// mark is not stored, or, if the outcome is unknown, may be
// ([Manager.Inspect] tells).
//
// Only the first Release or ReleaseDone writes; a later ReleaseDone sends
// nothing and returns nil if that write stored this lease's mark, so it
// may be repeated. It blocks like Release. Safe for concurrent use.
func (l *Lease) ReleaseDone(ctx context.Context) error {
	ran, err := l.end(func() error { return l.free(ctx, true) })
	if ran && err != nil {
		return err
	}
	return markResult(l.name, l.me, l.Err(), l.record())
}

// Completed returns the completion mark of the lease's record as the
// lease last stored it: a [*DoneError] (matching [ErrDone]) if the record
// carried a mark when the lease was acquired, or once the lease's own
// [Lease.ReleaseDone] stored one; nil otherwise. A holder that acquired the
// name itself checks it to skip work already done. It does not block and
// is safe for concurrent use.
func (l *Lease) Completed() error {
	if d := doneOf(l.record()); d != nil {
		return d
	}
	return nil
}

// ReleaseDoneWith is [Lease.ReleaseDone] whose write also commits what
// stage stages: the release, the completion mark and stage's writes are
// one DynamoDB transaction ([repo.Transact]), so the work's result and the
// mark are stored together or not at all, and the condition on the lease's
// version fences stage's writes as a [repo.Guard] would. stage may run
// several times, like a Transact function, and must only stage through
// its Tx; it must not stage a write of the lease's own record.
//
// If the lease is no longer held (lost before the call, or found lost by
// the transaction), nothing of stage's is stored and the error matches
// [ErrLost]. If stage fails, or the transaction is refused for one of
// stage's conditions, nothing of it is stored either: the lease is then
// released without a mark, as [Lease.Release] does, and that error is
// returned (a [*repo.TxError] says which operation failed). A nil stage is
// an error matching [ErrInvalidArgument]; no request is sent.
//
// Only the first Release, ReleaseDone or ReleaseDoneWith writes. It blocks
// for the transaction (one request; a read more when it fails). Safe for
// concurrent use.
func (l *Lease) ReleaseDoneWith(ctx context.Context, stage func(tx *repo.Tx) error) error {
	if stage == nil {
		return invalid("ReleaseDoneWith with a nil stage")
	}
	ran, err := l.end(func() error { return l.commitDone(ctx, stage) })
	if ran && err != nil {
		return err
	}
	return markResult(l.name, l.me, l.Err(), l.record())
}

// errNotHeld stops commitDone's transaction: the lease record is not the
// lease's any more.
var errNotHeld = errors.New("lease: record not held")

// commitDone commits stage's writes with the release and the mark of the
// lease, whose heartbeat has stopped. On failure it reads the record: still
// this lease's, it is released without a mark; another owner's or free,
// the lease was lost.
func (l *Lease) commitDone(ctx context.Context, stage func(tx *repo.Tx) error) error {
	now := l.st.clock.Now()
	var rec record
	runs := 0
	err := repo.Transact(ctx, l.st.client, func(tx *repo.Tx) error {
		if runs++; runs > 1 {
			// Cancelled before: the record as the cancellation returned
			// it (no read). Not this lease's any more: stop.
			cur, err := l.st.recs.TxGet(tx, repo.Key(l.name))
			if err != nil && !errors.Is(err, repo.ErrNotFound) {
				return err
			}
			if !l.me.holds(cur) {
				return errNotHeld
			}
			l.stored(cur)
		}
		if err := stage(tx); err != nil {
			return err
		}
		rec = l.st.stamped(l.freed(l.record(), now, true, ""))
		return l.st.recs.TxSave(tx, &rec)
	})
	if err == nil {
		l.stored(rec)
		l.freedAs(rec)
		return nil
	}
	cur, gerr := l.st.get(ctx, l.name)
	switch {
	case gerr != nil:
		l.lose(&LostError{Reason: NotRenewed, Cause: err}) // cannot tell: it expires
		return err
	case l.me.marked(cur) && cur.Owner == "":
		l.stored(cur) // the commit's answer was lost, but it was stored
		l.freedAs(cur)
		return nil
	case !l.me.holds(cur):
		l.lose(lostTo(cur))
		return nil // markResult reports the loss
	}
	l.stored(cur)
	if ferr := l.free(ctx, false); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}
