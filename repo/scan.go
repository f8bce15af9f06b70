package repo

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

// MaxScanSegments is DynamoDB's limit on the segments of a parallel scan.
const MaxScanSegments = 1000000

// defaultScanConcurrency bounds ScanOptions.Concurrency's default.
const defaultScanConcurrency = 16

// ScanOptions shape one scan: [Repository.Scan], [Repository.ScanPartial],
// [Repository.ScanPage] and [Repository.ScanPartialPage]. Everything is
// checked before any request is sent; a bad option is an error matching
// [ErrInvalidArgument].
type ScanOptions struct {
	// Index scans the secondary index of this name, as declared on T's
	// tags. An index that stores only some attributes (KEYS_ONLY, INCLUDE)
	// returns partial items: scan it with ScanPartial. Default "": the
	// table.
	Index string
	// Filter drops items after they are read (they still cost read
	// capacity). Any attribute may be filtered on, keys included. Default:
	// none.
	Filter expression.ConditionBuilder
	// Project reads only these attributes of T, plus the key attributes
	// and the version; items are then partial: scan with ScanPartial. An
	// unknown name, or one a global Index does not store, is refused.
	// Default: every attribute.
	Project []string
	// Consistent makes the reads strongly consistent (twice the read
	// cost). Default false: eventually consistent, DynamoDB's default for a
	// scan; the repository's Options.EventuallyConsistent does not apply.
	// Refused with a global Index, which DynamoDB reads only eventually
	// consistently.
	Consistent bool
	// PageSize is the number of items asked for per request (DynamoDB's
	// Limit); 0 lets DynamoDB fill 1 MB pages. For the page calls it is the
	// page size, as in [QueryOptions].
	PageSize int32
	// Limit stops the iteration after this many items in all; 0 means all.
	// The page calls refuse it.
	Limit int
	// Segments splits the scan into this many segments read in parallel
	// (DynamoDB's TotalSegments), 1 to [MaxScanSegments]. Default 0 or 1:
	// one sequential scan. Items of different segments interleave.
	Segments int
	// Concurrency is how many segments are read at once, each by one
	// goroutine. Default 0: Segments, at most 16.
	Concurrency int
	// Segment is the segment (0 to Segments-1) a page call reads; the
	// iterators read all segments and refuse a non-zero Segment.
	Segment int
	// Stats, when not nil, has the call's requests, items and consumed
	// capacity added to it (see [Stats]). Default nil.
	Stats *Stats
	// Retry bounds the re-sending of a page's request after transient
	// errors. Default: the repository's Options.Retry.
	Retry retry.Policy
}

// Scan returns every item of the table (or of ScanOptions.Index), as an
// iterator that fetches pages as it is consumed, restricted by
// ScanOptions.Filter. Scan returns whole items only: a scan with
// ScanOptions.Project, or of an index that stores only some attributes, is
// refused (use [Repository.ScanPartial]).
//
// With ScanOptions.Segments above 1 it is a parallel scan: up to
// ScanOptions.Concurrency goroutines read the segments, each one page
// ahead of the loop at most, and the loop receives their items as they
// come. Breaking out of the loop, reaching ScanOptions.Limit, an error and
// cancelling ctx all stop every goroutine, and the iterator waits for them
// before it returns: none is left running.
//
// On an error the iterator yields it once with a zero T and stops; bad
// options are yielded before any request is sent. Cancelling ctx ends the
// iteration with an error matching ctx's. Transient errors are retried
// under ScanOptions.Retry. The iterator blocks while it waits for a page;
// it may be used once per range loop, from one goroutine at a time; the
// Repository stays safe for concurrent use.
func (r *Repository[T]) Scan(ctx context.Context, optFns ...func(*ScanOptions)) iter.Seq2[T, error] {
	return scanIter(r, ctx, optFns, readWhole, r.decodeWhole)
}

// ScanPartial is [Repository.Scan] for reads that may return only part of
// each item: with ScanOptions.Project, or of an index that stores only
// some attributes. It yields [Partial] values, which cannot be saved by
// mistake. Blocking, errors, goroutines and concurrency as for Scan.
func (r *Repository[T]) ScanPartial(ctx context.Context, optFns ...func(*ScanOptions)) iter.Seq2[Partial[T], error] {
	return scanIter(r, ctx, optFns, readPartial, r.decodePartial)
}

// ScanPage reads one page of segment ScanOptions.Segment of
// ScanOptions.Segments (of the whole table with the defaults), starting
// after cursor ("" for the first page), and returns it with the cursor of
// the next page (Page.Next, "" after the last page of the segment). Pages
// are sized as by [Repository.QueryPage]; ScanOptions.Limit is refused.
// Several segments can be read in parallel by calling ScanPage from
// several goroutines, each with its own Segment.
//
// A cursor is bound to the scan that made it (table, index, segment,
// filter, projection) as a query's is; another one is refused before any
// request with a [*CursorError]. ScanPage blocks until answered;
// cancelling ctx stops it. Safe for concurrent use.
func (r *Repository[T]) ScanPage(ctx context.Context, cursor string, optFns ...func(*ScanOptions)) (Page[T], error) {
	return scanPage(r, ctx, cursor, optFns, readWhole, r.decodeWhole)
}

// ScanPartialPage is [Repository.ScanPage] for reads that may return only
// part of each item (see [Repository.ScanPartial]).
func (r *Repository[T]) ScanPartialPage(ctx context.Context, cursor string, optFns ...func(*ScanOptions)) (Page[Partial[T]], error) {
	return scanPage(r, ctx, cursor, optFns, readPartial, r.decodePartial)
}

// scanPlan is a checked scan: its request (for all segments) and what it
// reads.
type scanPlan struct {
	in   *dynamodb.ScanInput
	o    ScanOptions
	ix   *versioned.Index
	proj projection
}

// segment returns the request of segment seg (of o.Segments), and its
// binding.
func (r *Repository[T]) segment(sp *scanPlan, seg int) (*dynamodb.ScanInput, *binding) {
	in := *sp.in
	if sp.o.Segments > 1 {
		in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(sp.o.Segments))
	}
	return &in, r.scanBinding(sp.ix, &in)
}

// scanOnce sends in, re-sending it after transient errors.
func (r *Repository[T]) scanOnce(ctx context.Context, sp *scanPlan, in *dynamodb.ScanInput) (*dynamodb.ScanOutput, error) {
	return readRetried(ctx, r, sp.o.Retry, "Scan", func(ctx context.Context) (*dynamodb.ScanOutput, error) {
		return r.client.Scan(ctx, in)
	})
}

func scanIter[T, V any](r *Repository[T], ctx context.Context, optFns []func(*ScanOptions), mode readMode,
	dec func(*projection, versioned.Item) (V, error)) iter.Seq2[V, error] {
	return func(yield func(V, error) bool) {
		var zero V
		sp, err := r.planScan(ctx, optFns, mode, false)
		if err != nil {
			yield(zero, err)
			return
		}
		y := itemYield[V]{yield: yield, dec: dec, proj: &sp.proj, limit: sp.o.Limit}
		// emit yields the items of one answer; false: stop.
		emit := func(out *dynamodb.ScanOutput) bool {
			sp.o.Stats.add(out.Count, out.ScannedCount, out.ConsumedCapacity)
			return y.items(out.Items)
		}
		fail := func(err error) { yield(zero, err) }
		if sp.o.Segments > 1 {
			r.parallelScan(ctx, sp, emit, fail)
			return
		}
		in, _ := r.segment(sp, 0)
		for {
			out, err := r.scanOnce(ctx, sp, in)
			if err != nil {
				fail(err)
				return
			}
			if !emit(out) || len(out.LastEvaluatedKey) == 0 {
				return
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
}

// scanned is one answer of a segment's request, or its error; last marks
// the segment's last answer.
type scanned struct {
	out  *dynamodb.ScanOutput
	err  error
	last bool
}

// parallelScan reads sp's segments with up to sp.o.Concurrency goroutines
// and hands their answers to emit, on the calling goroutine, until emit
// returns false, every segment is read, or an error, which goes to fail.
// It stops the goroutines and waits for them before it returns.
func (r *Repository[T]) parallelScan(ctx context.Context, sp *scanPlan, emit func(*dynamodb.ScanOutput) bool, fail func(error)) {
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	var next atomic.Int64 // the next segment to read
	answers := make(chan scanned)
	// send hands a on; false when the scan is stopping.
	send := func(a scanned) bool {
		select {
		case answers <- a:
			return true
		case <-wctx.Done():
			return false
		}
	}
	for range sp.o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seg := int(next.Add(1) - 1)
				if seg >= sp.o.Segments {
					return
				}
				in, _ := r.segment(sp, seg)
				for {
					out, err := r.scanOnce(wctx, sp, in)
					if err != nil {
						send(scanned{err: err})
						return
					}
					last := len(out.LastEvaluatedKey) == 0
					if !send(scanned{out: out, last: last}) {
						return
					}
					if last {
						break
					}
					in.ExclusiveStartKey = out.LastEvaluatedKey
				}
			}
		}()
	}
	for left := sp.o.Segments; left > 0; {
		select {
		case a := <-answers:
			if a.err != nil {
				fail(a.err)
				return
			}
			if !emit(a.out) {
				return
			}
			if a.last {
				left--
			}
		case <-ctx.Done():
			fail(fmt.Errorf("repo: scan of table %s: %w", r.table, ctx.Err()))
			return
		}
	}
}

func scanPage[T, V any](r *Repository[T], ctx context.Context, cursor string, optFns []func(*ScanOptions), mode readMode,
	dec func(*projection, versioned.Item) (V, error)) (Page[V], error) {
	sp, err := r.planScan(ctx, optFns, mode, true)
	if err != nil {
		return Page[V]{}, err
	}
	in, bind := r.segment(sp, sp.o.Segment)
	if in.ExclusiveStartKey, err = bind.decode(cursor); err != nil {
		return Page[V]{}, err
	}
	return fillPage(sp.o.PageSize, &sp.proj, dec, bind.encode, func(limit *int32, start versioned.Item) (pageAnswer, error) {
		in.Limit, in.ExclusiveStartKey = limit, start
		out, err := r.scanOnce(ctx, sp, in)
		if err != nil {
			return pageAnswer{}, err
		}
		return pageAnswer{out.Items, out.LastEvaluatedKey, sp.o.Stats.add(out.Count, out.ScannedCount, out.ConsumedCapacity)}, nil
	}, in.ExclusiveStartKey)
}

// planScan checks a scan's options and builds its request. page: for a
// page call.
func (r *Repository[T]) planScan(ctx context.Context, optFns []func(*ScanOptions), mode readMode, page bool) (*scanPlan, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	o := ScanOptions{Retry: r.opts.Retry}
	for _, fn := range optFns {
		fn(&o)
	}
	switch {
	case o.PageSize < 0 || o.Limit < 0:
		return nil, invalid("ScanOptions: negative PageSize or Limit")
	case o.Segments < 0 || o.Segments > MaxScanSegments:
		return nil, invalid("ScanOptions.Segments is %d, want 1 to %d", o.Segments, MaxScanSegments)
	case o.Concurrency < 0:
		return nil, invalid("ScanOptions.Concurrency is %d, want 0 (the default) or more", o.Concurrency)
	case page && o.Limit > 0:
		return nil, invalid("ScanOptions.Limit on a page call: the page size is ScanOptions.PageSize")
	case !page && o.Segment != 0:
		return nil, invalid("ScanOptions.Segment on an iterator, which reads every segment")
	}
	o.Segments = max(o.Segments, 1)
	if o.Segment < 0 || o.Segment >= o.Segments {
		return nil, invalid("ScanOptions.Segment is %d, want 0 to %d", o.Segment, o.Segments-1)
	}
	if o.Concurrency == 0 {
		o.Concurrency = min(o.Segments, defaultScanConcurrency)
	}
	o.Concurrency = min(o.Concurrency, o.Segments)
	if err := o.Retry.Validate(); err != nil {
		return nil, invalid("ScanOptions.Retry: %w", err)
	}
	ix, err := r.lookupIndex("ScanOptions.Index", o.Index)
	if err != nil {
		return nil, err
	}
	if ix != nil && ix.Global && o.Consistent {
		return nil, invalid("ScanOptions.Consistent on global index %q: DynamoDB reads a GSI only eventually consistently", ix.Name)
	}
	proj, err := r.project("ScanOptions.Project", o.Project, ix)
	if err != nil {
		return nil, err
	}
	if mode == readWhole && proj.partial {
		return nil, invalid("a scan of %s returns partial items (%s): use ScanPartial or ScanPartialPage", r.readWords(ix), r.partialWhy(o.Project, ix))
	}
	in := &dynamodb.ScanInput{
		TableName:              aws.String(r.table),
		ConsistentRead:         aws.Bool(o.Consistent),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	if ix != nil {
		in.IndexName = aws.String(ix.Name)
	}
	if o.PageSize > 0 {
		in.Limit = aws.Int32(o.PageSize)
	}
	if o.Filter.IsSet() || proj.expr != nil {
		b := expression.NewBuilder()
		if o.Filter.IsSet() {
			b = b.WithFilter(o.Filter)
		}
		if proj.expr != nil {
			b = b.WithProjection(namesList(proj.expr))
		}
		e, err := b.Build()
		if err != nil {
			return nil, invalid("scan: %w", err)
		}
		in.FilterExpression, in.ProjectionExpression = e.Filter(), e.Projection()
		in.ExpressionAttributeNames, in.ExpressionAttributeValues = e.Names(), e.Values()
	}
	return &scanPlan{in: in, o: o, ix: ix, proj: proj}, nil
}
