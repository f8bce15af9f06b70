package repo

import (
	"context"
	"errors"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

// The write on the wire: one description of a versioned write (writeSpec),
// turned into a single-item request or a transaction item, sent, and its
// failure told apart (an answer, or ambiguous).
type writeKind int

const (
	kindCreate writeKind = iota
	kindSave
	kindDelete
	kindDeleteKey
	kindCheck       // transactions: version unchanged, no write
	kindCheckAbsent // transactions: still no item under the key
	kindOverwrite   // transactions: unconditional put
)

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
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"TransactionConflictException", "ThrottledException", "RequestThrottled":
			return false
		}
	}
	return true
}

// send performs one write. On a failed condition it returns the stored item
// from ALL_OLD (empty when none is stored) with the error. With guards, the
// write goes out as a transaction with a ConditionCheck per guard.
func (l *loop[T]) send(ctx context.Context, p *plan[T], id string) (versioned.Item, error) {
	w, err := l.writeItem(p, id)
	if err != nil {
		return nil, err
	}
	if len(l.o.Guards) > 0 {
		return l.sendGuarded(ctx, w, id)
	}
	switch {
	case w.Put != nil:
		_, err = l.r.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: w.Put.TableName, Item: w.Put.Item,
			ConditionExpression: w.Put.ConditionExpression, ExpressionAttributeNames: w.Put.ExpressionAttributeNames,
			ExpressionAttributeValues:           w.Put.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}, l.sdkRetry())
	case w.Update != nil:
		_, err = l.r.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: w.Update.TableName, Key: w.Update.Key,
			UpdateExpression: w.Update.UpdateExpression, ConditionExpression: w.Update.ConditionExpression,
			ExpressionAttributeNames: w.Update.ExpressionAttributeNames, ExpressionAttributeValues: w.Update.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}, l.sdkRetry())
	default:
		_, err = l.r.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: w.Delete.TableName, Key: w.Delete.Key,
			ConditionExpression: w.Delete.ConditionExpression, ExpressionAttributeNames: w.Delete.ExpressionAttributeNames,
			ExpressionAttributeValues:           w.Delete.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}, l.sdkRetry())
	}
	return oldItem(err), err
}

// writeItem builds the write of plan p as a transaction item; send turns it
// into a single-item request when there are no guards.
func (l *loop[T]) writeItem(p *plan[T], id string) (types.TransactWriteItem, error) {
	return buildWrite(l.spec(p, id))
}

// spec describes the write of plan p under write id id.
func (l *loop[T]) spec(p *plan[T], id string) writeSpec {
	w := writeSpec{
		schema: l.r.schema, table: l.r.table, key: l.key, kind: p.kind, base: p.base,
		old: p.old, baseIDs: p.baseIDs, item: p.item,
		idAttr: l.o.WriteIDAttribute, keep: l.o.WriteIDs, id: id,
	}
	if id != "" {
		w.writer = l.writer
	}
	return w
}

// writeSpec is one versioned write, for a single request or a transaction.
type writeSpec struct {
	schema  *versioned.Schema
	table   string
	key     versioned.Item
	kind    writeKind
	base    int64            // the version conditioned on
	old     versioned.Item   // the stored item it is based on; nil for a blind write
	baseIDs map[int64]string // the write ids of old; nil when unknown
	item    versioned.Item   // the new item (create, save)
	idAttr  string
	keep    int
	id      string // the write id; "" stores none (Options.noWriteIDs)
	writer  string // the key of the call's writer slot; "" for none
}

// buildWrite builds w's request as a transaction item, every one asking for
// ALL_OLD on a failed condition.
func buildWrite(w writeSpec) (types.TransactWriteItem, error) {
	s := w.schema
	table := aws.String(w.table)
	allOld := types.ReturnValuesOnConditionCheckFailureAllOld
	switch w.kind {
	case kindCreate:
		item := make(versioned.Item, len(w.item)+1)
		for k, v := range w.item {
			item[k] = v
		}
		if w.id != "" {
			item[w.idAttr] = idMap(writeSpec{base: 0, id: w.id, keep: w.keep})
		}
		e, err := versioned.CondExpr(s.NotExists())
		if err != nil {
			return types.TransactWriteItem{}, err
		}
		return types.TransactWriteItem{Put: &types.Put{
			TableName: table, Item: item,
			ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
			ReturnValuesOnConditionCheckFailure: allOld,
		}}, nil
	case kindSave:
		var u expression.UpdateBuilder
		if w.old != nil {
			u, _ = s.Diff(w.old, w.item) // the version always differs
		} else {
			u = s.Replace(w.item)
		}
		if w.id != "" {
			u = setWriteID(u, w)
		}
		e, err := versioned.Expr(u, baseCond(w))
		if err != nil {
			return types.TransactWriteItem{}, err
		}
		return types.TransactWriteItem{Update: &types.Update{
			TableName: table, Key: w.key,
			UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
			ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
			ReturnValuesOnConditionCheckFailure: allOld,
		}}, nil
	case kindCheck:
		e, err := versioned.CondExpr(baseCond(w))
		if err != nil {
			return types.TransactWriteItem{}, err
		}
		return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: table, Key: w.key,
			ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
			ReturnValuesOnConditionCheckFailure: allOld,
		}}, nil
	case kindCheckAbsent:
		e, err := versioned.CondExpr(s.NotExists())
		if err != nil {
			return types.TransactWriteItem{}, err
		}
		return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: table, Key: w.key,
			ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(),
			ReturnValuesOnConditionCheckFailure: allOld,
		}}, nil
	case kindOverwrite:
		ver := expression.NameNoDotSplit(s.Version.Attr)
		u := s.Replace(w.item, s.Version.Attr).
			Set(ver, expression.Plus(ver.IfNotExists(expression.Value(0)), expression.Value(1)))
		e, err := expression.NewBuilder().WithUpdate(u).Build()
		if err != nil {
			return types.TransactWriteItem{}, err
		}
		return types.TransactWriteItem{Update: &types.Update{
			TableName: table, Key: w.key,
			UpdateExpression: e.Update(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		}}, nil
	default: // kindDelete, kindDeleteKey
		cond := s.Exists()
		if w.kind == kindDelete {
			cond = s.VersionIs(w.base)
		}
		e, err := versioned.CondExpr(cond)
		if err != nil {
			return types.TransactWriteItem{}, err
		}
		return types.TransactWriteItem{Delete: &types.Delete{
			TableName: table, Key: w.key,
			ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
			ReturnValuesOnConditionCheckFailure: allOld,
		}}, nil
	}
}

// sendGuarded sends w with a ConditionCheck per guard in one transaction.
// Its ClientRequestToken is derived from the write id, so the SDK's own
// retries of this attempt are replays DynamoDB recognises.
func (l *loop[T]) sendGuarded(ctx context.Context, w types.TransactWriteItem, id string) (versioned.Item, error) {
	items := make([]types.TransactWriteItem, 0, 1+len(l.o.Guards))
	items = append(items, w)
	for _, g := range l.o.Guards {
		cc, err := g.check()
		if err != nil {
			return nil, err
		}
		items = append(items, types.TransactWriteItem{ConditionCheck: cc})
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	if id != "" {
		in.ClientRequestToken = aws.String(id)
	}
	// Without SDK retries, as for single writes: a retry's answer (say,
	// throttled) would hide that the first attempt was stored.
	_, err := l.r.client.TransactWriteItems(ctx, in, l.sdkRetry())
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		return nil, err
	}
	reasons := tc.CancellationReasons
	for i, g := range l.o.Guards {
		if i+1 < len(reasons) && aws.ToString(reasons[i+1].Code) == "ConditionalCheckFailed" {
			return nil, retry.MarkPermanent(&GuardError{Condition: g, Item: reasons[i+1].Item})
		}
	}
	if len(reasons) > 0 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
		return reasons[0].Item, &types.ConditionalCheckFailedException{Message: tc.Message, Item: reasons[0].Item}
	}
	for _, r := range reasons {
		if transientReason(aws.ToString(r.Code)) {
			return nil, &transientError{err}
		}
	}
	return nil, err
}

// transientReason reports whether a cancellation reason code says the
// transaction was refused for contention or throttling: nothing was
// written, and nothing about the items' conditions is known.
func transientReason(code string) bool {
	switch code {
	case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
		return true
	}
	return false
}

// transientError marks a cancelled transaction that may simply be retried:
// DynamoDB refused it (nothing was written) because of a conflicting
// transaction or throttling.
type transientError struct{ err error }

func (e *transientError) Error() string           { return e.err.Error() }
func (e *transientError) Unwrap() error           { return e.err }
func (e *transientError) RetryClass() retry.Class { return retry.Transient }

// baseCond is the condition of a write or check based on version w.base:
// the version, and, when the write id stored with that version is known,
// that id too. Versions start again at 1 when an item is deleted and
// created anew; the id tells the new item from the one that was read, so a
// write based on the old one cannot land on the new one (ABA).
func baseCond(w writeSpec) expression.ConditionBuilder {
	c := w.schema.VersionIs(w.base)
	if id := w.baseIDs[w.base]; id != "" {
		entry := expression.NameNoDotSplit(w.idAttr).AppendName(expression.NameNoDotSplit(strconv.FormatInt(w.base, 10)))
		c = c.And(entry.Equal(expression.Value(&types.AttributeValueMemberS{Value: id})))
	}
	return c
}

// setWriteID adds the write's id to the update, and the writer slot's
// entry. When the base item's id map is known, only the new entries are SET
// and the entries beyond the bounds REMOVEd; otherwise the whole map is
// written.
func setWriteID(u expression.UpdateBuilder, w writeSpec) expression.UpdateBuilder {
	attr := expression.NameNoDotSplit(w.idAttr)
	if _, ok := w.old[w.idAttr].(*types.AttributeValueMemberM); !ok {
		return u.Set(attr, expression.Value(idMap(w)))
	}
	entry := func(k string) expression.NameBuilder { return attr.AppendName(expression.NameNoDotSplit(k)) }
	version := w.base + 1
	u = u.Set(entry(strconv.FormatInt(version, 10)), expression.Value(&types.AttributeValueMemberS{Value: w.id}))
	for _, v := range dropIDs(w.baseIDs, version, w.keep) {
		u = u.Remove(entry(strconv.FormatInt(v, 10)))
	}
	if w.writer != "" {
		u = u.Set(entry(w.writer), expression.Value(writerEntry{version, w.id}.value()))
		for _, k := range dropWriters(writerEntries(w.old, w.idAttr), w.writer, keepWriters) {
			u = u.Remove(entry(k))
		}
	}
	return u
}

func oldItem(err error) versioned.Item {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item
	}
	return nil
}
