package repo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ddbocc/ddbocc/internal/ddbcode"
	"github.com/ddbocc/ddbocc/internal/turns"
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
	queue  turns.Set[handoff] // local queue of Updates per key, handing on the stored item (kept.go)
	// combining holds the Updates waiting in queue, for write combining
	// (combine.go).
	combining combiner[T]
	// writers hands out the writer slots of running calls (writers.go).
	writers *writerSlots
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
	if err := o.validate(s.Attributes()); err != nil {
		return nil, err
	}
	if f := o.Observer.Request; f != nil {
		client = ObservedClient(client, f)
	}
	r := &Repository[T]{client: client, table: table, schema: s, opts: o, writers: newWriterSlots()}
	r.queue.Keep = o.KeepItems
	return r, nil
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
	if p := tableNameProblem(t); p != "" {
		return invalid("table name %q: %s", t, p)
	}
	return nil
}

// tableNameProblem says what DynamoDB would refuse in a table name, or "".
func tableNameProblem(t string) string {
	if len(t) < 3 || len(t) > 255 {
		return "want 3 to 255 characters"
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return "only letters, digits, '_', '-' and '.' are allowed"
		}
	}
	return ""
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
	return o, o.validate(r.schema.Attributes())
}

func (r *Repository[T]) key(k ItemKey) (versioned.Item, error) {
	key, err := r.schema.Key(k.hash, k.rng)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return key, nil
}

// decode unmarshals a stored item; on error it returns the zero T, never a
// half-decoded one.
func (r *Repository[T]) decode(item versioned.Item) (T, error) {
	var t T
	if err := r.schema.Unmarshal(item, &t); err != nil {
		var zero T
		return zero, fmt.Errorf("repo: table %s: %w", r.table, err)
	}
	return t, nil
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

// apiErr names the table in an error from DynamoDB, and says so when the
// table is missing or its key schema is not T's.
func (r *Repository[T]) apiErr(err error) error {
	if err == nil {
		return nil
	}
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("%w: %s: %w", ErrTableNotFound, r.table, err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == ddbcode.Validation && keyMismatch(ae.ErrorMessage()) {
		return fmt.Errorf("%w: table %s does not have the key of %s (%s): %w", ErrTableMismatch, r.table, r.schema.Type(), r.keyDesc(), err)
	}
	return fmt.Errorf("repo: table %s: %w", r.table, err)
}

// keyMismatch recognises DynamoDB's messages for a key that does not fit
// the table's key schema.
func keyMismatch(msg string) bool {
	for _, m := range []string{
		"key element does not match the schema",
		"number of conditions on the keys is invalid",
		"required keys was not given a value",
	} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

func (r *Repository[T]) keyDesc() string {
	s := r.schema
	d := fmt.Sprintf("hash %s %s", s.HashAttr(), s.HashType())
	if s.HasRange() {
		d += fmt.Sprintf(", range %s %s", s.RangeAttr(), s.RangeType())
	}
	return d
}

func (r *Repository[T]) notFound(key versioned.Item) error {
	return fmt.Errorf("%w: %s %s", ErrNotFound, r.table, FormatKey(key))
}

// begin starts a call: it checks ctx and builds the call's options.
func (r *Repository[T]) begin(ctx context.Context, optFns []func(*Options)) (Options, error) {
	if err := checkCtx(ctx); err != nil {
		return Options{}, err
	}
	return r.options(optFns)
}

// beginKey starts a call on the item under k: begin, and k marshalled.
func (r *Repository[T]) beginKey(ctx context.Context, k ItemKey, optFns []func(*Options)) (Options, versioned.Item, error) {
	o, err := r.begin(ctx, optFns)
	if err != nil {
		return o, nil, err
	}
	key, err := r.key(k)
	return o, key, err
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
