package repo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CreateTable creates the repository's table with the key schema of T's
// tags and on-demand billing, and waits until it is ACTIVE. It is
// idempotent: an existing table with the same key schema is waited for and
// accepted; one with another key schema is an error matching
// [ErrTableMismatch]. It blocks until the table is ACTIVE or ctx is done.
// Safe for concurrent use.
func (r *Repository[T]) CreateTable(ctx context.Context) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	s := r.schema
	keys := []types.KeySchemaElement{{AttributeName: aws.String(s.HashAttr()), KeyType: types.KeyTypeHash}}
	attrs := []types.AttributeDefinition{{AttributeName: aws.String(s.HashAttr()), AttributeType: s.HashType()}}
	if s.HasRange() {
		keys = append(keys, types.KeySchemaElement{AttributeName: aws.String(s.RangeAttr()), KeyType: types.KeyTypeRange})
		attrs = append(attrs, types.AttributeDefinition{AttributeName: aws.String(s.RangeAttr()), AttributeType: s.RangeType()})
	}
	_, err := r.client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(r.table),
		KeySchema:            keys,
		AttributeDefinitions: attrs,
		BillingMode:          types.BillingModePayPerRequest,
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("repo: create table %s: %w", r.table, err)
	}
	return r.waitActive(ctx, keys, attrs)
}

func (r *Repository[T]) waitActive(ctx context.Context, keys []types.KeySchemaElement, attrs []types.AttributeDefinition) error {
	delay := 50 * time.Millisecond
	for {
		out, err := r.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.table)})
		if err != nil {
			var nf *types.ResourceNotFoundException
			if !errors.As(err, &nf) { // a table just created may not be visible yet
				return fmt.Errorf("repo: describe table %s: %w", r.table, err)
			}
		} else {
			if err := r.sameKeys(out.Table, keys, attrs); err != nil {
				return err
			}
			if out.Table.TableStatus == types.TableStatusActive {
				return nil
			}
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("repo: waiting for table %s: %w", r.table, ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, 2*time.Second)
	}
}

func (r *Repository[T]) sameKeys(d *types.TableDescription, keys []types.KeySchemaElement, attrs []types.AttributeDefinition) error {
	want := keyString(keys, attrs)
	got := keyString(d.KeySchema, d.AttributeDefinitions)
	if want != got {
		return fmt.Errorf("%w: table %s has key %s, type %s wants %s", ErrTableMismatch, r.table, got, r.schema.Type(), want)
	}
	return nil
}

func keyString(keys []types.KeySchemaElement, attrs []types.AttributeDefinition) string {
	typ := map[string]types.ScalarAttributeType{}
	for _, a := range attrs {
		typ[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	s := ""
	for _, k := range keys {
		n := aws.ToString(k.AttributeName)
		s += fmt.Sprintf("%s(%s %s) ", k.KeyType, n, typ[n])
	}
	return s
}
