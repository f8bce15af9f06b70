package repo

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ErrGuardFailed is matched by a write or transaction refused because one of
// its guard conditions ([Guard], [Tx.Check]) did not hold.
var ErrGuardFailed = errors.New("repo: guard condition failed")

// Condition is a check on another item that DynamoDB evaluates atomically
// with a write: "this lease is still held with this token". Build one by
// hand or get one from the lease package. A Condition is a plain value, safe
// to copy and share.
type Condition struct {
	Table string
	Key   map[string]types.AttributeValue
	Cond  expression.ConditionBuilder
	// Name says what the condition protects, for messages, e.g.
	// `lease "db.events/commit" token 7`.
	Name string
	// Err, if set, is wrapped (besides ErrGuardFailed) when the condition
	// fails, e.g. lease.ErrLost.
	Err error
}

func (c Condition) validate() error {
	if p := tableNameProblem(c.Table); p != "" {
		return invalid("guard %s: table name %q: %s", c.Name, c.Table, p)
	}
	if len(c.Key) == 0 {
		return invalid("guard %s: no key", c.Name)
	}
	if !c.Cond.IsSet() {
		return invalid("guard %s: no condition", c.Name)
	}
	return nil
}

// check builds the ConditionCheck of c.
func (c Condition) check() (*types.ConditionCheck, error) {
	e, err := expression.NewBuilder().WithCondition(c.Cond).Build()
	if err != nil {
		return nil, invalid("guard %s: %w", c.Name, err)
	}
	return &types.ConditionCheck{
		TableName: aws.String(c.Table), Key: c.Key,
		ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}, nil
}

// GuardError says which guard failed.
type GuardError struct {
	Condition Condition
	// Item is the guarded item as stored when the check failed (nil if
	// there is none).
	Item map[string]types.AttributeValue
}

// Error implements error.
func (e *GuardError) Error() string {
	return fmt.Sprintf("repo: guard %s on %s %s failed", e.Condition.Name, e.Condition.Table, FormatKey(e.Condition.Key))
}

// Unwrap returns [ErrGuardFailed] and the condition's own Err.
func (e *GuardError) Unwrap() []error {
	if e.Condition.Err != nil {
		return []error{ErrGuardFailed, e.Condition.Err}
	}
	return []error{ErrGuardFailed}
}

// Guard is a per-call option that makes a write (Create, Save, Update,
// Delete, DeleteKey) conditional on c as well: the write is sent as a
// TransactWriteItems with a ConditionCheck on c's item, so DynamoDB applies
// it only if c holds at that instant. A failed guard stops the call with a
// [*GuardError] matching [ErrGuardFailed] (and c.Err); it is not retried.
// A transactional write costs twice the write units of a plain one.
func Guard(c Condition) func(*Options) {
	return func(o *Options) { o.Guards = append(o.Guards[:len(o.Guards):len(o.Guards)], c) }
}
