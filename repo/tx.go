package repo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

// MaxTxOps is DynamoDB's limit on the operations of one transaction.
const MaxTxOps = 100

// MaxTxBytes is DynamoDB's limit on the size of one transaction request.
const MaxTxBytes = 4 * 1024 * 1024

// TxOptions configure one [Transact] call.
type TxOptions struct {
	// Retry bounds the re-runs of fn after conflicts and the re-sending of
	// a commit after transient errors. Default: [retry.DefaultPolicy].
	Retry retry.Policy
	// Observer is told of conflicts (one event per conflicting operation)
	// and retries. Default: none.
	Observer Observer
}

// Tx is one attempt of a transaction: reads made through it are recorded
// with their versions, writes are staged, and [Transact] commits them all at
// once. A Tx is used by the goroutine running the transaction function only
// and is not valid after that function returns.
type Tx struct {
	ctx    context.Context
	client API
	ops    []*txOp
	byKey  map[string]*txOp
	err    error // the first staging error
	// transient is the last read error worth retrying (throttling, 5xx):
	// when fn returns it, the transaction runs again instead of stopping.
	transient error
	cached    map[string]versioned.Item // current items returned by the last cancellation
	token     string
}

// Context returns the transaction's context.
func (tx *Tx) Context() context.Context { return tx.ctx }

type txOp struct {
	spec      writeSpec
	op        string // "Get", "Create", "Save", "Delete", "Check", "Bump", "Overwrite", "Guard"
	read      bool   // recorded by a read, not (yet) written
	readFirst bool   // a write of an item the function read before
	found     bool   // for reads: an item was there
	guard     *Condition
	decode    func(versioned.Item) (any, error)
	commit    func(version int64) // sets the new version in the caller's item
	newVers   int64
}

func txKey(table string, key versioned.Item) string {
	return table + "\x00" + FormatKey(key)
}

// stage records a write, refusing a second write of the same item.
func (tx *Tx) stage(op *txOp) error {
	if tx.err != nil {
		return tx.err
	}
	k := txKey(op.spec.table, op.spec.key)
	if prev, ok := tx.byKey[k]; ok {
		if !prev.read {
			return tx.fail(invalid("transaction: %s %s is written twice (%s, then %s)", op.spec.table, FormatKey(op.spec.key), prev.op, op.op))
		}
		// A write of an item read before replaces its check, at the read's
		// place.
		*prev = *op
		prev.readFirst = true
		return nil
	}
	tx.byKey[k] = op
	tx.ops = append(tx.ops, op)
	return nil
}

// readFailed remembers a read error that a re-run may get past.
func (tx *Tx) readFailed(err error) error {
	if c := retry.Classify(err); c == retry.Transient || c == retry.Conflict {
		tx.transient = err
	}
	return err
}

func (tx *Tx) fail(err error) error {
	if tx.err == nil {
		tx.err = err
	}
	return err
}

// Check adds a guard to the transaction: a ConditionCheck on c's item (a
// lease still held, say). If it fails, the commit is refused with a
// [*TxError] matching [ErrGuardFailed] and c.Err, and fn is not re-run.
func (tx *Tx) Check(c Condition) error {
	if err := c.validate(); err != nil {
		return tx.fail(err)
	}
	op := &txOp{op: "Guard", guard: &c, spec: writeSpec{table: c.Table, key: c.Key}}
	return tx.stage(op)
}

// Transact runs fn and commits what it staged in one TransactWriteItems:
// every write conditioned on its version, and every item fn read but did not
// write checked with a ConditionCheck on the version read (or on its
// absence), so the commit is serializable. When the commit is cancelled only
// by version conflicts or transaction conflicts, fn runs again on a fresh Tx
// under the retry policy; the current items the cancellation returned are
// reused by the next attempt's reads instead of reading again.
//
// fn may run several times and must only stage through its Tx. An error
// from fn stops Transact with nothing written and is returned as is, except
// a transient error of a read through the Tx (throttling, 5xx, timeouts)
// that fn passes on: then fn runs again under the retry policy. A
// transaction that stages no write commits nothing and sends no request.
// Limits refused before sending: more than [MaxTxOps] operations, the same
// item written twice, a request over [MaxTxBytes]; a nil fn or client.
//
// Each attempt has its own ClientRequestToken, kept across the SDK's
// retries of that attempt and across our own re-sending after a lost
// response, so a replayed commit is not applied twice within DynamoDB's
// 10-minute idempotency window. Beyond it, the write ids stored with each
// written item decide (see [ErrOutcomeUnknown]).
//
// Transact blocks until committed, refused, or ctx is done. It is safe for
// concurrent use; each call has its own Tx.
func Transact(ctx context.Context, client API, fn func(tx *Tx) error, optFns ...func(*TxOptions)) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if isNil(client) {
		return invalid("Transact with a nil client")
	}
	if fn == nil {
		return invalid("Transact with a nil fn")
	}
	o := TxOptions{Retry: retry.DefaultPolicy()}
	for _, f := range optFns {
		f(&o)
	}
	if err := o.Retry.Validate(); err != nil {
		return invalid("TxOptions.Retry: %w", err)
	}
	r := &txRun{client: client, o: o, fn: fn}
	err := retry.Do(ctx, o.Retry, r.attempt, func(ro *retry.Options) {
		if f := o.Observer.Retry; f != nil {
			ro.OnRetry = func(a retry.Attempt) { f(RetryEvent{Op: "Transact", Attempt: a.Number, Err: a.Err, Delay: a.Delay}) }
		}
	})
	if err != nil && r.sent != nil && !errors.Is(err, ErrOutcomeUnknown) {
		return fmt.Errorf("%w: Transact: the commit's response was lost and re-sending it did not get through: %w", ErrOutcomeUnknown, err)
	}
	return err
}

// txRun is the state of one Transact call across attempts.
type txRun struct {
	client API
	o      TxOptions
	fn     func(*Tx) error
	cached map[string]versioned.Item
	// sent is the last commit whose response was lost: it is sent again,
	// with the same token, before fn runs again.
	sent *dynamodb.TransactWriteItemsInput
	tx   *Tx
}

func (r *txRun) attempt(ctx context.Context, n int) error {
	if r.sent != nil {
		return r.commit(ctx, r.tx, r.sent, n)
	}
	tx := &Tx{ctx: ctx, client: r.client, byKey: map[string]*txOp{}, cached: r.cached, token: newWriteID()}
	if err := r.fn(tx); err != nil {
		if tx.transient != nil && errors.Is(err, tx.transient) {
			return err // a read failed for a passing reason: run fn again
		}
		return retry.MarkPermanent(err)
	}
	if tx.err != nil {
		return retry.MarkPermanent(tx.err)
	}
	in, err := tx.request()
	if err != nil {
		return retry.MarkPermanent(err)
	}
	if in == nil {
		return nil // nothing to write
	}
	r.tx = tx
	return r.commit(ctx, tx, in, n)
}

// request builds the commit, checking DynamoDB's limits first.
func (tx *Tx) request() (*dynamodb.TransactWriteItemsInput, error) {
	writes := 0
	for _, op := range tx.ops {
		if !op.read && op.guard == nil {
			writes++
		}
	}
	if writes == 0 {
		return nil, nil
	}
	if len(tx.ops) > MaxTxOps {
		return nil, invalid("transaction has %d operations, over DynamoDB's limit of %d", len(tx.ops), MaxTxOps)
	}
	items := make([]types.TransactWriteItem, len(tx.ops))
	size := 0
	for i, op := range tx.ops {
		var err error
		if op.guard != nil {
			var cc *types.ConditionCheck
			cc, err = op.guard.check()
			items[i] = types.TransactWriteItem{ConditionCheck: cc}
		} else {
			op.spec.id = newWriteID()
			items[i], err = buildWrite(op.spec)
		}
		if err != nil {
			return nil, err
		}
		size += versioned.ItemSize(op.spec.item) + versioned.ItemSize(op.spec.key) + 256 // expressions and framing
	}
	if size > MaxTxBytes {
		return nil, invalid("transaction request is about %d bytes, over DynamoDB's limit of %d", size, MaxTxBytes)
	}
	return &dynamodb.TransactWriteItemsInput{TransactItems: items, ClientRequestToken: aws.String(tx.token)}, nil
}

func (r *txRun) commit(ctx context.Context, tx *Tx, in *dynamodb.TransactWriteItemsInput, n int) error {
	resent := r.sent != nil // an earlier sending of in was lost, and may still land
	_, err := r.client.TransactWriteItems(ctx, in)
	if err == nil {
		r.sent = nil
		for _, op := range tx.ops {
			if op.commit != nil {
				op.commit(op.newVers)
			}
		}
		return nil
	}
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		if retry.Classify(err) == retry.Transient || ctx.Err() != nil {
			// The SDK's retries of this commit may hide that an earlier
			// try was stored (a lost response, then a throttled retry), so
			// after any transient failure the same request goes again with
			// the same token: DynamoDB applies it at most once.
			r.sent = in
			if ctx.Err() != nil {
				return fmt.Errorf("%w: Transact: the commit's response was lost: %w", ErrOutcomeUnknown, err)
			}
		}
		return err
	}
	r.sent = nil
	te := tx.cancelled(tc)
	if te.applied {
		// A replay beyond the token's window found our own writes stored.
		for _, op := range tx.ops {
			if op.commit != nil {
				op.commit(op.newVers)
			}
		}
		return nil
	}
	if resent && te.transientOnly() {
		// Refused for contention or throttling, which says nothing of the
		// lost sending: it may still land. Send the same request (same
		// token, same conditions) again instead of running fn again.
		r.sent = in
		return &transientError{err}
	}
	if r.o.Observer.Conflict != nil {
		for _, f := range te.Failures {
			if f.Code == "ConditionalCheckFailed" && f.Op != "Guard" {
				r.o.Observer.Conflict(ConflictEvent{Table: f.Table, Op: "Transact." + f.Op, Key: f.Key, Attempt: n, Expected: f.Expected, Actual: f.Actual})
			}
		}
	}
	// The next attempt reads the items the cancellation returned.
	r.cached = map[string]versioned.Item{}
	for _, f := range te.Failures {
		if f.raw != nil {
			r.cached[txKey(f.Table, f.Key)] = f.raw
		}
	}
	if te.retryable() {
		return te
	}
	return retry.MarkPermanent(te)
}

// TxOpError is one operation of a cancelled transaction, in the order the
// transaction function staged it.
type TxOpError struct {
	Index    int    // position among the transaction's operations
	Op       string // "Get" (a read checked at commit), "Create", "Save", "Delete", "Check", "Bump", "Overwrite", "Guard"
	Table    string
	Key      map[string]types.AttributeValue
	Code     string // DynamoDB's cancellation reason: "ConditionalCheckFailed", "TransactionConflict", "ValidationError", ...
	Message  string
	Expected int64 // the version the operation was conditioned on
	Actual   int64 // the stored version, when DynamoDB returned the item
	// Current is the stored item decoded into its type (a value of the
	// repository's T), when DynamoDB returned it; see [TxCurrent].
	Current   any
	raw       versioned.Item
	readFirst bool
}

// TxError is a cancelled transaction: the operations that failed, in the
// caller's order. errors.Is matches [ErrConflict] when a version condition
// failed, [ErrAlreadyExists] when a create found an item, [ErrGuardFailed]
// (and the guard's own error) when a guard failed.
type TxError struct {
	Failures []TxOpError
	Err      error // the SDK's TransactionCanceledException
	guards   []error
	applied  bool
}

// Error implements error.
func (e *TxError) Error() string {
	var b strings.Builder
	b.WriteString("repo: transaction cancelled:")
	for _, f := range e.Failures {
		fmt.Fprintf(&b, " [%d %s %s %s: %s", f.Index, f.Op, f.Table, FormatKey(f.Key), f.Code)
		if f.Code == "ConditionalCheckFailed" && f.Op != "Guard" && f.Op != "Create" {
			fmt.Fprintf(&b, ", expected version %d, found %d", f.Expected, f.Actual)
		}
		b.WriteString("]")
	}
	return b.String()
}

// Is matches the sentinels of the failures.
func (e *TxError) Is(target error) bool {
	for _, f := range e.Failures {
		if f.Code != "ConditionalCheckFailed" {
			continue
		}
		switch {
		case f.Op == "Guard" && target == ErrGuardFailed,
			f.Op == "Create" && target == ErrAlreadyExists,
			f.Op != "Guard" && f.Op != "Create" && target == ErrConflict:
			return true
		}
	}
	return false
}

// Unwrap returns the SDK's error and the failed guards' own errors.
func (e *TxError) Unwrap() []error { return append([]error{e.Err}, e.guards...) }

// RetryClass is Conflict when fn should run again (see retryable), else
// Permanent.
func (e *TxError) RetryClass() retry.Class {
	if e.retryable() {
		return retry.Conflict
	}
	return retry.Permanent
}

// transientOnly reports whether every failure of a cancelled transaction
// is contention or throttling: nothing about the items' conditions.
func (e *TxError) transientOnly() bool {
	for _, f := range e.Failures {
		if !transientReason(f.Code) {
			return false
		}
	}
	return len(e.Failures) > 0
}

// retryable: every failure is a version conflict on an item the function
// read or wrote by version, or a transaction conflict.
func (e *TxError) retryable() bool {
	if len(e.Failures) == 0 {
		return false
	}
	for _, f := range e.Failures {
		switch {
		case f.Code == "TransactionConflict":
		case f.Code == "ConditionalCheckFailed" && f.Op != "Guard" && f.Op != "Overwrite" && (f.Op != "Create" || f.readFirst):
		default:
			return false
		}
	}
	return true
}

// TxCurrent returns the stored item of failure i decoded as T, when
// DynamoDB returned it.
func TxCurrent[T any](e *TxError, i int) (T, bool) {
	var zero T
	if i < 0 || i >= len(e.Failures) {
		return zero, false
	}
	t, ok := e.Failures[i].Current.(T)
	return t, ok
}

func (tx *Tx) cancelled(tc *types.TransactionCanceledException) *TxError {
	te := &TxError{Err: tc}
	ours := 0 // written items that show our own write id: a replayed commit
	writes := 0
	for i, reason := range tc.CancellationReasons {
		code := aws.ToString(reason.Code)
		if i >= len(tx.ops) || code == "None" || code == "" {
			continue
		}
		op := tx.ops[i]
		f := TxOpError{Index: i, Op: op.op, Table: op.spec.table, Key: op.spec.key, Code: code,
			Message: aws.ToString(reason.Message), Expected: op.spec.base, readFirst: op.readFirst}
		if len(reason.Item) > 0 {
			f.raw = reason.Item
			if op.spec.schema != nil {
				f.Actual, _ = op.spec.schema.StoredVersion(reason.Item)
				if op.decode != nil {
					f.Current, _ = op.decode(reason.Item)
				}
			}
		}
		if op.guard != nil && code == "ConditionalCheckFailed" && op.guard.Err != nil {
			te.guards = append(te.guards, op.guard.Err)
		}
		if !op.read && op.guard == nil && op.spec.kind != kindCheck && op.spec.kind != kindCheckAbsent && op.spec.kind != kindOverwrite {
			writes++
			if f.raw != nil && writeIDs(f.raw, op.spec.idAttr)[op.spec.base+1] == op.spec.id {
				ours++
			}
		}
		te.Failures = append(te.Failures, f)
	}
	te.applied = writes > 0 && ours == writes
	return te
}

// TxGet reads the item under k through tx: strongly consistent, its
// version recorded so that the commit checks it is unchanged. A missing item
// is [ErrNotFound], and its absence is checked at commit. An item returned by
// the previous attempt's cancellation is used without reading again. TxGet
// blocks for one request at most; it must be called from the transaction
// function only.
func (r *Repository[T]) TxGet(tx *Tx, k ItemKey) (T, error) {
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
		out, err := tx.client.TransactGetItems(tx.ctx, &dynamodb.TransactGetItemsInput{TransactItems: gets})
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
		if !op.read {
			return nil, false, tx.fail(invalid("transaction: %s %s is read after it was staged for %s", r.table, FormatKey(key), op.op))
		}
		return op.spec.old, op.found, nil // read before in this Tx
	}
	if !fetched {
		if c, ok := tx.cached[k]; ok {
			raw = c
		}
	}
	if len(raw) == 0 {
		raw = nil
	}
	op := &txOp{op: "Get", read: true, found: raw != nil, decode: r.decodeAny, spec: r.spec(key, kindCheckAbsent, 0, raw, nil)}
	if raw != nil {
		v, err := r.schema.StoredVersion(raw)
		if err != nil {
			return nil, false, tx.fail(err)
		}
		op.spec.kind, op.spec.base = kindCheck, v
	}
	tx.byKey[k] = op
	tx.ops = append(tx.ops, op)
	return raw, raw != nil, nil
}

// withVersion returns a copy of item with the version attribute set to n.
func withVersion(item versioned.Item, attr string, n int64) versioned.Item {
	m := make(versioned.Item, len(item))
	for k, v := range item {
		m[k] = v
	}
	m[attr] = &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
	return m
}

func (r *Repository[T]) decodeAny(raw versioned.Item) (any, error) { return r.decode(raw) }

func (r *Repository[T]) spec(key versioned.Item, kind writeKind, base int64, old, item versioned.Item) writeSpec {
	s := writeSpec{schema: r.schema, table: r.table, key: key, kind: kind, base: base, old: old, item: item,
		idAttr: r.opts.WriteIDAttribute, keep: r.opts.WriteIDs}
	if old != nil {
		s.baseIDs = writeIDs(old, r.opts.WriteIDAttribute)
	}
	return s
}

// txWrite stages a write of *item: kind create (version 0), save, or bump.
func (r *Repository[T]) txWrite(tx *Tx, op string, item *T, kind writeKind) error {
	if item == nil {
		return tx.fail(invalid("%s of a nil item", op))
	}
	s := r.schema
	v := reflect.ValueOf(item).Elem()
	n := s.VersionOf(v)
	next := int64(1)
	if kind == kindCreate {
		if n != 0 {
			return tx.fail(invalid("TxCreate of %s at version %d: a new item has version 0", s.Type, n))
		}
	} else {
		if n == 0 {
			return tx.fail(invalid("%s of a %s at version 0: it was never stored (use TxCreate)", op, s.Type))
		}
		var err error
		if next, err = s.Next(n); err != nil {
			return tx.fail(err)
		}
	}
	cp := *item
	s.SetVersion(reflect.ValueOf(&cp).Elem(), next)
	m, key, err := r.marshalItem(cp, true)
	if err != nil {
		return tx.fail(err)
	}
	var old versioned.Item
	if prev, ok := tx.byKey[txKey(r.table, key)]; ok && prev.read && prev.found && prev.spec.base == n {
		old = prev.spec.old // send only what changed since the read
	} else if op == "Bump" {
		// A bump changes the version only: diff against the item as given.
		if old, err = s.Marshal(*item); err != nil {
			return tx.fail(invalidItem(err))
		}
	}
	if op == "Bump" {
		m = withVersion(old, s.Version.Attr, next)
	}
	wk := kindSave
	if kind == kindCreate {
		wk = kindCreate
	}
	return tx.stage(&txOp{op: op, decode: r.decodeAny, spec: r.spec(key, wk, n, old, m), newVers: next,
		commit: func(ver int64) { s.SetVersion(reflect.ValueOf(item).Elem(), ver) }})
}

// TxCreate stages the creation of *item (version 0; the item must not
// exist). After a successful commit item's version is 1.
func (r *Repository[T]) TxCreate(tx *Tx, item *T) error {
	return r.txWrite(tx, "Create", item, kindCreate)
}

// TxSave stages a write of *item conditioned on its version n; after a
// successful commit item's version is n+1.
func (r *Repository[T]) TxSave(tx *Tx, item *T) error { return r.txWrite(tx, "Save", item, kindSave) }

// TxBump stages a version increment of *item without other changes, on
// condition that its version is unchanged: JPA's OPTIMISTIC_FORCE_INCREMENT,
// for an aggregate root whose children changed. After commit item's version
// is n+1.
func (r *Repository[T]) TxBump(tx *Tx, item *T) error { return r.txWrite(tx, "Bump", item, kindSave) }

// TxDelete stages the deletion of item on condition that its version is
// unchanged.
func (r *Repository[T]) TxDelete(tx *Tx, item T) error {
	s := r.schema
	n := s.VersionOf(reflect.ValueOf(&item).Elem())
	if n == 0 {
		return tx.fail(invalid("TxDelete of a %s at version 0: it was never stored", s.Type))
	}
	_, key, err := r.marshalItem(item, false)
	if err != nil {
		return tx.fail(err)
	}
	return tx.stage(&txOp{op: "Delete", decode: r.decodeAny, spec: r.spec(key, kindDelete, n, nil, nil)})
}

// TxCheck stages a check that item's version is unchanged, without writing
// it: for items the function relied on but read outside the transaction.
func (r *Repository[T]) TxCheck(tx *Tx, item T) error {
	s := r.schema
	n := s.VersionOf(reflect.ValueOf(&item).Elem())
	_, key, err := r.marshalItem(item, false)
	if err != nil {
		return tx.fail(err)
	}
	kind := kindCheck
	if n == 0 {
		kind = kindCheckAbsent
	}
	return tx.stage(&txOp{op: "Check", decode: r.decodeAny, spec: r.spec(key, kind, n, nil, nil)})
}

// TxOverwrite stages an unconditional write of *item, the escape hatch of
// [Repository.Overwrite]: no condition, the stored version moves on by one.
// After commit item's version is unknown to the caller and left as is.
func (r *Repository[T]) TxOverwrite(tx *Tx, item *T) error {
	if item == nil {
		return tx.fail(invalid("TxOverwrite of a nil item"))
	}
	m, key, err := r.marshalItem(*item, true)
	if err != nil {
		return tx.fail(err)
	}
	return tx.stage(&txOp{op: "Overwrite", decode: r.decodeAny, spec: r.spec(key, kindOverwrite, 0, nil, m)})
}
