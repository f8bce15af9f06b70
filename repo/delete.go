package repo

import (
	"context"
	"reflect"
)

// Delete removes item on condition that the stored version is still item's
// version. Errors: [ErrConflict] (a [*ConflictError] with the stored item)
// if the version moved on, [ErrNotFound] if nothing is stored, and
// [ErrInvalidArgument] for a version-0 item, which was never stored, unless
// Options.Adopt ([Adopting]) says it was read from a stored item without a
// version attribute: then it is removed on condition that it still has
// none.
// Transient errors are retried under Options.Retry; a lost response is
// resolved by reading the key (an item gone is a success). Delete blocks
// until answered; cancelling ctx stops it. Safe for concurrent use.
func (r *Repository[T]) Delete(ctx context.Context, item T, optFns ...func(*Options)) error {
	o, err := r.begin(ctx, optFns)
	if err != nil {
		return err
	}
	n := r.schema.VersionOf(reflect.ValueOf(&item).Elem())
	if n == 0 && !o.Adopt {
		return invalid("Delete of a %s at version 0: it was never stored (use DeleteKey to delete by key)", r.schema.Type())
	}
	_, key, err := r.marshalItem(item, false)
	if err != nil {
		return err
	}
	p := &plan[T]{write: r.newWrite(kindDelete, key, n, nil, nil)}
	l := &loop[T]{r: r, o: o, op: "Delete", key: key, build: fixed(p)}
	_, err = l.run(ctx)
	return err
}

// DeleteKey removes the item stored under k whatever its version: the
// unconditional delete, for clean-up and for callers that hold no version.
// It returns an error matching [ErrNotFound] if nothing is stored. Blocking,
// retries and concurrency as for [Repository.Delete].
func (r *Repository[T]) DeleteKey(ctx context.Context, k ItemKey, optFns ...func(*Options)) error {
	o, key, err := r.beginKey(ctx, k, optFns)
	if err != nil {
		return err
	}
	p := &plan[T]{write: r.newWrite(kindDeleteKey, key, 0, nil, nil)}
	l := &loop[T]{r: r, o: o, op: "DeleteKey", key: key, build: fixed(p)}
	_, err = l.run(ctx)
	return err
}
