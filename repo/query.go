package repo

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

// QueryOptions shape one query: [Repository.Query], [Repository.QueryPartial],
// [Repository.QueryPage], [Repository.QueryPartialPage] and
// [Repository.Count]. Everything is checked before any request is sent; a
// bad option is an error matching [ErrInvalidArgument].
type QueryOptions struct {
	// Index queries the secondary index of this name, as declared on T's
	// tags (see [versioned.Schema.Index]): the hash value is then the
	// index's hash key and Range applies to the index's range key. An index
	// T does not declare is refused. Default "": the table.
	//
	// A global index (GSI) can only be read eventually consistently, so a
	// query of one must set EventuallyConsistent: a consistent read of a
	// GSI is refused, never silently downgraded. An index that stores only
	// some attributes (KEYS_ONLY, INCLUDE) returns partial items: query it
	// with QueryPartial.
	Index string
	// Range restricts the range key (of the table, or of Index); the zero
	// value matches every item. A condition on an index without a range
	// key is refused.
	Range RangeCondition
	// Filter drops items after they are read (they still cost read
	// capacity), e.g. expression.Name("status").Equal(expression.Value("open")).
	// A filter on a key attribute of the table or of Index is refused: use
	// Range (or another index) instead. Default: none.
	Filter expression.ConditionBuilder
	// Project reads only these attributes of T (their names in DynamoDB),
	// plus the key attributes and the version (unless a global Index lacks
	// it), which are always read. Items are then partial, unless every
	// attribute is named: query with QueryPartial. An unknown name, or one a
	// global Index does not store, is refused. Default: every attribute.
	Project []string
	// Descending returns items in descending range key order.
	Descending bool
	// PageSize is the number of items asked for per request (DynamoDB's
	// Limit); 0 lets DynamoDB fill 1 MB pages. For the page calls it is
	// the page size: a page holds at most PageSize items, and with 0 it is
	// one request's worth.
	PageSize int32
	// Limit stops the iteration after this many items, and makes Count
	// stop at this many; 0 means all. The page calls refuse it (their page
	// size is PageSize).
	Limit int
	// EventuallyConsistent makes the reads eventually consistent. Default:
	// the repository's Options.EventuallyConsistent. Required for a
	// global Index.
	EventuallyConsistent bool
	// Stats, when not nil, has the call's requests, items and consumed
	// capacity added to it (see [Stats]). Default nil.
	Stats *Stats
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
// restricted by QueryOptions.Range and Filter, as an iterator that fetches
// page after page as it is consumed:
//
//	for a, err := range entries.Query(ctx, "user-7", func(o *repo.QueryOptions) {
//	    o.Range = repo.RangeBeginsWith("2026-")
//	}) {
//	    if err != nil { return err }
//	    ...
//	}
//
// With QueryOptions.Index it queries a secondary index, and hash is the
// value of the index's hash key. Query returns whole items only: a query
// with QueryOptions.Project, or of an index that stores only some
// attributes, is refused (use [Repository.QueryPartial]).
//
// On an error the iterator yields it once with a zero T and stops; bad
// options, hash or range values are yielded before any request is sent.
// Breaking out of the loop stops paging. Each page is one request
// (transient errors are retried under the repository's Options.Retry),
// blocking while the loop waits; cancelling ctx ends the iteration with
// ctx's error. The iterator may be used once per range loop, from one
// goroutine at a time; the Repository stays safe for concurrent use.
func (r *Repository[T]) Query(ctx context.Context, hash any, optFns ...func(*QueryOptions)) iter.Seq2[T, error] {
	return queryIter(r, ctx, hash, optFns, readWhole, r.decodeWhole)
}

// QueryPartial is [Repository.Query] for reads that may return only part
// of each item: with QueryOptions.Project, or of an index that stores only
// some attributes (KEYS_ONLY, INCLUDE). It yields [Partial] values, which
// cannot be saved by mistake; a query that reads whole items may use it
// too. Blocking, errors and concurrency as for Query.
func (r *Repository[T]) QueryPartial(ctx context.Context, hash any, optFns ...func(*QueryOptions)) iter.Seq2[Partial[T], error] {
	return queryIter(r, ctx, hash, optFns, readPartial, r.decodePartial)
}

// QueryPage reads one page of the query [Repository.Query] would run,
// starting after cursor ("" for the first page), and returns it with the
// cursor of the next page (Page.Next, "" after the last). A page holds at
// most QueryOptions.PageSize items: QueryPage sends requests until it has
// them or reaches the end (a filter may drop items); with PageSize 0 it
// sends one request. QueryOptions.Limit is refused.
//
// A cursor is bound to the query that made it: the table, index, hash
// value, range condition, filter, projection and order. One made by
// another query, or changed, is refused before any request with a
// [*CursorError] (matching [ErrInvalidCursor] and [ErrInvalidArgument]).
// A cursor is an opaque URL-safe string that holds the key of the last item
// read, in clear: it is tamper-evident against accidents, not secret, and
// it stays valid as long as the table does.
//
// QueryPage blocks until answered; cancelling ctx stops it. Safe for
// concurrent use.
func (r *Repository[T]) QueryPage(ctx context.Context, hash any, cursor string, optFns ...func(*QueryOptions)) (Page[T], error) {
	return queryPage(r, ctx, hash, cursor, optFns, readWhole, r.decodeWhole)
}

// QueryPartialPage is [Repository.QueryPage] for reads that may return
// only part of each item (see [Repository.QueryPartial]). The same query
// makes the same cursors through QueryPage and QueryPartialPage; a
// projection is part of the query a cursor is bound to.
func (r *Repository[T]) QueryPartialPage(ctx context.Context, hash any, cursor string, optFns ...func(*QueryOptions)) (Page[Partial[T]], error) {
	return queryPage(r, ctx, hash, cursor, optFns, readPartial, r.decodePartial)
}

// Count returns the number of items the query would return (after
// QueryOptions.Filter), reading every page with Select COUNT: the items are
// read, and cost read capacity, but not sent back. With QueryOptions.Limit
// it stops once it has counted that many and returns at most Limit.
// QueryOptions.Project is refused. Count blocks until answered; cancelling
// ctx stops it. Safe for concurrent use.
func (r *Repository[T]) Count(ctx context.Context, hash any, optFns ...func(*QueryOptions)) (int64, error) {
	q, err := r.planQuery(ctx, hash, optFns, readCount, false)
	if err != nil {
		return 0, err
	}
	var n int64
	for {
		out, _, err := r.queryOnce(ctx, q)
		if err != nil {
			return 0, err
		}
		n += int64(out.Count)
		if lim := int64(q.o.Limit); lim > 0 && n >= lim {
			return lim, nil
		}
		if len(out.LastEvaluatedKey) == 0 {
			return n, nil
		}
		q.in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// readMode is what a query or scan returns.
type readMode int

const (
	readWhole   readMode = iota // T: partial reads refused
	readPartial                 // Partial[T]
	readCount                   // a count
)

// decodeWhole decodes an item read whole.
func (r *Repository[T]) decodeWhole(_ *projection, item versioned.Item) (T, error) {
	return r.decode(item)
}

// queryPlan is a checked query: its first request and what it reads.
type queryPlan struct {
	in   *dynamodb.QueryInput
	o    QueryOptions
	ix   *versioned.Index
	proj projection
	bind *binding
}

func queryIter[T, V any](r *Repository[T], ctx context.Context, hash any, optFns []func(*QueryOptions), mode readMode,
	dec func(*projection, versioned.Item) (V, error)) iter.Seq2[V, error] {
	return func(yield func(V, error) bool) {
		var zero V
		q, err := r.planQuery(ctx, hash, optFns, mode, false)
		if err != nil {
			yield(zero, err)
			return
		}
		y := itemYield[V]{yield: yield, dec: dec, proj: &q.proj, limit: q.o.Limit}
		for {
			out, _, err := r.queryOnce(ctx, q)
			if err != nil {
				yield(zero, err)
				return
			}
			if !y.items(out.Items) || len(out.LastEvaluatedKey) == 0 {
				return
			}
			q.in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
}

// itemYield hands the items of a query's or scan's answers to a range
// loop, decoded, and counts them against the iteration's limit.
type itemYield[V any] struct {
	yield    func(V, error) bool
	dec      func(*projection, versioned.Item) (V, error)
	proj     *projection
	limit, n int // limit 0: none
}

// items yields items; it returns false when the iteration is over: the
// loop broke out, an item failed to decode, or the limit is reached.
func (y *itemYield[V]) items(items []map[string]types.AttributeValue) bool {
	for _, item := range items {
		v, err := y.dec(y.proj, item)
		if !y.yield(v, err) || err != nil {
			return false
		}
		if y.n++; y.limit > 0 && y.n >= y.limit {
			return false
		}
	}
	return true
}

// readRetried sends one read with call, re-sending it after transient
// errors under p; the repository's observer hears of the retries as op.
func readRetried[T, O any](ctx context.Context, r *Repository[T], p retry.Policy, op string, call func(context.Context) (O, error)) (O, error) {
	var out O
	err := retry.Do(ctx, p, func(ctx context.Context, _ int) error {
		var err error
		out, err = call(ctx)
		return r.apiErr(err)
	}, r.opts.Observer.retries(r.table, op))
	return out, err
}

func queryPage[T, V any](r *Repository[T], ctx context.Context, hash any, cursor string, optFns []func(*QueryOptions), mode readMode,
	dec func(*projection, versioned.Item) (V, error)) (Page[V], error) {
	q, err := r.planQuery(ctx, hash, optFns, mode, true)
	if err != nil {
		return Page[V]{}, err
	}
	if q.in.ExclusiveStartKey, err = q.bind.decode(cursor); err != nil {
		return Page[V]{}, err
	}
	return fillPage(q.o.PageSize, &q.proj, dec, q.bind.encode, func(limit *int32, start versioned.Item) (pageAnswer, error) {
		q.in.Limit, q.in.ExclusiveStartKey = limit, start
		out, units, err := r.queryOnce(ctx, q)
		if err != nil {
			return pageAnswer{}, err
		}
		return pageAnswer{out.Items, out.LastEvaluatedKey, units}, nil
	}, q.in.ExclusiveStartKey)
}

// pageAnswer is what one request of a page call returned.
type pageAnswer struct {
	items []map[string]types.AttributeValue
	last  map[string]types.AttributeValue
	units float64 // capacity units consumed
}

// fillPage is a page call's loop: it sends requests (fetch, with the
// number of items still wanted, nil without a page size, and where to
// start) until the page holds size items or the results end, decodes the
// items with dec, and returns the page with the cursor of where it
// stopped (encode), "" at the end. A page size of 0 means one request.
func fillPage[V any](size int32, proj *projection, dec func(*projection, versioned.Item) (V, error),
	encode func(map[string]types.AttributeValue) (string, error),
	fetch func(limit *int32, start versioned.Item) (pageAnswer, error), start versioned.Item) (Page[V], error) {
	var p Page[V]
	for {
		var limit *int32
		if size > 0 {
			limit = aws.Int32(size - int32(len(p.Items)))
		}
		a, err := fetch(limit, start)
		if err != nil {
			return Page[V]{}, err
		}
		p.ConsumedCapacity += a.units
		for _, item := range a.items {
			v, err := dec(proj, item)
			if err != nil {
				return Page[V]{}, err
			}
			p.Items = append(p.Items, v)
		}
		if len(a.last) == 0 {
			return p, nil
		}
		if size == 0 || len(p.Items) >= int(size) {
			p.Next, err = encode(a.last)
			return p, err
		}
		start = a.last
	}
}

// queryOnce sends q's request, re-sending it after transient errors, and
// adds its answer to the stats; it returns the capacity consumed too.
func (r *Repository[T]) queryOnce(ctx context.Context, q *queryPlan) (*dynamodb.QueryOutput, float64, error) {
	out, err := readRetried(ctx, r, q.o.Retry, "Query", func(ctx context.Context) (*dynamodb.QueryOutput, error) {
		return r.client.Query(ctx, q.in)
	})
	if err != nil {
		return nil, 0, err
	}
	return out, q.o.Stats.add(out.Count, out.ScannedCount, out.ConsumedCapacity), nil
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

// planQuery checks a query's arguments and builds its first request. page:
// for a page call.
func (r *Repository[T]) planQuery(ctx context.Context, hash any, optFns []func(*QueryOptions), mode readMode, page bool) (*queryPlan, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	o, err := r.queryOptions(optFns)
	if err != nil {
		return nil, err
	}
	if page && o.Limit > 0 {
		return nil, invalid("QueryOptions.Limit on a page call: the page size is QueryOptions.PageSize")
	}
	ix, err := r.lookupIndex("QueryOptions.Index", o.Index)
	if err != nil {
		return nil, err
	}
	s := r.schema
	hashAttr, rangeAttr, rangeType := s.HashAttr(), s.RangeAttr(), s.RangeType()
	if ix != nil {
		if ix.Global && !o.EventuallyConsistent {
			return nil, invalid("QueryOptions: a consistent read of global index %q: DynamoDB reads a GSI only eventually consistently; set QueryOptions.EventuallyConsistent", ix.Name)
		}
		hashAttr, rangeAttr, rangeType = ix.HashAttr, ix.RangeAttr, ix.RangeType
	}
	hv, err := r.keyValue(ix, false, hash)
	if err != nil {
		return nil, err
	}
	cond := expression.Key(hashAttr).Equal(expression.Value(hv))
	if o.Range.build != nil {
		if rangeAttr == "" {
			return nil, invalid("QueryOptions.Range on %s, which has no range key", r.readWords(ix))
		}
		if o.Range.prefix && rangeType != types.ScalarAttributeTypeS {
			return nil, invalid("RangeBeginsWith on the non-string range key %q of %s", rangeAttr, r.readWords(ix))
		}
		vals := make([]expression.ValueBuilder, len(o.Range.values))
		for i, v := range o.Range.values {
			rv, err := r.keyValue(ix, true, v)
			if err != nil {
				return nil, err
			}
			vals[i] = expression.Value(rv)
		}
		cond = cond.And(o.Range.build(expression.Key(rangeAttr), vals))
	}
	b := expression.NewBuilder().WithKeyCondition(cond)
	if o.Filter.IsSet() {
		if err := r.checkQueryFilter(o.Filter, ix); err != nil {
			return nil, err
		}
		b = b.WithFilter(o.Filter)
	}
	if mode == readCount && len(o.Project) > 0 {
		return nil, invalid("QueryOptions.Project on Count")
	}
	proj, err := r.project("QueryOptions.Project", o.Project, ix)
	if err != nil {
		return nil, err
	}
	if mode == readWhole && proj.partial {
		return nil, invalid("a query of %s returns partial items (%s): use QueryPartial or QueryPartialPage", r.readWords(ix), r.partialWhy(o.Project, ix))
	}
	if mode != readCount && proj.expr != nil {
		b = b.WithProjection(namesList(proj.expr))
	}
	e, err := b.Build()
	if err != nil {
		return nil, invalid("query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(r.table),
		KeyConditionExpression:    e.KeyCondition(),
		FilterExpression:          e.Filter(),
		ProjectionExpression:      e.Projection(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
		ConsistentRead:            aws.Bool(!o.EventuallyConsistent),
		ScanIndexForward:          aws.Bool(!o.Descending),
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	}
	if ix != nil {
		in.IndexName = aws.String(ix.Name)
	}
	if mode == readCount {
		in.Select = types.SelectCount
	}
	if o.PageSize > 0 {
		in.Limit = aws.Int32(o.PageSize)
	}
	return &queryPlan{in: in, o: o, ix: ix, proj: proj, bind: r.queryBinding(ix, in)}, nil
}

// lookupIndex returns the index T declares under name; nil for "".
func (r *Repository[T]) lookupIndex(opt, name string) (*versioned.Index, error) {
	if name == "" {
		return nil, nil
	}
	ix, ok := r.schema.Index(name)
	if !ok {
		var names []string
		for _, ix := range r.schema.Indexes() {
			names = append(names, ix.Name)
		}
		return nil, invalid("%s: %s declares no index %q (it declares %q)", opt, r.schema.Type(), name, names)
	}
	return &ix, nil
}

// readWords names what a read reads: the table or an index.
func (r *Repository[T]) readWords(ix *versioned.Index) string {
	if ix == nil {
		return "table " + r.table
	}
	kind := "local"
	if ix.Global {
		kind = "global"
	}
	return fmt.Sprintf("%s index %q of table %s", kind, ix.Name, r.table)
}

// partialWhy says why a read returns partial items.
func (r *Repository[T]) partialWhy(project []string, ix *versioned.Index) string {
	if len(project) > 0 {
		return fmt.Sprintf("a projection of %q", project)
	}
	if ix.Projection == types.ProjectionTypeKeysOnly {
		return "the index stores only the keys"
	}
	return fmt.Sprintf("the index stores the keys and %q only", ix.NonKey)
}

// keyValue marshals v as the value of the hash key (rng: the range key)
// of the table, or of index ix, for a key condition.
func (r *Repository[T]) keyValue(ix *versioned.Index, rng bool, v any) (types.AttributeValue, error) {
	s := r.schema
	var av types.AttributeValue
	var err error
	switch {
	case ix == nil && !rng:
		av, err = s.HashValue(v)
	case ix == nil:
		av, err = s.RangeValue(v)
	case !rng:
		av, err = s.IndexHashValue(ix.Name, v)
	default:
		av, err = s.IndexRangeValue(ix.Name, v)
	}
	if err != nil {
		return nil, invalid("%w", err)
	}
	return av, nil
}

// checkQueryFilter refuses a query filter on a key attribute of the table
// or of ix: DynamoDB refuses filters on the queried keys, and a key
// condition (QueryOptions.Range) does the job without reading the items.
func (r *Repository[T]) checkQueryFilter(f expression.ConditionBuilder, ix *versioned.Index) error {
	names, err := filterAttrs(f)
	if err != nil {
		return err
	}
	keys := r.keyAttrs(ix)
	for _, n := range names {
		if slices.Contains(keys, n) {
			return invalid("QueryOptions.Filter on the key attribute %q: use QueryOptions.Range (or an index)", n)
		}
	}
	return nil
}

// filterAttrs returns the top-level attribute names filter f refers to:
// the placeholders of its expression that do not follow a '.' (a nested
// path's later parts), mapped back to their names.
func filterAttrs(f expression.ConditionBuilder) ([]string, error) {
	e, err := expression.NewBuilder().WithFilter(f).Build()
	if err != nil {
		return nil, invalid("QueryOptions.Filter: %w", err)
	}
	expr, names := aws.ToString(e.Filter()), e.Names()
	var out []string
	for i := 0; i < len(expr); i++ {
		if expr[i] != '#' {
			continue
		}
		j := i + 1
		for j < len(expr) && (expr[j] == '_' || expr[j] >= '0' && expr[j] <= '9' || expr[j] >= 'a' && expr[j] <= 'z' || expr[j] >= 'A' && expr[j] <= 'Z') {
			j++
		}
		prev := strings.TrimRight(expr[:i], " ")
		if n, ok := names[expr[i:j]]; ok && !strings.HasSuffix(prev, ".") && !slices.Contains(out, n) {
			out = append(out, n)
		}
		i = j - 1
	}
	return out, nil
}

// namesList is a projection of attrs, names taken whole (a '.' in a name is
// part of it).
func namesList(attrs []string) expression.ProjectionBuilder {
	p := expression.NamesList(expression.NameNoDotSplit(attrs[0]))
	for _, a := range attrs[1:] {
		p = p.AddNames(expression.NameNoDotSplit(a))
	}
	return p
}
