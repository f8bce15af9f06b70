package repo

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/ddbocc/ddbocc/versioned"
)

// Update reads the item stored under k (or takes the one this Repository
// kept from its last Update of k: see Options.KeepItems), applies fn to a
// copy and saves it on condition that the version is unchanged. On a conflict it applies fn again
// to the item the failed write returned (ALL_OLD: no extra read), after the
// backoff of Options.Retry, until a write succeeds or the policy is spent.
// It returns the stored item with its new version.
//
// fn may run several times and must only change the item it is given; each
// run gets a fresh copy. An error from fn stops Update with no write and is
// returned so that errors.Is finds it. fn returning [NoChange] skips the
// write: Update returns the current item and nil. Either is returned only
// when fn made it on an item known to be current: made on a kept or
// handed-on item, it is made again on a read (or, in a combined write,
// stands once the write shows the item was current). fn must not change
// the key or the version.
//
// An item stored without the version attribute (by other code) is given to
// fn at version 0 and adopted: the write is conditioned on the item still
// existing without a version and stores version 1 (see [Adopting]).
//
// Errors: [ErrNotFound] if there is no item; after the policy is spent, an
// error matching both [ErrConflict] and retry.ErrExhausted that says how many
// attempts ran; [ErrOutcomeUnknown] when a write's answer was lost and the
// item no longer tells whether it took effect, or it may still land (fn is
// never re-applied in doubt). A write whose answer was lost is sent again
// at once on the same base, so at most one of them can land, and fn runs
// again only once none of them can; see docs/guarantees.md.
//
// Updates of one key through one Repository queue locally (internal/turns)
// and run one at a time; each hands the item it stored to the next, which
// applies its fn to it without reading (see Options.DisableLocalQueue). So
// fn must not call Update for the same key on the same Repository: it
// would wait for itself. Updates that wait together are combined (see
// Options.DisableCombining; only calls without per-call options): the one
// whose turn it is runs their fns in arrival order, each on a fresh copy of
// the state the ones before it left, and stores the result in one write.
// Each caller gets the state right after its own fn, with a version of its
// own; an fn that fails, returns NoChange or would make the item too large
// drops out alone, as does a caller whose ctx ends before its fn runs. A
// caller whose fn is in a write gets that write's outcome, even if its ctx
// ends meanwhile; the write goes on while any caller of it still waits.
// Update blocks until done; cancelling ctx stops it between attempts
// and abandons a request in flight. Safe for concurrent use.
func (r *Repository[T]) Update(ctx context.Context, k ItemKey, fn func(*T) error, optFns ...func(*Options)) (T, error) {
	var zero T
	if fn == nil {
		return zero, invalid("Update with a nil fn")
	}
	o, key, err := r.beginKey(ctx, k, optFns)
	if err != nil {
		return zero, err
	}
	if !o.DisableLocalQueue && !o.DisableCombining && len(optFns) == 0 {
		// Only calls with the repository's options are combined: one
		// write goes out under one set of options (guards, retry policy).
		return r.updateCombined(ctx, o, key, fn)
	}
	l := &loop[T]{r: r, o: o, op: "Update", key: key, read: true, retryConflicts: true}
	l.build = func(cur versioned.Item, _ bool) (*plan[T], error) { return r.planUpdate(l.key, cur, fn) }
	return r.runQueued(ctx, l)
}

// runQueued runs l in its turn in the local queue of its key, starting
// from the item the previous turn handed on, if any, and hands on the item
// it stored; without the queue (Options.DisableLocalQueue) it just runs l.
func (r *Repository[T]) runQueued(ctx context.Context, l *loop[T]) (T, error) {
	if l.o.DisableLocalQueue {
		return l.run(ctx)
	}
	turn, err := r.queue.Wait(ctx, FormatKey(l.key))
	if err != nil {
		var zero T
		return zero, fmt.Errorf("repo: waiting for a local Update of the same item: %w", err)
	}
	h := taken(turn)
	h.wait(ctx)
	l.base(h)
	l.rivals = true
	t, err := l.run(ctx)
	turn.EndWith(l.handoff(h, err))
	return t, err
}

// planUpdate applies fn to a copy of the stored item cur and plans its
// save; fn said NoChange: a plan that skips the write.
func (r *Repository[T]) planUpdate(key, cur versioned.Item, fn func(*T) error) (*plan[T], error) {
	s := r.schema
	t, err := r.decode(cur)
	if err != nil {
		return nil, err
	}
	v := reflect.ValueOf(&t).Elem()
	n := s.VersionOf(v)
	if err := fn(&t); err != nil {
		if errors.Is(err, NoChange) {
			t, err = r.decode(cur)
			return &plan[T]{skip: true, value: t}, err
		}
		return nil, err
	}
	if s.VersionOf(v) != n {
		return nil, invalid("Update fn changed the version of %s %s from %d to %d", r.table, FormatKey(key), n, s.VersionOf(v))
	}
	next, err := s.Next(n)
	if err != nil {
		return nil, err
	}
	s.SetVersion(v, next)
	p, err := r.plan(kindSave, n, cur, t)
	if err != nil {
		return nil, err
	}
	if !sameKey(p.key, key) {
		return nil, invalid("Update fn changed the key of %s %s to %s", r.table, FormatKey(key), FormatKey(p.key))
	}
	return p, nil
}

func sameKey(a, b versioned.Item) bool {
	return len(a) == len(b) && FormatKey(a) == FormatKey(b)
}
