package lease

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ddbocc/ddbocc/repo"
)

// BreakOptions shape one [Manager.Break] call.
type BreakOptions struct {
	// Force breaks a live lease too: one whose holder renewed it within
	// its lease (the record's expiry, by this Manager's wall clock, is
	// still in the future). Default false: such a lease is refused with
	// [ErrLive].
	Force bool
}

// BreakResult says what one [Manager.Break] call found and did.
type BreakResult struct {
	// Broken is true when the record was taken over (its token moved on)
	// and released. It is false when there was nothing to break: the
	// record is free, or there is none (Before.Exists is false).
	Broken bool
	// Live: the holder was still within its lease when it was broken
	// (only with BreakOptions.Force).
	Live bool
	// Before is the record as Break read it.
	Before Status
	// After is the record as Break left it: free, its token (the fencing
	// token of the taking-over write) greater than Before.Token. When the
	// release write failed after the takeover (Break returns an error
	// then), it is the taken-over record, held by this Manager's owner,
	// which does not renew it. Zero when nothing was written.
	After Status
}

// Break breaks the lease of name, held by another process that may have
// stopped or hung: it takes the record over, as an acquiring write of this
// Manager's owner would, and at once releases it. The fencing token moves
// on, so the old holder's guarded writes are refused from then on (its
// [Lease.Condition] fails: [repo.ErrGuardFailed]), and its next renewal
// finds the record no longer its own: its lease is lost (Err says
// [ReleasedElsewhere], or [TakenOver] if it renewed between Break's two
// writes). The record is left free, not reserved for anyone.
//
// A holder that renewed within its lease (the record's expiry, by this
// Manager's wall clock, is still in the future) is refused with an error
// matching [ErrLive], a [*LiveError] naming the holder and when it last
// renewed, unless BreakOptions.Force. A free or missing record is nothing
// to break: BreakResult.Broken is false, and the error nil.
//
// Both writes are conditioned on the version read and stored before them:
// a holder that renews (or anyone that writes) in between makes Break fail
// with an error matching repo.ErrConflict, and nothing is overwritten. If
// the takeover was stored but the release write then fails, the error
// says so and BreakResult.After is the taken-over record: nobody renews
// it, so waiters take it over after its duration, and a second Break takes
// it without Force. Break does not wait for the record to be free. It
// blocks for three requests (a read and two writes; a fourth, a read,
// when a write's outcome is unknown); cancelling ctx stops it, and a write
// of unknown outcome is then reported as such (repo.ErrOutcomeUnknown).
// It works after [Manager.Close] too. Safe for concurrent use.
func (m *Manager) Break(ctx context.Context, name string, optFns ...func(*BreakOptions)) (BreakResult, error) {
	if ctx == nil {
		panic("lease: nil context")
	}
	var o BreakOptions
	for _, f := range optFns {
		if f != nil {
			f(&o)
		}
	}
	if name == "" {
		return BreakResult{}, invalid("empty lease name")
	}
	cur, err := m.st.recs.Get(ctx, repo.Key(name))
	if errors.Is(err, repo.ErrNotFound) {
		return BreakResult{Before: Status{Name: name}}, nil
	}
	if err != nil {
		return BreakResult{}, fmt.Errorf("lease: break %q: %w", name, err)
	}
	res := BreakResult{Before: m.status(cur)}
	if cur.Owner == "" {
		return res, nil // free (perhaps reserved for a waiter): nothing to break
	}
	now := m.st.clock.Now()
	exp := time.Unix(cur.Expires, 0)
	res.Live = now.Before(exp)
	if res.Live && !o.Force {
		return res, &LiveError{Name: name, Owner: cur.Owner, Token: cur.Token,
			Renewed: exp.Add(-cur.duration()), Expires: exp, Left: exp.Sub(now)}
	}

	// The takeover: an acquiring write of this Manager's owner, expired
	// already, so that a second Break after a failed release needs no
	// Force.
	next := cur.taken(m.opts.Owner, cur.duration(), nil)
	next.Expires = now.Unix()
	taken, err := m.breakWrite(ctx, next)
	if err != nil {
		return res, fmt.Errorf("lease: break %q (held by %s, token %d, version %d): takeover not stored: %w",
			name, cur.Owner, cur.Token, cur.Version, err)
	}
	res.After = m.status(taken)

	// The release, from the record the takeover stored.
	freed, err := m.breakWrite(ctx, taken.released(m.st.clock.Now()))
	if err != nil {
		return res, fmt.Errorf("lease: break %q: taken over at token %d (the old holder's token %d is fenced off), but not released: the record stays held by %s, which does not renew it: %w",
			name, taken.Token, cur.Token, m.opts.Owner, err)
	}
	res.Broken, res.After = true, m.status(freed)
	return res, nil
}

// breakWrite stores rec on condition of its version. If the write's
// outcome is unknown, it reads the record, whose stamp tells whether the
// write was stored; if it cannot tell, the error matches
// repo.ErrOutcomeUnknown. A write refused because the record moved returns
// an error matching repo.ErrConflict that names the record's current
// holder and version.
func (m *Manager) breakWrite(ctx context.Context, rec record) (record, error) {
	want := m.st.stamped(rec)
	stored, err := m.st.recs.Save(ctx, want)
	f, cur := learn(stored, err)
	switch f {
	case foundStored:
		return cur, nil
	case foundConflict:
		holder := cur.Owner
		if holder == "" {
			holder = "nobody"
		}
		return record{}, fmt.Errorf("the record changed since it was read (version %d, now %d, held by %s): %w", rec.Version, cur.Version, holder, err)
	case foundMissing:
		return record{}, fmt.Errorf("the record was deleted since it was read: %w", err)
	case foundUnknown:
		got, gerr := m.st.recs.Get(ctx, repo.Key(rec.Name))
		if gerr == nil && got.Stamp == want.Stamp && got.Version == rec.Version+1 {
			return got, nil
		}
		return record{}, fmt.Errorf("outcome unknown; check with Inspect: %w", err)
	}
	return record{}, err
}
