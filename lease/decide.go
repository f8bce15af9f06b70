package lease

import (
	"errors"
	"fmt"
	"time"

	"github.com/ddbocc/ddbocc/repo"
)

// The decisions of acquiring, renewing and releasing, as pure functions of
// what was seen: the I/O around them (acquire.go, heartbeat.go,
// release.go) reads or writes, sorts the answer with [learn] and acts on
// the verdict.

// found is what one write of a record, or the read after a write of
// unknown outcome, told about the record.
type found int

const (
	foundStored   found = iota // the write was stored: the record is what it stored
	foundConflict              // the write was refused: the record is the current one (ALL_OLD)
	foundMissing               // the record does not exist
	foundUnknown               // the write may or may not have been stored (repo.ErrOutcomeUnknown)
	foundFailed                // nothing learned: another error
	foundRead                  // read after a write of unknown outcome: the record is what was read
)

// learn sorts the result of a write of a record.
func learn(stored record, err error) (found, record) {
	var ce *repo.ConflictError[record]
	switch {
	case err == nil:
		return foundStored, stored
	case errors.As(err, &ce):
		return foundConflict, ce.Current
	case errors.Is(err, repo.ErrNotFound):
		return foundMissing, record{}
	case errors.Is(err, repo.ErrOutcomeUnknown):
		return foundUnknown, record{}
	}
	return foundFailed, record{}
}

// holder is a lease as its records show it: this owner and this token.
// Only the lease's own writes leave both in a record.
type holder struct {
	owner string
	token int64
}

func (h holder) holds(r record) bool { return r.Owner == h.owner && r.Token == h.token }

// lostTo is the loss of a lease to stored record cur, which is not the
// lease's.
func lostTo(cur record) *LostError {
	if cur.Owner == "" {
		return &LostError{Reason: ReleasedElsewhere}
	}
	return &LostError{Reason: TakenOver, Owner: cur.Owner}
}

// heldBy is the ErrHeld of held record r.
func heldBy(r record) *HeldError {
	return &HeldError{Name: r.Name, Owner: r.Owner, Token: r.Token, Expires: time.Unix(r.Expires, 0), Data: r.Data}
}

// Acquiring.

// watch is a held record as first seen by this process: the write that
// stored it, and when (monotonic, after the read returned).
type watch struct {
	write written
	since time.Time
}

// written names the write that stored a record: its version, owner, token
// and stamp. The version alone does not: a record deleted (by hand, or by
// its TTL) and created anew starts again at version 1.
type written struct {
	version int64
	owner   string
	token   int64
	stamp   string
}

func writtenAs(r record) written {
	return written{version: r.Version, owner: r.Owner, token: r.Token, stamp: r.Stamp}
}

// sighting is a record as an acquirer read it.
type sighting struct {
	rec    record
	unheld bool      // stored by one of this Manager's acquiring writes of unknown outcome: held by no lease
	me     string    // this Manager's owner id
	seen   time.Time // after the read returned (monotonic and wall clock)
	// prior is this Manager's earlier watch of the name; watched is false
	// if it has none.
	prior   watch
	watched bool
}

// verdict is what an acquirer does with a record it read.
type verdict int

const (
	waitHeld verdict = iota // held by another owner: read again later
	takeFree                // free, missing, or left by this Manager's own unknown write: write it
	takeOver                // held by an owner that stopped renewing: write it
)

// judge decides what to do with sighting s. A held record is taken over
// once this Manager has seen it unchanged (the same write: version, owner,
// token and stamp) for the holder's full duration, or, with skew > 0, at
// once if its stored expiry (the holder's wall clock) is older than
// s.seen's wall clock minus skew. A free record reserved for another owner
// (fair.go) is judged like a held one, for the reservation's duration. For
// waitHeld, it also returns the watch to keep and how long until the
// record could be stale.
func judge(s sighting, skew time.Duration) (verdict, watch, time.Duration) {
	cur := s.rec
	if cur.Owner == "" && !cur.reservedElse(s.me) || s.unheld {
		return takeFree, watch{}, 0
	}
	if skew > 0 && cur.Owner != "" && time.Unix(cur.Expires, 0).Before(s.seen.Add(-skew)) {
		return takeOver, watch{}, 0
	}
	hold := cur.holdFor()
	if !s.watched || s.prior.write != writtenAs(cur) {
		return waitHeld, watch{write: writtenAs(cur), since: s.seen}, hold
	}
	if el := s.seen.Sub(s.prior.since); el < hold {
		return waitHeld, s.prior, hold - el
	}
	return takeOver, watch{}, 0
}

// taking is what an acquirer does after its acquiring write.
type taking int

const (
	took       taking = iota // stored: the lease is ours
	takeAgain                // the record moved since it was read, or was not read: judge what the write found, and write again if it may
	takeHeld                 // another owner wrote first: ErrHeld
	takeUnsure               // outcome unknown: remember the token, report the error
	takeFailed               // report the error
)

// afterTake decides what an acquiring write's result f, with record cur,
// calls for. last is true for a write that was itself a takeAgain: it gets no
// further one.
func afterTake(f found, cur record, last bool) taking {
	switch {
	case f == foundStored:
		return took
	case f == foundConflict && !last:
		return takeAgain
	case f == foundConflict:
		return takeHeld
	case f == foundMissing && !last:
		return takeAgain
	case f == foundUnknown:
		return takeUnsure
	}
	return takeFailed
}

// Renewing.

// renewal is what a holder does after a renewal.
type renewal int

const (
	renewed     renewal = iota // stored
	renewBehind                // an earlier renewal of unknown outcome was stored: go on from the record; retry soon
	renewLost                  // another owner's, freed or deleted: the lease is lost
	renewSoon                  // transient: retry soon, bounded by the safe time
)

// afterRenew decides what a renewal's result f, with record cur, calls for,
// for lease h; for renewLost, it also returns why.
func afterRenew(f found, cur record, h holder) (renewal, *LostError) {
	switch {
	case f == foundStored:
		return renewed, nil
	case f == foundConflict && h.holds(cur):
		return renewBehind, nil
	case f == foundConflict:
		return renewLost, lostTo(cur)
	case f == foundMissing:
		return renewLost, &LostError{Reason: ReleasedElsewhere}
	}
	return renewSoon, nil
}

// Releasing.

// release is what a releaser does after its write (and the read after it,
// if its outcome was unknown).
type release int

const (
	releaseDone    release = iota // the record is free: done
	releaseAgain                  // still this lease's at a later version (a renewal of unknown outcome was stored): release from it
	releaseLost                   // another owner's, or freed or deleted by someone else: the lease was lost
	releaseUnknown                // cannot tell: the lease stops and expires; report the error
)

// afterRelease decides what a release write's result f, with record cur,
// calls for, for lease h; retried is true for a write that was itself a
// releaseAgain. For releaseLost, it also returns why the lease was lost. A read that
// finds the record free takes it as this release's write (the write ids
// could not tell: another owner's acquiring write replaces them).
func afterRelease(f found, cur record, h holder, retried bool) (release, *LostError) {
	switch {
	case f == foundStored, f == foundRead && cur.Owner == "":
		return releaseDone, nil
	case (f == foundConflict || f == foundRead) && h.holds(cur) && !retried:
		return releaseAgain, nil
	case f == foundConflict, f == foundRead && !h.holds(cur):
		return releaseLost, lostTo(cur)
	case f == foundMissing:
		return releaseLost, &LostError{Reason: ReleasedElsewhere}
	}
	return releaseUnknown, nil
}

// storedUnsure reports whether cur was stored by one of the acquiring
// writes of tokens (this Manager's, owner, whose outcome was unknown). Such
// a write leaves the record with this owner and Token and Version both the
// token; no other write leaves that state (a lease of this Manager lost
// earlier has a smaller token). It also returns the tokens that may still
// be stored: those cur's version has not reached, none if cur is one of
// them.
func storedUnsure(tokens []int64, cur record, owner string) (bool, []int64) {
	var kept []int64
	for _, token := range tokens {
		if cur.Owner == owner && cur.Token == token && cur.Version == token {
			return true, nil
		}
		if token > cur.Version {
			kept = append(kept, token)
		}
	}
	return false, kept
}

// Completion marks.

// withMark is rec carrying the completion mark of lease h, stored at now
// (wall clock).
func withMark(rec record, h holder, now time.Time) record {
	rec.DoneBy, rec.DoneToken, rec.DoneAt = h.owner, h.token, now.UnixMilli()
	return rec
}

// marked reports whether r carries h's completion mark.
func (h holder) marked(r record) bool {
	return r.done() && r.DoneBy == h.owner && r.DoneToken == h.token
}

// doneOf is the ErrDone of r's completion mark, nil if r has none: what
// [Manager.Once] returns, without running its function, for a name whose
// record it read (or acquired) marked done.
func doneOf(r record) *DoneError {
	if !r.done() {
		return nil
	}
	return &DoneError{Name: r.Name, By: r.DoneBy, Token: r.DoneToken, At: r.doneAt()}
}

// afterReleaseDone decides, like afterRelease, what the result of a release
// write that also stores lease h's completion mark calls for. A read after
// a write of unknown outcome that finds the record free counts as this
// write only if it carries h's mark: every later write of the record
// copies the mark, so a free record without it was freed by another
// owner's lease, and this one was lost.
func afterReleaseDone(f found, cur record, h holder, retried bool) (release, *LostError) {
	if f == foundRead && cur.Owner == "" && !h.marked(cur) {
		return releaseLost, &LostError{Reason: ReleasedElsewhere}
	}
	return afterRelease(f, cur, h, retried)
}

// markResult is what [Lease.ReleaseDone] returns once the lease's release
// write has run, by this call or an earlier Release or ReleaseDone: nil if
// the record the lease last stored carries its mark; otherwise an error
// matching ErrLost (the lease is no longer held, so it cannot store the
// mark): the [*LostError] of a loss, or, after a plain Release, one that
// also matches ErrReleased. ended is the lease's Err, last the record it
// last stored.
func markResult(name string, h holder, ended error, last record) error {
	switch {
	case errors.Is(ended, ErrReleased) && h.marked(last):
		return nil
	case errors.Is(ended, ErrReleased):
		return fmt.Errorf("lease: completion mark of %q token %d not stored: %w: %w by an earlier Release", name, h.token, ErrLost, ended)
	case ended == nil: // cannot happen: the release write ends the lease
		return fmt.Errorf("lease: completion mark of %q token %d not stored: lease still held", name, h.token)
	}
	return fmt.Errorf("lease: completion mark of %q token %d: %w", name, h.token, ended)
}
