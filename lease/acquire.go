package lease

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ddbocc/ddbocc/internal/turns"
	"github.com/ddbocc/ddbocc/repo"
)

// TryAcquire makes one attempt to acquire name. A missing or free record is
// taken; a record held by another owner is taken over only if this Manager
// has already watched its version stay unchanged for a full lease duration
// (or, with Options.MaxClockSkew, its stored expiry is long past).
// Otherwise it returns an error matching [ErrHeld], a [*HeldError] naming
// the holder. A name held by another goroutine of this Manager is also
// ErrHeld. If the acquiring write's outcome is unknown, the error matches
// repo.ErrOutcomeUnknown; the next TryAcquire or Acquire of the name
// through this Manager recognises the record if it was stored and takes it
// again at once. TryAcquire blocks for one or two requests; cancelling ctx
// stops it, and so does [Manager.Close] (the error then matches
// [ErrClosed]). Safe for concurrent use.
func (m *Manager) TryAcquire(ctx context.Context, name string, optFns ...func(*AcquireOptions)) (*Lease, error) {
	return m.tryAcquire(ctx, name, optFns, nil)
}

// tryAcquire is TryAcquire; read, if not nil, is name's record as the
// caller just read it: the attempt starts from it instead of reading.
func (m *Manager) tryAcquire(ctx context.Context, name string, optFns []func(*AcquireOptions), read *record) (*Lease, error) {
	ao, err := m.begin(ctx, optFns)
	if err != nil {
		return nil, err
	}
	ctx, end, err := m.life.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	start := m.st.clock.Now()
	turn, ok := m.queue.Try(name)
	if !ok {
		return nil, &HeldError{Name: name, Owner: m.opts.Owner}
	}
	l, _, err := m.attempt(ctx, name, ao, start, turn, polling{given: read})
	if err != nil {
		turn.End(handed{})
	}
	return m.life.outcome(ctx, l, err)
}

// Acquire blocks until it holds name, ctx is done (then it returns ctx's
// error) or [Manager.Close] begins (then the error matches [ErrClosed]).
// Goroutines of one Manager waiting for the same name queue locally: one
// polls DynamoDB, and a local release hands the name over at once. A
// record held by another owner is taken over after this Manager has seen
// it unchanged for a full lease duration on its own monotonic clock.
//
// An acquiring write whose outcome is unknown (its response was lost and
// the read that should have told failed too) is not an error: the next
// read recognises the record, if it was stored, as this Manager's (this
// owner, the token it tried to write) and takes it again at once instead
// of waiting a lease duration for its own record. Errors other than
// the record being held (DynamoDB unreachable beyond the Repo retry
// policy, a missing table) are returned. Safe for concurrent use.
func (m *Manager) Acquire(ctx context.Context, name string, optFns ...func(*AcquireOptions)) (*Lease, error) {
	ao, err := m.begin(ctx, optFns)
	if err != nil {
		return nil, err
	}
	ctx, end, err := m.life.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	start := m.st.clock.Now()
	turn, err := m.queue.Wait(ctx, name)
	if err != nil {
		return m.life.outcome(ctx, nil, err)
	}
	l, err := m.poll(ctx, name, ao, start, turn)
	if err != nil {
		turn.End(handed{})
	}
	return m.life.outcome(ctx, l, err)
}

// begin checks ctx and returns the options of one Acquire or TryAcquire.
func (m *Manager) begin(ctx context.Context, fns []func(*AcquireOptions)) (AcquireOptions, error) {
	if ctx == nil {
		panic("lease: nil context")
	}
	return m.opts.acquireOptions(fns)
}

// poll makes attempts, with jittered and doubling delays between them,
// until one acquires name, fails for another reason than the record being
// held, or ctx is done.
func (m *Manager) poll(ctx context.Context, name string, ao AcquireOptions, start time.Time, turn *turns.Turn[handed]) (*Lease, error) {
	delays := m.pollDelays()
	var p polling
	for {
		l, h, err := m.attempt(ctx, name, ao, start, turn, p)
		if err == nil || !busy(err) {
			return l, err
		}
		now := m.st.clock.Now()
		p = p.next(now, errors.Is(err, ErrHeld))
		if err := m.st.sleep(ctx, delays.next(h, now)); err != nil {
			return nil, err
		}
	}
}

// pollDelays is a waiter's delays between polls: from PollInterval,
// doubling up to MaxPollInterval, each jittered, and paced by the holder's
// forecast (pace.go).
type pollDelays struct{ d, max time.Duration }

func (m *Manager) pollDelays() pollDelays {
	return pollDelays{d: m.opts.PollInterval, max: m.opts.MaxPollInterval}
}

// next returns the delay before the next poll after one at now that
// found h, at most h.stale if that is > 0 (when the record read could be
// stale).
func (p *pollDelays) next(h heldInfo, now time.Time) time.Duration {
	d := pace(h.rec, now, p.d)
	if h.stale > 0 && h.stale < d {
		d = h.stale
	}
	p.d = min(2*p.d, p.max)
	return d
}

// busy says whether err means "not now": the record is held or moved, or
// the acquiring write's outcome is unknown.
func busy(err error) bool {
	return errors.Is(err, ErrHeld) || errors.Is(err, repo.ErrConflict) ||
		errors.Is(err, repo.ErrAlreadyExists) || errors.Is(err, repo.ErrOutcomeUnknown)
}

// jitter returns a duration uniformly in [0.8d, 1.2d]: on average d, so a
// waiter settled at MaxPollInterval polls 1/MaxPollInterval times a
// second, and waiters of different processes drift apart.
func jitter(d time.Duration) time.Duration {
	if d < 5 {
		return d
	}
	return d*4/5 + rand.N(d*2/5+1)
}

// attempt reads name's record (or starts from the one a local Release
// handed over) and takes it if it may, once more if the record moved
// meanwhile. A record stored by an earlier acquiring write of this Manager
// whose outcome was unknown is held by no one: no lease was handed out for
// it, so it is taken again at once with a fresh write (this call's token,
// duration and data; its safe time starts now). On ErrHeld it also returns
// what it learned of the holder (heldInfo). turn is the caller's turn on
// name.
func (m *Manager) attempt(ctx context.Context, name string, ao AcquireOptions, start time.Time, turn *turns.Turn[handed], poll polling) (*Lease, heldInfo, error) {
	cur, streak, err := m.current(ctx, name, turn, poll)
	if err != nil {
		return nil, heldInfo{}, err
	}
	unheld := m.names.storedUnsure(name, cur, m.opts.Owner)
	a := take{m: m, ao: ao, start: start, turn: turn, unheld: unheld, streak: streak}
	l, moved, h, err := a.from(ctx, cur, false)
	if moved != nil {
		l, _, h, err = a.from(ctx, *moved, true)
	}
	return l, h, err
}

// heldInfo is what an attempt that found the name held learned: how long
// until the record could be stale (0 if unknown), and the record, whose
// forecast paces the next poll.
type heldInfo struct {
	stale time.Duration
	rec   record
}

// current is name's record as far as the acquiring write needs it, read
// only when it must be:
//   - the record the caller just read (poll.given: Once);
//   - the record the previous local turn handed over, or that the Manager
//     kept from its last Release of the name (keptRecords);
//   - for a name this Manager knows nothing of (no watch, no write of
//     unknown outcome), a missing record: the write creates it, or fails
//     and returns the stored record;
//   - otherwise the stored record, read (a missing record is free at
//     version 0).
//
// A record that moved since is no risk: the write is conditioned on its
// version, and a failed one returns the current record, which is judged in
// turn (take.from). So an uncontended acquire writes at once.
//
// It also returns since when this process has held the name without a
// break, if the record was handed over by a local turn (fair.go).
func (m *Manager) current(ctx context.Context, name string, turn *turns.Turn[handed], poll polling) (record, streak, error) {
	h, wasKept := turn.Take()
	switch {
	case poll.given != nil:
		return *poll.given, streak{}, nil
	case h.rec != nil && wasKept:
		return *h.rec, streak{}, nil
	case h.rec != nil:
		return *h.rec, h.streak, nil
	}
	if !m.names.known(name) {
		return record{Name: name}, streak{}, nil
	}
	cur, err := m.st.read(ctx, name, poll)
	return cur, streak{}, err
}

// take is one attempt of one Acquire or TryAcquire.
type take struct {
	m      *Manager
	ao     AcquireOptions
	start  time.Time // when the call began
	turn   *turns.Turn[handed]
	unheld bool // the record read was left by an acquiring write of this Manager of unknown outcome
	// streak: since when this process has held the name without a break,
	// if a local turn handed it over (zero otherwise).
	streak streak
}

// from judges record cur and, if it may be taken, writes it. It returns
// the lease, or the record to try once more from if cur moved meanwhile
// (unless last), or what it learned of the holder with ErrHeld, or
// another error.
func (a take) from(ctx context.Context, cur record, last bool) (*Lease, *record, heldInfo, error) {
	m, clk := a.m, a.m.st.clock
	seen := clk.Now() // after the read returned
	prior, watched := m.names.recall(cur.Name)
	v, w, wait := judge(sighting{rec: cur, unheld: a.unheld, me: m.opts.Owner, seen: seen, prior: prior, watched: watched}, m.opts.MaxClockSkew)
	if v == waitHeld {
		m.names.note(cur.Name, w, seen, m.keep(cur.duration()))
		return nil, nil, heldInfo{stale: wait, rec: cur}, heldBy(cur)
	}
	next := cur.taken(m.opts.Owner, a.ao.Duration, a.ao.Data)
	sent := clk.Now()
	next = m.st.sending(next, sent, a.ao.Duration)
	stored, err := m.st.save(ctx, next)
	f, got := learn(stored, err)
	switch afterTake(f, got, last) {
	case took:
		if stored.Token != stored.Version { // cannot happen: Save stores Version+1
			return nil, nil, heldInfo{}, fmt.Errorf("lease: %q stored token %d at version %d", cur.Name, stored.Token, stored.Version)
		}
		return m.acquired(stored, a, sent, v == takeOver), nil, heldInfo{}, nil
	case takeAgain:
		if f == foundMissing { // deleted since it was read (TTL, or by hand): create it
			got = record{Name: cur.Name}
		}
		return nil, &got, heldInfo{}, nil // freed since it was read: take what the write found
	case takeHeld:
		return nil, nil, heldInfo{rec: got}, heldBy(got) // someone else wrote first
	case takeUnsure:
		m.names.addUnsure(cur.Name, next.Token, sent, m.keep(a.ao.Duration))
	}
	return nil, nil, heldInfo{}, err
}

// keep is how long the Manager remembers a name no one looks at, for a
// record of duration d.
func (m *Manager) keep(d time.Duration) time.Duration { return 2*d + m.opts.MaxPollInterval }

// acquired starts the lease of stored record rec, whose acquiring write was
// sent at sent, holds it among the Manager's leases (for Close), and tells
// the observer. The lease keeps a.turn until it ends.
func (m *Manager) acquired(rec record, a take, sent time.Time, takeover bool) *Lease {
	m.names.forget(rec.Name)
	l := newLease(m.st, rec, m.opts.timing(a.ao.Duration), sent, a.turn, a.streak)
	m.life.add(l)
	if f := m.opts.Observer.Acquired; f != nil {
		f(AcquiredEvent{Name: rec.Name, Token: rec.Token, Takeover: takeover, Waited: m.st.clock.Now().Sub(a.start)})
	}
	return l
}
