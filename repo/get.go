package repo

import "context"

// Get reads the item stored under k: strongly consistent unless
// Options.EventuallyConsistent is set. It returns an error matching
// [ErrNotFound] when there is none. Get blocks for one request (the SDK may
// retry it); cancelling ctx abandons it. Safe for concurrent use.
func (r *Repository[T]) Get(ctx context.Context, k ItemKey, optFns ...func(*Options)) (T, error) {
	var zero T
	if err := checkCtx(ctx); err != nil {
		return zero, err
	}
	o, err := r.options(optFns)
	if err != nil {
		return zero, err
	}
	key, err := r.key(k)
	if err != nil {
		return zero, err
	}
	item, err := r.getRaw(ctx, key, !o.EventuallyConsistent)
	if err != nil {
		return zero, err
	}
	if item == nil {
		return zero, r.notFound(key)
	}
	return r.decode(item)
}
