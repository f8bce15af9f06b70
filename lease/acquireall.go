package lease

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/ddbocc/ddbocc/internal/turns"
	"github.com/ddbocc/ddbocc/repo"
)

// MaxAcquireAll is the most names one [Manager.AcquireAll] takes: the
// operations of one DynamoDB transaction.
const MaxAcquireAll = repo.MaxTxOps

// AcquireAll blocks until it holds every one of names, or ctx is done (then
// it returns ctx's error). The names are taken together, in one
// transaction: all of them or none, so two callers that want overlapping
// sets never hold part of what the other waits for, and there is nothing
// to deadlock on, in one process or across processes. Each name gets its
// own [Lease], with its own token and heartbeat, returned in the order of
// names; release each (or use [Manager.Close]).
//
// Each attempt reads the records in one consistent snapshot
// (TransactGetItems) and judges each like [Manager.TryAcquire]: free or
// missing records are taken, held ones taken over only once this Manager
// has seen them unchanged for a full duration. If any is held, nothing is
// written and the call polls again later. While it waits it holds none of
// the names locally either: a goroutine of this Manager that holds or
// waits for one of them is not blocked by it (it retries after the
// PollInterval backoff).
//
// An empty name, a name given twice, no names or more than
// [MaxAcquireAll] are errors matching [ErrInvalidArgument] before any
// request. [Manager.Close] ends a waiting AcquireAll with [ErrClosed]. A commit whose outcome stays unknown is not an error: the next
// attempt recognises the records it stored as this Manager's and takes
// them again at once. Safe for concurrent use.
func (m *Manager) AcquireAll(ctx context.Context, names []string, optFns ...func(*AcquireOptions)) ([]*Lease, error) {
	ao, err := m.begin(ctx, optFns)
	if err != nil {
		return nil, err
	}
	sorted, err := checkNames(names)
	if err != nil {
		return nil, err
	}
	ctx, end, err := m.life.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	all := &takeAll{m: m, ao: ao, start: m.st.clock.Now(), names: sorted}
	leases, err := all.poll(ctx)
	if err != nil {
		_, err = m.life.outcome(ctx, nil, err)
		return nil, err
	}
	if m.life.closing() {
		return nil, ErrClosed // Close releases them
	}
	return inOrder(names, sorted, leases), nil
}

// poll makes attempts, with the delays of Acquire's polls between them,
// until one takes every name, fails for another reason than a record
// being held, or ctx is done.
func (a *takeAll) poll(ctx context.Context) ([]*Lease, error) {
	delays := a.m.pollDelays()
	for {
		leases, wait, err := a.attempt(ctx)
		if err == nil || !busy(err) {
			return leases, err
		}
		if err := a.m.st.sleep(ctx, delays.next(heldInfo{stale: wait}, a.m.st.clock.Now())); err != nil {
			return nil, err
		}
	}
}

// checkNames returns names sorted, or the reason they cannot be taken
// together.
func checkNames(names []string) ([]string, error) {
	switch {
	case len(names) == 0:
		return nil, invalid("AcquireAll of no names")
	case len(names) > MaxAcquireAll:
		return nil, invalid("AcquireAll of %d names, over the %d of one transaction", len(names), MaxAcquireAll)
	}
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	for i, n := range sorted {
		if n == "" {
			return nil, invalid("AcquireAll with an empty name")
		}
		if i > 0 && n == sorted[i-1] {
			return nil, invalid("AcquireAll with %q twice", n)
		}
	}
	return sorted, nil
}

// inOrder returns the leases of sorted (in its order) in the order of
// names.
func inOrder(names, sorted []string, leases []*Lease) []*Lease {
	out := make([]*Lease, len(names))
	for i, n := range names {
		j, _ := slices.BinarySearch(sorted, n)
		out[i] = leases[j]
	}
	return out
}

// takeAll is one AcquireAll call.
type takeAll struct {
	m     *Manager
	ao    AcquireOptions
	start time.Time
	names []string // sorted
}

// attempt takes every name in one transaction, or none. It returns the
// leases in the order of a.names; with ErrHeld, how long until a held
// record could be stale (0 if unknown).
func (a *takeAll) attempt(ctx context.Context) ([]*Lease, time.Duration, error) {
	m := a.m
	local, busyName := a.tryTurns()
	if local == nil {
		return nil, 0, &HeldError{Name: busyName, Owner: m.opts.Owner}
	}
	var recs []record
	var over []bool
	var wait time.Duration
	var sent time.Time
	err := repo.Transact(ctx, m.client, func(tx *repo.Tx) error {
		var held error
		recs, over, wait, held = a.judgeAll(tx)
		if held != nil {
			return held // nothing staged: nothing written
		}
		sent = m.st.clock.Now()
		for i := range recs {
			recs[i] = m.st.stamped(m.st.sending(recs[i], sent, a.ao.Duration))
			if err := a.stage(tx, &recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, repo.ErrOutcomeUnknown) {
			for _, r := range recs {
				m.names.addUnsure(r.Name, r.Token, sent, m.keep(a.ao.Duration))
			}
		}
		for _, t := range local {
			t.End(handed{})
		}
		return nil, wait, err
	}
	leases := make([]*Lease, len(recs))
	for i, r := range recs {
		leases[i] = m.acquired(r, take{m: m, ao: a.ao, start: a.start, turn: local[i]}, sent, over[i])
	}
	return leases, 0, nil
}

// tryTurns takes this Manager's local turn on every name, or none (it
// never waits for one while holding another): then it returns the name
// another goroutine of this Manager holds or waits for.
func (a *takeAll) tryTurns() ([]*turns.Turn[handed], string) {
	local := make([]*turns.Turn[handed], 0, len(a.names))
	for _, n := range a.names {
		t, ok := a.m.queue.Try(n)
		if !ok {
			for _, t := range local {
				t.End(handed{})
			}
			return nil, n
		}
		local = append(local, t)
	}
	return local, ""
}

// judgeAll reads the records in one snapshot and judges each: it returns
// the records to write and whether each is a takeover, or the HeldError of
// the first held one (after noting the watch of every held one) and how
// long until one could be stale.
func (a *takeAll) judgeAll(tx *repo.Tx) (next []record, over []bool, wait time.Duration, held error) {
	m := a.m
	keys := make([]repo.ItemKey, len(a.names))
	for i, n := range a.names {
		keys[i] = repo.Key(n)
	}
	cur, found, err := m.st.recs.TxGetMany(tx, keys...)
	if err != nil {
		return nil, nil, 0, err
	}
	seen := m.st.clock.Now()
	for i, n := range a.names {
		c := cur[i]
		if !found[i] {
			c = record{Name: n}
		}
		unheld := m.names.storedUnsure(n, c, m.opts.Owner)
		prior, watched := m.names.recall(n)
		v, w, wt := judge(sighting{rec: c, unheld: unheld, me: m.opts.Owner, seen: seen, prior: prior, watched: watched}, m.opts.MaxClockSkew)
		if v == waitHeld {
			m.names.note(n, w, seen, m.keep(c.duration()))
			if held == nil || wt < wait {
				wait = wt
			}
			if held == nil {
				held = heldBy(c)
			}
			continue
		}
		next, over = append(next, c.taken(m.opts.Owner, a.ao.Duration, a.ao.Data)), append(over, v == takeOver)
	}
	return next, over, wait, held
}

// stage stages the acquiring write of r: a create of a missing record, a
// save of a stored one.
func (a *takeAll) stage(tx *repo.Tx, r *record) error {
	if r.Version == 0 {
		return a.m.st.recs.TxCreate(tx, r)
	}
	return a.m.st.recs.TxSave(tx, r)
}
