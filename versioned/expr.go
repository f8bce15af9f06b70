package versioned

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// name builds an expression name for a top-level attribute. Names always go
// through ExpressionAttributeNames, so reserved words (name, status, data)
// work, and are never split at dots: "a.b" is one attribute.
func name(attr string) expression.NameBuilder { return expression.NameNoDotSplit(attr) }

func number(n int64) expression.ValueBuilder {
	return expression.Value(&types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)})
}

// VersionIs is the condition "the stored version is n": the condition of a
// Save or Delete of an item read at version n. It fails when the item is
// missing, since a missing attribute equals nothing.
func (s *Schema) VersionIs(n int64) expression.ConditionBuilder {
	return name(s.Version.Attr).Equal(number(n))
}

// NotExists is the condition "no item with this key is stored": the
// condition of a Create.
func (s *Schema) NotExists() expression.ConditionBuilder {
	return name(s.Hash.Attr).AttributeNotExists()
}

// Exists is the condition "an item with this key is stored".
func (s *Schema) Exists() expression.ConditionBuilder {
	return name(s.Hash.Attr).AttributeExists()
}

// Replace builds the update that makes the stored item equal to item for
// every attribute the schema knows: it SETs each non-key attribute item has
// and REMOVEs each known attribute item leaves out (an omitempty zero).
// Attributes the type does not know are left as they are, so that fields
// added by newer code or by other writers survive. The key attributes are
// not part of an update, nor are the attributes named in except.
func (s *Schema) Replace(item Item, except ...string) expression.UpdateBuilder {
	var u expression.UpdateBuilder
	for _, a := range s.Attributes {
		if a == s.Hash.Attr || (s.HasRange && a == s.Range.Attr) || slices.Contains(except, a) {
			continue
		}
		if v, ok := item[a]; ok {
			u = u.Set(name(a), expression.Value(v))
		} else {
			u = u.Remove(name(a))
		}
	}
	return u
}

// Expr builds the expression of a versioned update: the update and its
// condition.
func Expr(update expression.UpdateBuilder, cond expression.ConditionBuilder) (expression.Expression, error) {
	e, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return e, fmt.Errorf("versioned: build expression: %w", err)
	}
	return e, nil
}

// CondExpr builds an expression holding only a condition (for PutItem,
// DeleteItem and ConditionCheck).
func CondExpr(cond expression.ConditionBuilder) (expression.Expression, error) {
	e, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return e, fmt.Errorf("versioned: build expression: %w", err)
	}
	return e, nil
}
