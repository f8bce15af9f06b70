package repo

import (
	"context"
	"reflect"

	"github.com/ddbocc/ddbocc/versioned"
)

// Create stores item, which must not exist yet, at version 1, and returns
// it with Version set to 1. item's version must be 0 ("never stored").
// If an item is stored under the key, the error matches
// [ErrAlreadyExists] and is a [*ConflictError] holding the stored item.
//
// Create blocks until the write is answered; transient errors are retried
// under Options.Retry, and a lost response is resolved by reading the item
// (see [ErrOutcomeUnknown]). Cancelling ctx stops it. Safe for concurrent
// use.
func (r *Repository[T]) Create(ctx context.Context, item T, optFns ...func(*Options)) (T, error) {
	return r.create(ctx, "Create", item, optFns)
}

func (r *Repository[T]) create(ctx context.Context, op string, item T, optFns []func(*Options)) (T, error) {
	var zero T
	o, err := r.begin(ctx, optFns)
	if err != nil {
		return zero, err
	}
	s := r.schema
	v := reflect.ValueOf(&item).Elem()
	if n := s.VersionOf(v); n != 0 {
		return zero, invalid("%s of %s at version %d: a new item has version 0 (use Save to update)", op, s.Type(), n)
	}
	s.SetVersion(v, 1)
	p, err := r.plan(kindCreate, 0, nil, item)
	if err != nil {
		return zero, err
	}
	l := &loop[T]{r: r, o: o, op: op, key: p.key, build: fixed(p)}
	return l.run(ctx)
}

// plan plans a write of item (its version already set to the new one)
// based on the stored item old (nil when not known) at version base,
// checking its key and size.
func (r *Repository[T]) plan(kind writeKind, base int64, old versioned.Item, item T) (*plan[T], error) {
	m, key, err := r.marshalItem(item, true)
	if err != nil {
		return nil, err
	}
	return &plan[T]{write: r.newWrite(kind, key, base, old, m), value: item}, nil
}

// marshalItem marshals item and extracts its key, checking its size when
// the item is to be written.
func (r *Repository[T]) marshalItem(item T, checkSize bool) (m, key versioned.Item, err error) {
	if m, err = r.schema.Marshal(item); err != nil {
		return nil, nil, invalidItem(err)
	}
	if checkSize {
		if err := r.schema.CheckSize(m); err != nil {
			return nil, nil, err
		}
	}
	if key, err = r.schema.KeyOf(m); err != nil {
		return nil, nil, invalidItem(err)
	}
	return m, key, nil
}

func invalidItem(err error) error { return invalid("%w", err) }
