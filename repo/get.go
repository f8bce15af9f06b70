package repo

import (
	"context"

	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

// Get reads the item stored under k: strongly consistent unless
// Options.EventuallyConsistent is set. It returns an error matching
// [ErrNotFound] when there is none. An item stored without the version
// attribute (by other code) reads at version 0 (see [Adopting]). Transient
// errors (throttling, 5xx, timeouts) are retried under Options.Retry. Get
// blocks until answered; cancelling ctx abandons it. Safe for concurrent
// use.
func (r *Repository[T]) Get(ctx context.Context, k ItemKey, optFns ...func(*Options)) (T, error) {
	var zero T
	o, key, err := r.beginKey(ctx, k, optFns)
	if err != nil {
		return zero, err
	}
	var item versioned.Item
	err = retry.Do(ctx, o.Retry, func(ctx context.Context, _ int) error {
		item, err = r.getRaw(ctx, key, !o.EventuallyConsistent)
		return err
	}, o.Observer.retries(r.table, "Get"))
	if err != nil {
		return zero, err
	}
	if item == nil {
		return zero, r.notFound(key)
	}
	return r.decode(item)
}
