package repo

import (
	"context"
	"reflect"
	"strconv"

	"github.com/ddbocc/ddbocc/versioned"
)

// Overwrite is the escape hatch: it stores item with no condition at all,
// creating it or replacing every attribute T knows, whatever version is
// stored. It still moves the stored version on by one (from 0 if none), so
// that optimistic writers holding an older copy get a conflict instead of
// silently undoing it; item's own version is ignored, and the returned item
// carries the new one.
//
// Overwrite can undo concurrent updates: use it for imports, repairs and
// tests, not in place of [Repository.Save]. It takes no [Guard]: a guarded
// write is a Save (or Update) with the guard, and Overwrite refuses one
// with ErrInvalidArgument rather than write unguarded. It blocks for one request (the
// SDK retries transient errors; a replay stores the same attributes and
// moves the version once more). Safe for concurrent use.
func (r *Repository[T]) Overwrite(ctx context.Context, item T, optFns ...func(*Options)) (T, error) {
	var zero T
	o, err := r.begin(ctx, optFns)
	if err != nil {
		return zero, err
	}
	if len(o.Guards) > 0 {
		return zero, invalid("Overwrite %s: guards are not checked by an unconditional write; use Save or Update with the guard", r.table)
	}
	s := r.schema
	m, key, err := r.marshalItem(item, true)
	if err != nil {
		return zero, err
	}
	b, err := r.newWrite(kindOverwrite, key, 0, nil, m).build()
	if err != nil {
		return zero, err
	}
	stored, err := b.sendOne(ctx, r.client)
	if err != nil {
		return zero, r.apiErr(err)
	}
	n, err := s.StoredVersion(stored)
	if err != nil {
		return zero, err
	}
	if n > s.MaxVersion() {
		return zero, versionErr(s, n)
	}
	s.SetVersion(reflect.ValueOf(&item).Elem(), n)
	return item, nil
}

func versionErr(s *versioned.Schema, n int64) error {
	return invalid("stored version %s does not fit %s.%s", strconv.FormatInt(n, 10), s.Type(), s.VersionField())
}
