package repo

import (
	"context"
	"fmt"
	"maps"
	"math/big"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

// MaxBatchGetKeys is DynamoDB's limit on the keys of one BatchGetItem
// request; [Repository.BatchGet] splits longer key lists into chunks of
// this size.
const MaxBatchGetKeys = 100

// defaultBatchGetConcurrency is BatchGetOptions.Concurrency's default.
const defaultBatchGetConcurrency = 4

// BatchGetOptions shape one [Repository.BatchGet].
type BatchGetOptions struct {
	// Concurrency is how many BatchGetItem requests (chunks of up to
	// [MaxBatchGetKeys] distinct keys) are in flight at once. 0 means the
	// default, 4; a negative value is refused.
	Concurrency int
	// EventuallyConsistent makes the reads eventually consistent (half the
	// read cost, may be stale). Default: the repository's
	// Options.EventuallyConsistent, as for [Repository.Get].
	EventuallyConsistent bool
	// Retry bounds, per chunk, the re-sending of the keys DynamoDB left
	// unprocessed and of requests that failed with a transient error
	// (throttling, 5xx, timeouts), with its backoff between them. Default:
	// the repository's Options.Retry.
	Retry retry.Policy
}

// BatchResult is what [Repository.BatchGet] read: one position per key
// given, in the caller's order. It is a plain value, safe to read from
// several goroutines.
type BatchResult[T any] struct {
	// Items[i] is the item stored under keys[i], decoded as [Repository.Get]
	// does (same version handling); the zero T when there is none.
	Items []T
	// Found[i] says whether an item is stored under keys[i].
	Found []bool
}

// Missing returns the indexes, in increasing order, of the keys under
// which no item is stored; nil when every key was found. It does not block.
func (b BatchResult[T]) Missing() []int {
	var m []int
	for i, f := range b.Found {
		if !f {
			m = append(m, i)
		}
	}
	return m
}

// BatchGet reads the items stored under keys with BatchGetItem, any number
// of keys in chunks of [MaxBatchGetKeys], up to BatchGetOptions.Concurrency
// chunks at once:
//
//	res, err := accounts.BatchGet(ctx, []repo.ItemKey{repo.Key("a1"), repo.Key("a2")})
//	for i, a := range res.Items {
//	    if !res.Found[i] { ... } // nothing stored under keys[i]
//	}
//
// The result has one position per key, in the order of keys; a key that
// is not stored is reported in Found (and [BatchResult.Missing]), not as an
// error. A key given several times is requested once (DynamoDB refuses
// duplicate keys in one request) and fills each of its positions. Reads
// are strongly consistent unless BatchGetOptions.EventuallyConsistent is
// set. Keys that DynamoDB leaves unprocessed (throttling, or a response
// over its 16 MB limit) are requested again after a backoff under
// BatchGetOptions.Retry, as are requests that failed with a transient
// error; each chunk has its own retry budget.
//
// A key of the wrong type or shape (see [Key]) is refused with an error
// matching [ErrInvalidArgument] that names its index, before any request
// is sent; no keys is an empty result and no request. Any other error (a
// permanent error, a retry budget spent, a decoding error) stops the
// other chunks and is returned with an empty result. The reads are not a
// snapshot: each item is read on its own, at some moment during the call
// (use [Repository.TxGetMany] in a transaction for a consistent set).
//
// Cost: one read unit per item per 4 KB, rounded up per item (half for
// eventually consistent reads), as for as many Gets, in one request per
// 100 distinct keys plus one per retry. BatchGet blocks until every chunk is
// answered; cancelling ctx abandons the requests in flight and returns
// ctx's error. Safe for concurrent use.
func (r *Repository[T]) BatchGet(ctx context.Context, keys []ItemKey, optFns ...func(*BatchGetOptions)) (BatchResult[T], error) {
	if err := checkCtx(ctx); err != nil {
		return BatchResult[T]{}, err
	}
	o, err := r.batchGetOptions(optFns)
	if err != nil {
		return BatchResult[T]{}, err
	}
	distinct, pos, err := r.batchKeys(keys)
	if err != nil {
		return BatchResult[T]{}, err
	}
	res := BatchResult[T]{Items: make([]T, len(keys)), Found: make([]bool, len(keys))}
	if len(distinct) == 0 {
		return res, nil
	}
	// found[j] is the stored item under distinct[j], nil when none; each
	// chunk writes only its own positions.
	found := make([]versioned.Item, len(distinct))
	err = runChunks(ctx, len(distinct), MaxBatchGetKeys, o.Concurrency, func(ctx context.Context, lo, hi int) error {
		return r.batchGetChunk(ctx, o, distinct[lo:hi], found[lo:hi])
	})
	if err != nil {
		return BatchResult[T]{}, err
	}
	decoded := make([]T, len(distinct))
	for j, item := range found {
		if item == nil {
			continue
		}
		if decoded[j], err = r.decode(item); err != nil {
			return BatchResult[T]{}, fmt.Errorf("%w (BatchGet of %s)", err, FormatKey(distinct[j]))
		}
	}
	for i, j := range pos {
		if found[j] != nil {
			res.Items[i], res.Found[i] = decoded[j], true
		}
	}
	return res, nil
}

// batchGetOptions are the repository's defaults, then optFns, validated.
func (r *Repository[T]) batchGetOptions(optFns []func(*BatchGetOptions)) (BatchGetOptions, error) {
	o := BatchGetOptions{EventuallyConsistent: r.opts.EventuallyConsistent, Retry: r.opts.Retry}
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Concurrency < 0 {
		return o, invalid("BatchGetOptions.Concurrency is %d, want 0 (the default) or more", o.Concurrency)
	}
	if o.Concurrency == 0 {
		o.Concurrency = defaultBatchGetConcurrency
	}
	if err := o.Retry.Validate(); err != nil {
		return o, invalid("BatchGetOptions.Retry: %w", err)
	}
	return o, nil
}

// batchKeys marshals keys and removes duplicates: distinct holds each key
// once, in order of first appearance, and keys[i] is distinct[pos[i]].
func (r *Repository[T]) batchKeys(keys []ItemKey) (distinct []versioned.Item, pos []int, err error) {
	pos = make([]int, len(keys))
	seen := make(map[string]int, len(keys))
	for i, k := range keys {
		key, err := r.schema.Key(k.hash, k.rng)
		if err != nil {
			return nil, nil, invalid("BatchGet: key %d: %w", i, err)
		}
		s := keyIdentity(key)
		j, ok := seen[s]
		if !ok {
			j = len(distinct)
			seen[s] = j
			distinct = append(distinct, key)
		}
		pos[i] = j
	}
	return distinct, pos, nil
}

// keyIdentity is a key as DynamoDB tells keys apart: numbers by value, so
// that 1.5 and 1.50 are one key.
func keyIdentity(key versioned.Item) string {
	var norm versioned.Item
	for name, v := range key {
		n, ok := v.(*types.AttributeValueMemberN)
		if !ok {
			continue
		}
		r, ok := new(big.Rat).SetString(n.Value)
		if !ok || r.RatString() == n.Value {
			continue
		}
		if norm == nil {
			norm = maps.Clone(key)
		}
		norm[name] = &types.AttributeValueMemberN{Value: r.RatString()}
	}
	if norm == nil {
		return FormatKey(key)
	}
	return FormatKey(norm)
}

// batchGetChunk reads the items under keys (at most MaxBatchGetKeys,
// distinct) into found, found[j] for keys[j], sending the keys left
// unprocessed again under o.Retry.
func (r *Repository[T]) batchGetChunk(ctx context.Context, o BatchGetOptions, keys []versioned.Item, found []versioned.Item) error {
	index := make(map[string]int, len(keys))
	for j, k := range keys {
		index[keyIdentity(k)] = j
	}
	pending := keys
	return retry.Do(ctx, o.Retry, func(ctx context.Context, _ int) error {
		out, err := r.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems: map[string]types.KeysAndAttributes{
				r.table: {Keys: pending, ConsistentRead: aws.Bool(!o.EventuallyConsistent)},
			},
		})
		if err != nil {
			return r.apiErr(err)
		}
		for _, item := range out.Responses[r.table] {
			key, err := r.schema.KeyOf(item)
			if err != nil {
				return retry.MarkPermanent(fmt.Errorf("repo: table %s: BatchGetItem returned an item without a valid key: %w", r.table, err))
			}
			j, ok := index[keyIdentity(key)]
			if !ok {
				return retry.MarkPermanent(fmt.Errorf("repo: table %s: BatchGetItem returned %s, which was not asked for", r.table, FormatKey(key)))
			}
			found[j] = item
		}
		left := out.UnprocessedKeys[r.table].Keys
		if len(left) == 0 {
			return nil
		}
		n := len(pending)
		pending = left
		return &unprocessedError{table: r.table, left: len(left), sent: n}
	}, r.opts.Observer.retries(r.table, "BatchGet"))
}

// unprocessedError says that a BatchGetItem left keys unprocessed; it is
// transient, so retry.Do sends them again after a backoff.
type unprocessedError struct {
	table      string
	left, sent int
}

func (e *unprocessedError) Error() string {
	return fmt.Sprintf("repo: table %s: BatchGetItem left %d of %d keys unprocessed", e.table, e.left, e.sent)
}

// RetryClass marks the keys for another request after a backoff.
func (e *unprocessedError) RetryClass() retry.Class { return retry.Transient }

// runChunks calls fn for the chunks [lo, hi) of n positions, size at most
// size each, with at most conc calls at once. The first error cancels the
// ctx of the other calls, and no chunk starts after it; runChunks waits for
// the calls running and returns that error, or ctx's error if ctx is done
// before every chunk has run.
func runChunks(ctx context.Context, n, size, conc int, fn func(ctx context.Context, lo, hi int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		sem   = make(chan struct{}, conc)
	)
	fail := func(err error) {
		once.Do(func() { first = err; cancel() })
	}
	all := true
	for lo := 0; lo < n; lo += size {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			all = false
			break
		}
		hi := min(lo+size, n)
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(ctx, lo, hi); err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	if !all {
		return checkCtx(ctx)
	}
	return nil
}
