package repo

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/versioned"
)

// Reads through a transaction: each is recorded with the version it found
// (or the absence of an item), and checked at commit unless the function
// writes the item.

// TxGet reads the item under k through tx: strongly consistent, its
// version recorded so that the commit checks it is unchanged. A missing item
// is [ErrNotFound], and its absence is checked at commit. An item returned by
// the previous attempt's cancellation is used without reading again. TxGet
// blocks for one request at most; it must be called from the transaction
// function only.
func (r *Repository[T]) TxGet(tx *Tx, k ItemKey) (T, error) {
	tx.join(r.table, r.opts.Observer)
	var zero T
	key, err := r.key(k)
	if err != nil {
		return zero, tx.fail(err)
	}
	raw, found, err := r.txRead(tx, key)
	if err != nil {
		return zero, err
	}
	if !found {
		return zero, r.notFound(key)
	}
	return r.decode(raw)
}

// TxGetMany reads several items of this repository in one consistent
// snapshot (TransactGetItems): the function sees a state that existed at one
// instant, so a decision over several items (a sum, an invariant) is never
// made on a torn read, as it could be with BatchGetItem. Missing items come
// back as zero values with found[i] false. At most 100 keys; recorded like
// [Repository.TxGet].
func (r *Repository[T]) TxGetMany(tx *Tx, keys ...ItemKey) (items []T, found []bool, err error) {
	tx.join(r.table, r.opts.Observer)
	if len(keys) > MaxTxOps {
		return nil, nil, tx.fail(invalid("TxGetMany of %d keys, over DynamoDB's limit of %d", len(keys), MaxTxOps))
	}
	marshaled := make([]versioned.Item, len(keys))
	var gets []types.TransactGetItem
	var idx []int
	for i, k := range keys {
		key, err := r.key(k)
		if err != nil {
			return nil, nil, tx.fail(err)
		}
		marshaled[i] = key
		if _, ok := tx.byKey[txKey(r.table, key)]; ok {
			continue
		}
		if _, ok := tx.cached[txKey(r.table, key)]; ok {
			continue
		}
		gets = append(gets, types.TransactGetItem{Get: &types.Get{TableName: aws.String(r.table), Key: key}})
		idx = append(idx, i)
	}
	fetched := map[int]versioned.Item{} // by key index; a nil item: fetched, none stored
	if len(gets) > 0 {
		out, err := tx.transactGet(&dynamodb.TransactGetItemsInput{TransactItems: gets})
		if err != nil {
			return nil, nil, tx.readFailed(r.apiErr(err))
		}
		for j, resp := range out.Responses {
			fetched[idx[j]] = resp.Item
		}
	}
	items, found = make([]T, len(keys)), make([]bool, len(keys))
	for i, key := range marshaled {
		raw, wasFetched := fetched[i]
		raw, ok, err := r.txRecord(tx, key, raw, wasFetched)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			if items[i], err = r.decode(raw); err != nil {
				return nil, nil, err
			}
			found[i] = true
		}
	}
	return items, found, nil
}

// txRead returns the item under key: from this Tx's records, the previous
// cancellation, or a consistent GetItem; and records the read.
func (r *Repository[T]) txRead(tx *Tx, key versioned.Item) (versioned.Item, bool, error) {
	k := txKey(r.table, key)
	if _, ok := tx.byKey[k]; ok {
		return r.txRecord(tx, key, nil, false)
	}
	if raw, ok := tx.cached[k]; ok {
		return r.txRecord(tx, key, raw, false)
	}
	raw, err := r.getRaw(tx.ctx, key, true)
	if err != nil {
		return nil, false, tx.readFailed(err)
	}
	return r.txRecord(tx, key, raw, true)
}

// txRecord records a read of key that found raw (nil: no item). fetched
// says raw came from a request now rather than from a cache.
func (r *Repository[T]) txRecord(tx *Tx, key, raw versioned.Item, fetched bool) (versioned.Item, bool, error) {
	k := txKey(r.table, key)
	if op, ok := tx.byKey[k]; ok {
		if op.kind != opGet {
			return nil, false, tx.fail(invalid("transaction: %s %s is read after it was staged for %s", r.table, FormatKey(key), op.kind))
		}
		return op.w.old, op.found, nil // read before in this Tx
	}
	if !fetched {
		if c, ok := tx.cached[k]; ok {
			raw = c
		}
	}
	if len(raw) == 0 {
		raw = nil
	}
	var base int64 // 0: checked to be absent
	if raw != nil {
		v, err := r.schema.StoredVersion(raw)
		if err != nil {
			return nil, false, tx.fail(err)
		}
		base = v
	}
	op := &txOp{kind: opGet, found: raw != nil, decode: r.decodeAny, w: r.newWrite(kindSave, key, base, raw, nil)}
	tx.byKey[k] = op
	tx.ops = append(tx.ops, op)
	return raw, raw != nil, nil
}
