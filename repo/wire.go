package repo

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ddbocc/ddbocc/internal/ddbcode"
	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

// The write on the wire: a write (write.go) built into expressions once,
// and from them into a single-item request (PutItem, UpdateItem,
// DeleteItem) or a transaction item, every conditional one asking for the
// stored item (ALL_OLD) when its condition fails.

// built is a write's request parts.
type built struct {
	w      write
	update *string // nil: none
	cond   *string // nil: none
	names  map[string]string
	values map[string]types.AttributeValue
	put    versioned.Item // the item of a create's PutItem; nil for the other kinds
}

// build builds w's expressions: its condition (none for an overwrite),
// and its update for a save or an overwrite. A save's are written
// directly (expr.go); the other kinds' by the SDK's expression builder.
func (w write) build() (built, error) {
	if w.kind == kindSave {
		return w.buildSave(), nil
	}
	s := w.schema
	b := expression.NewBuilder()
	switch w.kind {
	case kindCreate:
		b = b.WithCondition(s.NotExists())
	case kindDelete:
		b = b.WithCondition(s.VersionIs(w.base))
	case kindDeleteKey:
		b = b.WithCondition(s.Exists())
	case kindOverwrite:
		b = b.WithUpdate(overwriteUpdate(s, w.item))
	}
	e, err := b.Build()
	if err != nil {
		return built{}, fmt.Errorf("repo: build the expressions of a %s: %w", w.kind, err)
	}
	out := built{w: w, update: e.Update(), cond: e.Condition(), names: e.Names(), values: e.Values()}
	if w.kind == kindCreate {
		out.put = w.createItem()
	}
	return out, nil
}

// buildSave builds a save: its update sets what changed when the stored
// item is known, every attribute otherwise, and the write id; its
// condition is baseCond.
func (w write) buildSave() built {
	e := newExprBuf()
	w.schema.Changes(w.old, w.item, func(a string, v types.AttributeValue) {
		if v == nil {
			e.drop(e.path(a))
		} else {
			e.setTo(e.path(a), v)
		}
	})
	if w.id != "" {
		w.encodeWriteID(e)
	}
	cond := w.baseCond(e)
	update := e.update()
	return built{w: w, update: &update, cond: &cond, names: e.names, values: e.values}
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// overwriteUpdate replaces every attribute of item but the version, which
// moves on by one from whatever is stored (from 0 if nothing is).
func overwriteUpdate(s *versioned.Schema, item versioned.Item) expression.UpdateBuilder {
	ver := expression.NameNoDotSplit(s.VersionAttr())
	return s.Replace(item, s.VersionAttr()).
		Set(ver, expression.Plus(ver.IfNotExists(expression.Value(0)), expression.Value(1)))
}

// createItem is the item a create puts: the new item and its id map.
func (w write) createItem() versioned.Item {
	item := make(versioned.Item, len(w.item)+1)
	for k, v := range w.item {
		item[k] = v
	}
	if w.id != "" {
		item[w.ids.attr] = idMap(write{next: 1, id: w.id, ids: w.ids})
	}
	return item
}

var allOld = types.ReturnValuesOnConditionCheckFailureAllOld

// txItem is b as an item of TransactWriteItems.
func (b built) txItem() types.TransactWriteItem {
	w := b.w
	table := aws.String(w.table)
	switch w.kind {
	case kindCreate:
		return types.TransactWriteItem{Put: &types.Put{TableName: table, Item: b.put,
			ConditionExpression: b.cond, ExpressionAttributeNames: b.names, ExpressionAttributeValues: b.values,
			ReturnValuesOnConditionCheckFailure: allOld}}
	case kindSave, kindOverwrite:
		u := &types.Update{TableName: table, Key: w.key, UpdateExpression: b.update, ConditionExpression: b.cond,
			ExpressionAttributeNames: b.names, ExpressionAttributeValues: b.values}
		if w.kind == kindSave {
			u.ReturnValuesOnConditionCheckFailure = allOld
		}
		return types.TransactWriteItem{Update: u}
	default: // kindDelete, kindDeleteKey
		return types.TransactWriteItem{Delete: &types.Delete{TableName: table, Key: w.key,
			ConditionExpression: b.cond, ExpressionAttributeNames: b.names, ExpressionAttributeValues: b.values,
			ReturnValuesOnConditionCheckFailure: allOld}}
	}
}

// sendOne sends b as a single-item request. On a failed condition the
// error is a *types.ConditionalCheckFailedException holding the stored
// item (ALL_OLD). It returns the attributes an overwrite stored (the new
// version), nil for the other kinds.
func (b built) sendOne(ctx context.Context, c API, optFns ...func(*dynamodb.Options)) (versioned.Item, error) {
	w := b.w
	table := aws.String(w.table)
	switch w.kind {
	case kindCreate:
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: b.put,
			ConditionExpression: b.cond, ExpressionAttributeNames: b.names, ExpressionAttributeValues: b.values,
			ReturnValuesOnConditionCheckFailure: allOld}, optFns...)
		return nil, err
	case kindSave, kindOverwrite:
		in := &dynamodb.UpdateItemInput{TableName: table, Key: w.key, UpdateExpression: b.update, ConditionExpression: b.cond,
			ExpressionAttributeNames: b.names, ExpressionAttributeValues: b.values, ReturnValuesOnConditionCheckFailure: allOld}
		if w.kind == kindOverwrite {
			in.ReturnValues = types.ReturnValueUpdatedNew
			in.ReturnValuesOnConditionCheckFailure = ""
		}
		out, err := c.UpdateItem(ctx, in, optFns...)
		if err != nil {
			return nil, err
		}
		return out.Attributes, nil
	default: // kindDelete, kindDeleteKey
		_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: w.key,
			ConditionExpression: b.cond, ExpressionAttributeNames: b.names, ExpressionAttributeValues: b.values,
			ReturnValuesOnConditionCheckFailure: allOld}, optFns...)
		return nil, err
	}
}

// sendGuarded sends b with a ConditionCheck per guard in one transaction.
// Its ClientRequestToken is the write id, so that replays of this sending
// are recognised. A failed guard is a permanent *GuardError; a failed
// condition of the write is a *types.ConditionalCheckFailedException
// holding the stored item, as from sendOne.
func (b built) sendGuarded(ctx context.Context, c API, guards []Condition, optFns ...func(*dynamodb.Options)) error {
	items := make([]types.TransactWriteItem, 0, 1+len(guards))
	items = append(items, b.txItem())
	for _, g := range guards {
		cc, err := g.check()
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{ConditionCheck: cc})
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	if b.w.id != "" {
		in.ClientRequestToken = aws.String(b.w.id)
	}
	_, err := c.TransactWriteItems(ctx, in, optFns...)
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		return err
	}
	return guardedRefusal(err, tc, guards)
}

// guardedRefusal tells why a guarded write's transaction was cancelled:
// a guard failed, the write's own condition failed, or it was refused
// for contention or throttling (transient: nothing was written).
func guardedRefusal(err error, tc *types.TransactionCanceledException, guards []Condition) error {
	reasons := tc.CancellationReasons
	for i, g := range guards {
		if i+1 < len(reasons) && aws.ToString(reasons[i+1].Code) == ddbcode.ReasonConditionalCheckFailed {
			return retry.MarkPermanent(&GuardError{Condition: g, Item: reasons[i+1].Item})
		}
	}
	if len(reasons) > 0 && aws.ToString(reasons[0].Code) == ddbcode.ReasonConditionalCheckFailed {
		return &types.ConditionalCheckFailedException{Message: tc.Message, Item: reasons[0].Item}
	}
	for _, r := range reasons {
		if ddbcode.ReasonThrottled(aws.ToString(r.Code)) {
			return &transientError{err}
		}
	}
	return err
}

// transientError marks a cancelled transaction that may simply be retried:
// DynamoDB refused it (nothing was written) because of a conflicting
// transaction or throttling.
type transientError struct{ err error }

func (e *transientError) Error() string           { return e.err.Error() }
func (e *transientError) Unwrap() error           { return e.err }
func (e *transientError) RetryClass() retry.Class { return retry.Transient }

// ambiguous reports whether a failed write may have been stored: its
// response was lost, timed out, or was a 5xx. Throttling and other
// rejections are answers: nothing was stored.
func ambiguous(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true // cancelled in flight: the request may have arrived
	}
	if retry.Classify(err) != retry.Transient {
		return false
	}
	var te *transientError
	if errors.As(err, &te) {
		return false
	}
	var ae smithy.APIError
	return !errors.As(err, &ae) || !ddbcode.Throttled(ae.ErrorCode())
}

// baseCond writes the condition of a write or check based on version
// w.base: the version, and, when the write id stored with that version is
// known, that id too. Versions start again at 1 when an item is deleted
// and created anew; the id tells the new item from the one that was read,
// so a write based on the old one cannot land on the new one (ABA).
func (w write) baseCond(e *exprBuf) string {
	if w.base == 0 {
		return w.versionlessCond(e) // adopt.go
	}
	cond := e.equals(e.path(w.schema.VersionAttr()), number(w.base))
	if id := w.baseIDs[w.base]; id != "" {
		cond += " AND " + e.equals(e.path(w.ids.attr, strconv.FormatInt(w.base, 10)), &types.AttributeValueMemberS{Value: id})
	}
	return cond
}

// encodeWriteID adds the write's id to the update, and the writer slot's
// entry. When the base item's id map is known, only the new entries are SET
// and the entries beyond the bounds REMOVEd; otherwise the whole map is
// written.
func (w write) encodeWriteID(e *exprBuf) {
	attr := w.ids.attr
	if _, ok := w.old[attr].(*types.AttributeValueMemberM); !ok {
		e.setTo(e.path(attr), idMap(w))
		return
	}
	e.setTo(e.path(attr, strconv.FormatInt(w.next, 10)), &types.AttributeValueMemberS{Value: w.id})
	for _, v := range dropIDs(w.baseIDs, w.next, w.ids.keep) {
		e.drop(e.path(attr, strconv.FormatInt(v, 10)))
	}
	if w.writer != "" {
		e.setTo(e.path(attr, w.writer), writerEntry{w.next, w.id}.value())
		for _, k := range dropWriters(writerEntries(w.old, attr), w.writer, keepWriters) {
			e.drop(e.path(attr, k))
		}
	}
}

// checkItem is a ConditionCheck that the item under w.key is still at
// version w.base with its id, or, for base 0, that there is none (or, for
// a version-less item read, that it is still there without a version).
func (w write) checkItem() types.TransactWriteItem {
	e := newExprBuf()
	var cond string
	if w.base == 0 && w.old == nil {
		cond = "attribute_not_exists(" + e.path(w.schema.HashAttr()) + ")"
	} else {
		cond = w.baseCond(e)
	}
	var values map[string]types.AttributeValue
	if len(e.values) > 0 {
		values = e.values
	}
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String(w.table), Key: w.key,
		ConditionExpression: &cond, ExpressionAttributeNames: e.names, ExpressionAttributeValues: values,
		ReturnValuesOnConditionCheckFailure: allOld}}
}
