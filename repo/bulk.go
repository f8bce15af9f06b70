package repo

import (
	"context"
	"fmt"
	"reflect"

	"github.com/ddbocc/ddbocc/versioned"
)

// defaultBulkConcurrency is BulkOptions.Concurrency's default.
const defaultBulkConcurrency = 8

// BulkOptions shape one [Repository.SaveAll].
type BulkOptions struct {
	// Concurrency is how many writes are in flight at once. 0 means the
	// default, 8; a negative value is refused.
	Concurrency int
	// WriteOptions change the repository's Options for each write of the
	// call, as the optFns of [Repository.Save] do (Retry, Guards, ...).
	// They are applied and validated once, before any request. Default:
	// none.
	WriteOptions []func(*Options)
}

// ItemResult is the outcome of one item's write in [Repository.SaveAll]. It
// is a plain value, safe to read from several goroutines.
type ItemResult[T any] struct {
	// Item is the item as stored, with its new version; the zero T when
	// Err is not nil.
	Item T
	// Err is nil when the item was stored, else what [Repository.Save]
	// returns for it: an error matching [ErrConflict] (a [*ConflictError]
	// with the stored item), [ErrAlreadyExists] for a version-0 item whose
	// key is taken, [ErrNotFound], [ErrOutcomeUnknown], ... or
	// [ErrNotSent] when ctx was done before its write was sent.
	Err error
}

// SaveAll writes items, each as [Repository.Save] would with
// BulkOptions.WriteOptions: an item at version n > 0 is written on
// condition that version n is still stored and is stored at n+1; an item
// at version 0 is created at version 1 on condition that its key is free.
// Up to BulkOptions.Concurrency writes are in flight at once:
//
//	results, err := accounts.SaveAll(ctx, items)
//	if err != nil { return err } // bad input, or ctx done
//	for i, res := range results {
//	    if errors.Is(res.Err, repo.ErrConflict) { ... } // items[i] was stale
//	}
//
// The result has one position per item, in the order of items. Each write
// is a single Save, with its own write id: a lost response is resolved,
// never applied twice, and reported as [ErrOutcomeUnknown] when it cannot
// be told; transient errors are retried under Options.Retry, conflicts are
// not (read the current items and save again, or use [Repository.Update]
// per item).
//
// There is no atomicity across items: each write succeeds or fails on its
// own, and a failure does not stop or undo the others (use [Transact] for
// up to [MaxTxOps] items that must be stored together). Cost: one write
// per item, as for as many Saves (1 write unit per KB of item, rounded up),
// plus its retries; a write refused by its condition consumes write units
// too. DynamoDB's BatchWriteItem is not used: it cannot carry a condition.
//
// Bad input is refused with an error matching [ErrInvalidArgument] and nil
// results, before any request is sent: two items with the same key, an
// item with an invalid key, too large, or at the largest version its field
// holds, a negative Concurrency, or bad WriteOptions. Otherwise SaveAll
// returns every item's result and a nil error, or, when ctx is done before
// every write has finished, the results with ctx's error: items whose
// writes had not been sent have [ErrNotSent] (nothing of them is stored),
// items in flight have what their Save returned. SaveAll blocks until
// every write has finished. Safe for concurrent use.
func (r *Repository[T]) SaveAll(ctx context.Context, items []T, optFns ...func(*BulkOptions)) ([]ItemResult[T], error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	o := BulkOptions{Concurrency: defaultBulkConcurrency}
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Concurrency < 0 {
		return nil, invalid("BulkOptions.Concurrency is %d, want 0 (the default) or more", o.Concurrency)
	}
	if o.Concurrency == 0 {
		o.Concurrency = defaultBulkConcurrency
	}
	if _, err := r.options(o.WriteOptions); err != nil {
		return nil, fmt.Errorf("%w (in BulkOptions.WriteOptions)", err)
	}
	if err := r.checkBulk(items); err != nil {
		return nil, err
	}
	results := make([]ItemResult[T], len(items))
	sent := make([]bool, len(items)) // each write sets only its own
	_ = runChunks(ctx, len(items), 1, o.Concurrency, func(ctx context.Context, i, _ int) error {
		sent[i] = true
		results[i].Item, results[i].Err = r.Save(ctx, items[i], o.WriteOptions...)
		return nil
	})
	if err := ctx.Err(); err != nil {
		cause, cut := checkCtx(ctx), false
		for i, res := range results {
			if !sent[i] {
				results[i].Err, cut = fmt.Errorf("%w: %s: %w", ErrNotSent, r.table, cause), true
			} else if res.Err != nil {
				cut = true // a write cut short by ctx
			}
		}
		if cut {
			return results, cause
		}
	}
	return results, nil
}

// checkBulk refuses, naming their indexes, items that Save would refuse
// without sending (an invalid key, too large, a version that cannot move
// on) and two items with the same key.
func (r *Repository[T]) checkBulk(items []T) error {
	s := r.schema
	seen := make(map[string]int, len(items))
	for i, item := range items {
		v := reflect.ValueOf(&item).Elem()
		next, err := s.Next(s.VersionOf(v))
		if err != nil {
			return invalid("SaveAll: item %d: %w", i, err)
		}
		s.SetVersion(v, next) // the size Save checks is the item's at its new version
		m, err := s.Marshal(item)
		if err == nil {
			err = s.CheckSize(m)
		}
		var key versioned.Item
		if err == nil {
			key, err = s.KeyOf(m)
		}
		if err != nil {
			return invalid("SaveAll: item %d: %w", i, err)
		}
		k := keyIdentity(key)
		if j, ok := seen[k]; ok {
			return invalid("SaveAll: items %d and %d have the same key %s", j, i, FormatKey(key))
		}
		seen[k] = i
	}
	return nil
}
