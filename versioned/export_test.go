package versioned

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
)

// Expr and CondExpr build expressions from the schema's builders for the
// package's tests; repo builds its own (repo/wire.go).

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
