package repo

import (
	"context"

	"github.com/ddbocc/ddbocc/versioned"
)

// Upsert is [Repository.Update] that creates the item when none is stored
// under k: fn is then given the zero T with the key fields set (version 0),
// and its result is created at version 1 on condition that no item exists
// (as by [Repository.Create]). If one exists, the failed create returns it
// (ALL_OLD) and fn runs again on it: from there on a normal versioned
// update, retried on conflicts like Update. If the item is deleted while
// Upsert updates it, fn runs again on a zero item and Upsert creates it
// anew. An item stored without a version attribute is adopted as by Update
// (see [Adopting]). It returns the stored item with its new version.
//
// Requests: a key the Repository knows nothing about is assumed missing,
// so Upsert sends the create at once, without reading: one request when
// the item is missing, two (a failed create and an update) when it exists.
// A key whose item the Repository kept from its last Update or Upsert
// (Options.KeepItems) or that a waiting Update hands on is updated at once
// on that item. Prefer Update when the item usually exists and is not
// kept: its read costs less than a failed write.
//
// fn may run several times and must only change the item it is given,
// never its key or version (ErrInvalidArgument). An error from fn stops
// Upsert with no write and is returned. fn returning [NoChange] skips the
// write: on a stored item Upsert returns it; on a missing one it returns
// the zero T with the key fields set at version 0 ("not stored") and a nil
// error. A decision that writes nothing (an error or NoChange) is returned
// only when fn made it on an item known to be current: made on the assumed
// missing item, or on a kept one, it is made again on a read.
//
// No double apply: a create whose answer was lost is never sent again; it
// is looked for by its write id, which stays with the item under version 1
// (see [Repository.Create]). If another writer's item is found instead,
// the create may still land once that item is deleted, so Upsert returns
// [ErrOutcomeUnknown] rather than apply fn to that item. Updates after the
// create settle lost answers as Update does.
//
// Upserts take their turn in the local queue of the key like Updates and
// hand on the item they stored, but are never combined with other Updates
// (each Upsert writes on its own turn), so neither are Updates with
// per-call options. Errors and blocking as for Update; never ErrNotFound.
// Safe for concurrent use.
func (r *Repository[T]) Upsert(ctx context.Context, k ItemKey, fn func(*T) error, optFns ...func(*Options)) (T, error) {
	var zero T
	if fn == nil {
		return zero, invalid("Upsert with a nil fn")
	}
	o, key, err := r.beginKey(ctx, k, optFns)
	if err != nil {
		return zero, err
	}
	l := &loop[T]{r: r, o: o, op: "Upsert", key: key, read: true, create: true, retryConflicts: true}
	l.build = func(cur versioned.Item, _ bool) (*plan[T], error) { return r.planUpsert(key, cur, fn) }
	// Nothing known: assume no item is stored, without confirming it
	// (stale): a create's condition checks the assumption, and a decision
	// that writes nothing is made again on a read (loop.prepare).
	l.cur, l.known, l.stale = nil, true, true
	return r.runQueued(ctx, l)
}

// planUpsert plans fn's write on the stored item cur: an update, or, with
// none stored, the create of fn's result on the zero T with key set.
func (r *Repository[T]) planUpsert(key, cur versioned.Item, fn func(*T) error) (*plan[T], error) {
	if cur != nil {
		return r.planUpdate(key, cur, fn)
	}
	// The key alone decodes to the zero T with the key fields set.
	p, err := r.planUpdate(key, key, fn)
	if err != nil || p.skip {
		return p, err
	}
	p.write = r.newWrite(kindCreate, p.key, 0, nil, p.item)
	return p, nil
}
