package repo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

// Transactions: Transact and its attempts and commit (this file); what a
// transaction function stages (txop.go) and reads (txread.go); a cancelled
// commit told apart per operation (txerror.go).

// MaxTxOps is DynamoDB's limit on the operations of one transaction.
const MaxTxOps = 100

// MaxTxBytes is DynamoDB's limit on the size of one transaction request.
const MaxTxBytes = 4 * 1024 * 1024

// TxOptions configure one [Transact] call.
type TxOptions struct {
	// Retry bounds the re-runs of fn after conflicts and the re-sending of
	// a commit after transient errors. Default: [retry.DefaultPolicy].
	Retry retry.Policy
	// Observer is told of conflicts (one event per conflicting operation),
	// retries and requests. Default: the Observers of the repositories
	// that stage or read through the transaction, each told of the
	// conflicts on its own table and of every retry and request.
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
	// obs are the observers of the repositories taking part, by table
	// (txobserve.go); run is the Transact call.
	obs map[string]Observer
	run *txRun
}

// Context returns the transaction's context.
func (tx *Tx) Context() context.Context { return tx.ctx }

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
	err := retry.Do(ctx, o.Retry, r.attempt, r.retries())
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

// attempt sends the lost commit again, or runs fn on a fresh Tx and
// commits what it staged.
func (r *txRun) attempt(ctx context.Context, n int) error {
	if r.sent != nil {
		return r.commit(ctx, r.tx, r.sent, n)
	}
	tx := &Tx{ctx: ctx, client: r.client, byKey: map[string]*txOp{}, cached: r.cached, token: newWriteID(), run: r}
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

// request builds the commit, checking DynamoDB's limits first; nil when
// nothing is written.
func (tx *Tx) request() (*dynamodb.TransactWriteItemsInput, error) {
	writes := 0
	for _, op := range tx.ops {
		if !op.kind.check() {
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
		if items[i], err = op.txItem(); err != nil {
			return nil, err
		}
		size += versioned.ItemSize(op.w.item) + versioned.ItemSize(op.w.key) + 256 // expressions and framing
	}
	if size > MaxTxBytes {
		return nil, invalid("transaction request is about %d bytes, over DynamoDB's limit of %d", size, MaxTxBytes)
	}
	return &dynamodb.TransactWriteItemsInput{TransactItems: items, ClientRequestToken: aws.String(tx.token)}, nil
}

// commit sends in and acts on the answer: committed, lost (send the same
// request again), or cancelled (run fn again, or stop).
func (r *txRun) commit(ctx context.Context, tx *Tx, in *dynamodb.TransactWriteItemsInput, n int) error {
	resent := r.sent != nil // an earlier sending of in was lost, and may still land
	_, err := r.observedClient(tx).TransactWriteItems(ctx, in)
	if err == nil {
		r.sent = nil
		tx.committed()
		return nil
	}
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		return r.lost(ctx, in, err)
	}
	r.sent = nil
	te := tx.cancelled(tc)
	switch {
	case te.applied:
		// A replay beyond the token's window found our own writes stored.
		tx.committed()
		return nil
	case resent && te.transientOnly():
		// Refused for contention or throttling, which says nothing of the
		// lost sending: it may still land. Send the same request (same
		// token, same conditions) again instead of running fn again.
		r.sent = in
		return &transientError{err}
	}
	r.observeConflicts(te, n)
	r.cached = te.currentItems()
	if te.retryable() {
		return te
	}
	return retry.MarkPermanent(te)
}

// lost handles a commit that failed without a cancellation. The SDK's
// retries of it may hide that an earlier try was stored (a lost response,
// then a throttled retry), so after any transient failure the same
// request goes again with the same token: DynamoDB applies it at most once.
func (r *txRun) lost(ctx context.Context, in *dynamodb.TransactWriteItemsInput, err error) error {
	if retry.Classify(err) != retry.Transient && ctx.Err() == nil {
		return err
	}
	r.sent = in
	if ctx.Err() != nil {
		return fmt.Errorf("%w: Transact: the commit's response was lost: %w", ErrOutcomeUnknown, err)
	}
	return err
}

// committed sets the new versions in the callers' items.
func (tx *Tx) committed() {
	for _, op := range tx.ops {
		if op.commit != nil {
			op.commit(op.newVers)
		}
	}
}

// observeConflicts tells the observers of each version conflict.
func (r *txRun) observeConflicts(te *TxError, n int) {
	for _, op := range te.Failures {
		if op.conflict() {
			r.conflict(ConflictEvent{Table: op.Table, Op: "Transact." + op.Op, Key: op.Key, Attempt: n, Expected: op.Expected, Actual: op.Actual})
		}
	}
}
