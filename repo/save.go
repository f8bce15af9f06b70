package repo

import (
	"context"
	"reflect"
)

// Save writes item on condition that the stored version is still item's
// version n, stores n+1 and returns item with Version n+1. The write
// replaces every attribute T knows and keeps attributes T does not know.
// A Save of a version-0 item is a [Repository.Create]; with Options.Adopt
// ([Adopting]) it is instead the write of a stored item that has no version
// attribute: conditioned on the item existing without one,
// it stores version 1; a missing item is [ErrNotFound], one stored with a
// version an [ErrConflict].
//
// If the stored version differs, the error matches [ErrConflict] and is a
// [*ConflictError] holding the stored item; if the item is gone, it matches
// [ErrNotFound]. Save does not retry conflicts (use [Repository.Update] for
// that); transient errors are retried under Options.Retry. A write whose
// answer was lost is sent again on the same version, and the item tells
// which of them, if any, was stored; when it cannot tell, the error is
// [ErrOutcomeUnknown]. Save never returns ErrConflict for a conflict with
// its own earlier write. Save blocks until answered; cancelling ctx stops
// it. Safe for concurrent use.
func (r *Repository[T]) Save(ctx context.Context, item T, optFns ...func(*Options)) (T, error) {
	var zero T
	v := reflect.ValueOf(&item).Elem()
	n := r.schema.VersionOf(v)
	o, err := r.begin(ctx, optFns)
	if err != nil {
		return zero, err
	}
	if n == 0 && !o.Adopt {
		return r.create(ctx, "Save", item, optFns)
	}
	next, err := r.schema.Next(n)
	if err != nil {
		return zero, err
	}
	r.schema.SetVersion(v, next)
	p, err := r.plan(kindSave, n, nil, item)
	if err != nil {
		return zero, err
	}
	l := &loop[T]{r: r, o: o, op: "Save", key: p.key, build: fixed(p)}
	return l.run(ctx)
}
