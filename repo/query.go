package repo

import (
	"context"
	"iter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/retry"
)

// QueryOptions shape one [Repository.Query].
type QueryOptions struct {
	// Range restricts the range key; the zero value matches every item.
	Range RangeCondition
	// Descending returns items in descending range key order.
	Descending bool
	// PageSize is the number of items asked for per request (DynamoDB's
	// Limit); 0 lets DynamoDB fill 1 MB pages.
	PageSize int32
	// Limit stops the iteration after this many items; 0 means all.
	Limit int
	// EventuallyConsistent makes the reads eventually consistent. Default:
	// the repository's Options.EventuallyConsistent.
	EventuallyConsistent bool
	// Retry bounds the re-sending of a page's request after transient
	// errors. Default: the repository's Options.Retry.
	Retry retry.Policy
}

// RangeCondition is a condition on the range key; build one with
// [RangeEquals], [RangeLess], [RangeLessOrEqual], [RangeGreater],
// [RangeGreaterOrEqual], [RangeBetween] or [RangeBeginsWith].
type RangeCondition struct {
	values []any
	build  func(name expression.KeyBuilder, vals []expression.ValueBuilder) expression.KeyConditionBuilder
	prefix bool
}

func rangeCond(f func(expression.KeyBuilder, []expression.ValueBuilder) expression.KeyConditionBuilder, vals ...any) RangeCondition {
	return RangeCondition{values: vals, build: f}
}

// RangeEquals matches a range key equal to v.
func RangeEquals(v any) RangeCondition {
	return rangeCond(func(k expression.KeyBuilder, v []expression.ValueBuilder) expression.KeyConditionBuilder {
		return k.Equal(v[0])
	}, v)
}

// RangeLess matches a range key below v.
func RangeLess(v any) RangeCondition {
	return rangeCond(func(k expression.KeyBuilder, v []expression.ValueBuilder) expression.KeyConditionBuilder {
		return k.LessThan(v[0])
	}, v)
}

// RangeLessOrEqual matches a range key at most v.
func RangeLessOrEqual(v any) RangeCondition {
	return rangeCond(func(k expression.KeyBuilder, v []expression.ValueBuilder) expression.KeyConditionBuilder {
		return k.LessThanEqual(v[0])
	}, v)
}

// RangeGreater matches a range key above v.
func RangeGreater(v any) RangeCondition {
	return rangeCond(func(k expression.KeyBuilder, v []expression.ValueBuilder) expression.KeyConditionBuilder {
		return k.GreaterThan(v[0])
	}, v)
}

// RangeGreaterOrEqual matches a range key at least v.
func RangeGreaterOrEqual(v any) RangeCondition {
	return rangeCond(func(k expression.KeyBuilder, v []expression.ValueBuilder) expression.KeyConditionBuilder {
		return k.GreaterThanEqual(v[0])
	}, v)
}

// RangeBetween matches a range key in [lo, hi].
func RangeBetween(lo, hi any) RangeCondition {
	return rangeCond(func(k expression.KeyBuilder, v []expression.ValueBuilder) expression.KeyConditionBuilder {
		return k.Between(v[0], v[1])
	}, lo, hi)
}

// RangeBeginsWith matches a string range key starting with prefix.
func RangeBeginsWith(prefix string) RangeCondition {
	c := rangeCond(func(k expression.KeyBuilder, v []expression.ValueBuilder) expression.KeyConditionBuilder {
		return k.BeginsWith(prefix)
	}, prefix)
	c.prefix = true
	return c
}

// Query returns the items under one hash key value, in range key order,
// restricted by QueryOptions.Range, as an iterator that fetches page after
// page as it is consumed:
//
//	for a, err := range entries.Query(ctx, "user-7", func(o *repo.QueryOptions) {
//	    o.Range = repo.RangeBeginsWith("2026-")
//	}) {
//	    if err != nil { return err }
//	    ...
//	}
//
// On an error the iterator yields it once with a zero T and stops; a bad
// hash or range value is yielded before any request is sent. Breaking out
// of the loop stops paging. Each page is one request (transient errors are
// retried under the repository's Options.Retry), blocking while the loop waits; cancelling ctx ends the iteration with ctx's error. The
// iterator may be used once per range loop, from one goroutine at a time.
func (r *Repository[T]) Query(ctx context.Context, hash any, optFns ...func(*QueryOptions)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		in, o, err := r.queryInput(ctx, hash, optFns)
		if err != nil {
			yield(zero, err)
			return
		}
		n := 0
		for {
			var out *dynamodb.QueryOutput
			err := retry.Do(ctx, o.Retry, func(ctx context.Context, _ int) error {
				var err error
				out, err = r.client.Query(ctx, in)
				return r.apiErr(err)
			}, r.opts.Observer.retries(r.table, "Query"))
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range out.Items {
				t, err := r.decode(item)
				if !yield(t, err) || err != nil {
					return
				}
				if n++; o.Limit > 0 && n >= o.Limit {
					return
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				return
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
}

// queryOptions are the repository's defaults, then optFns, validated.
func (r *Repository[T]) queryOptions(optFns []func(*QueryOptions)) (QueryOptions, error) {
	o := QueryOptions{EventuallyConsistent: r.opts.EventuallyConsistent, Retry: r.opts.Retry}
	for _, fn := range optFns {
		fn(&o)
	}
	if o.PageSize < 0 || o.Limit < 0 {
		return o, invalid("QueryOptions: negative PageSize or Limit")
	}
	if err := o.Retry.Validate(); err != nil {
		return o, invalid("QueryOptions.Retry: %w", err)
	}
	return o, nil
}

func (r *Repository[T]) queryInput(ctx context.Context, hash any, optFns []func(*QueryOptions)) (*dynamodb.QueryInput, QueryOptions, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, QueryOptions{}, err
	}
	o, err := r.queryOptions(optFns)
	if err != nil {
		return nil, o, err
	}
	s := r.schema
	hv, err := s.HashValue(hash)
	if err != nil {
		return nil, o, invalid("%w", err)
	}
	cond := expression.Key(s.HashAttr()).Equal(expression.Value(hv))
	if o.Range.build != nil {
		if !s.HasRange() {
			return nil, o, invalid("QueryOptions.Range on %s, which has no range key", s.Type())
		}
		vals := make([]expression.ValueBuilder, len(o.Range.values))
		for i, v := range o.Range.values {
			if o.Range.prefix && s.RangeType() != types.ScalarAttributeTypeS {
				return nil, o, invalid("RangeBeginsWith on the non-string range key %q", s.RangeAttr())
			}
			rv, err := s.RangeValue(v)
			if err != nil {
				return nil, o, invalid("%w", err)
			}
			vals[i] = expression.Value(rv)
		}
		cond = cond.And(o.Range.build(expression.Key(s.RangeAttr()), vals))
	}
	e, err := expression.NewBuilder().WithKeyCondition(cond).Build()
	if err != nil {
		return nil, o, invalid("query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(r.table),
		KeyConditionExpression:    e.KeyCondition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
		ConsistentRead:            aws.Bool(!o.EventuallyConsistent),
		ScanIndexForward:          aws.Bool(!o.Descending),
	}
	if o.PageSize > 0 {
		in.Limit = aws.Int32(o.PageSize)
	}
	return in, o, nil
}
