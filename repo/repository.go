package repo

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/versioned"
)

// Repository reads and writes items of type T in one table, every write
// conditioned on the item's version. Build one with [New]. A Repository is
// safe for concurrent use by many goroutines; it holds no connection of its
// own, only the client.
type Repository[T any] struct {
	client API
	table  string
	schema *versioned.Schema
	opts   Options
	queues queues
}

// New returns a repository of T items in table. It parses T's `dynamo` tags
// (see package versioned) and validates the options; it sends no request.
// A nil client, a table name DynamoDB would refuse, bad tags and bad options
// are errors: [ErrInvalidArgument], or a *versioned.SchemaError matching
// versioned.ErrSchema.
func New[T any](client API, table string, optFns ...func(*Options)) (*Repository[T], error) {
	if isNil(client) {
		return nil, invalid("nil client")
	}
	if err := checkTableName(table); err != nil {
		return nil, err
	}
	s, err := versioned.SchemaOf[T]()
	if err != nil {
		return nil, err
	}
	o := defaultOptions()
	for _, fn := range optFns {
		fn(&o)
	}
	if err := o.validate(s.Attributes); err != nil {
		return nil, err
	}
	return &Repository[T]{client: client, table: table, schema: s, opts: o}, nil
}

func isNil(c API) bool {
	if c == nil {
		return true
	}
	v := reflect.ValueOf(c)
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}

func checkTableName(t string) error {
	if len(t) < 3 || len(t) > 255 {
		return invalid("table name %q: want 3 to 255 characters", t)
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return invalid("table name %q: only letters, digits, '_', '-' and '.' are allowed", t)
		}
	}
	return nil
}

// Table returns the table name. Safe for concurrent use.
func (r *Repository[T]) Table() string { return r.table }

// Schema returns T's parsed schema. Safe for concurrent use.
func (r *Repository[T]) Schema() *versioned.Schema { return r.schema }

// options returns the repository's options changed by optFns for one call.
func (r *Repository[T]) options(optFns []func(*Options)) (Options, error) {
	if len(optFns) == 0 {
		return r.opts, nil
	}
	o := r.opts
	for _, fn := range optFns {
		fn(&o)
	}
	return o, o.validate(r.schema.Attributes)
}

func (r *Repository[T]) key(k ItemKey) (versioned.Item, error) {
	key, err := r.schema.Key(k.hash, k.rng)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return key, nil
}

func (r *Repository[T]) decode(item versioned.Item) (T, error) {
	var t T
	err := r.schema.Unmarshal(item, &t)
	return t, err
}

// getRaw reads the stored item; (nil, nil) when there is none.
func (r *Repository[T]) getRaw(ctx context.Context, key versioned.Item, consistent bool) (versioned.Item, error) {
	out, err := r.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(r.table),
		Key:            key,
		ConsistentRead: aws.Bool(consistent),
	})
	if err != nil {
		return nil, r.apiErr(err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

// apiErr names the table in a missing-table error.
func (r *Repository[T]) apiErr(err error) error {
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("%w: %s: %w", ErrTableNotFound, r.table, err)
	}
	return err
}

func (r *Repository[T]) notFound(key versioned.Item) error {
	return fmt.Errorf("%w: %s %s", ErrNotFound, r.table, FormatKey(key))
}

func checkCtx(ctx context.Context) error {
	if ctx == nil {
		panic("repo: nil context")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("repo: %w", err)
	}
	return nil
}
