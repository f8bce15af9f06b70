package repo

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/ddbcode"
	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

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
	kind      txOpKind
	raw       versioned.Item
	readFirst bool
}

// failedCondition reports whether f's condition failed.
func (f TxOpError) failedCondition() bool { return f.Code == ddbcode.ReasonConditionalCheckFailed }

// conflict reports whether f is a failed condition on f's own item (not
// a guard's).
func (f TxOpError) conflict() bool { return f.failedCondition() && f.kind != opGuard }

// versionConflict reports whether f found another version than it was
// conditioned on (not a create that found an item).
func (f TxOpError) versionConflict() bool { return f.conflict() && f.kind != opCreate }

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
		if f.versionConflict() {
			fmt.Fprintf(&b, ", expected version %d, found %d", f.Expected, f.Actual)
		}
		b.WriteString("]")
	}
	return b.String()
}

// Is matches the sentinels of the failures.
func (e *TxError) Is(target error) bool {
	for _, f := range e.Failures {
		if !f.failedCondition() {
			continue
		}
		switch {
		case f.kind == opGuard && target == ErrGuardFailed,
			f.kind == opCreate && target == ErrAlreadyExists,
			f.versionConflict() && target == ErrConflict:
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
		if !ddbcode.ReasonThrottled(f.Code) {
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
		case f.Code == ddbcode.ReasonTransactionConflict:
		case f.conflict() && f.kind != opOverwrite && (f.kind != opCreate || f.readFirst):
		default:
			return false
		}
	}
	return true
}

// currentItems are the stored items the cancellation returned, by item,
// for the next attempt's reads.
func (e *TxError) currentItems() map[string]versioned.Item {
	m := map[string]versioned.Item{}
	for _, f := range e.Failures {
		if f.raw != nil {
			m[txKey(f.Table, f.Key)] = f.raw
		}
	}
	return m
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

// cancelled maps a cancellation's reasons to the operations that failed.
// It is applied when every versioned write of tx failed only because it
// found its own write id stored: a replay of a commit that landed.
func (tx *Tx) cancelled(tc *types.TransactionCanceledException) *TxError {
	te := &TxError{Err: tc}
	ours, writes := 0, 0
	for i, reason := range tc.CancellationReasons {
		code := aws.ToString(reason.Code)
		if i >= len(tx.ops) || code == ddbcode.ReasonNone || code == "" {
			continue
		}
		op := tx.ops[i]
		f := op.failure(i, reason)
		if op.guard != nil && f.failedCondition() && op.guard.Err != nil {
			te.guards = append(te.guards, op.guard.Err)
		}
		if op.kind.versionedWrite() {
			writes++
			if f.raw != nil && writeIDs(f.raw, op.w.ids.attr)[op.w.next] == op.w.id {
				ours++
			}
		}
		te.Failures = append(te.Failures, f)
	}
	te.applied = writes > 0 && ours == writes
	return te
}

// failure describes op, the i-th operation, cancelled for reason.
func (op *txOp) failure(i int, reason types.CancellationReason) TxOpError {
	f := TxOpError{Index: i, Op: op.kind.String(), kind: op.kind, Table: op.w.table, Key: op.w.key,
		Code: aws.ToString(reason.Code), Message: aws.ToString(reason.Message), Expected: op.w.base, readFirst: op.readFirst}
	if len(reason.Item) > 0 {
		f.raw = reason.Item
		if op.w.schema != nil {
			f.Actual, _ = op.w.schema.StoredVersion(reason.Item)
			if op.decode != nil {
				f.Current, _ = op.decode(reason.Item)
			}
		}
	}
	return f
}
