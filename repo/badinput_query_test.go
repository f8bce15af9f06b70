package repo_test

import (
	"context"
	"iter"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/ddbocc/ddbocc/repo"
)

// first returns the first error an iterator yields, or nil.
func firstErr[V any](seq iter.Seq2[V, error]) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

// TestBadQueryInput calls the query, count and scan calls with every kind
// of bad option and checks for an error matching ErrInvalidArgument (or
// ctx's error) and that no request was sent.
func TestBadQueryInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newRepo[Order](t, e)
	ok := context.Background()
	cancelled, cancel := context.WithCancel(ok)
	cancel()
	gsi := func(name string) func(*repo.QueryOptions) {
		return func(o *repo.QueryOptions) { o.Index, o.EventuallyConsistent = name, true }
	}
	filter := func(attr string) expression.ConditionBuilder {
		return expression.Name(attr).Equal(expression.Value("x"))
	}

	// Every query call with the same options.
	queryCalls := map[string]func(ctx context.Context, hash any, fns ...func(*repo.QueryOptions)) error{
		"Query": func(ctx context.Context, h any, fns ...func(*repo.QueryOptions)) error {
			return firstErr(r.Query(ctx, h, fns...))
		},
		"QueryPartial": func(ctx context.Context, h any, fns ...func(*repo.QueryOptions)) error {
			return firstErr(r.QueryPartial(ctx, h, fns...))
		},
		"QueryPage": func(ctx context.Context, h any, fns ...func(*repo.QueryOptions)) error {
			_, err := r.QueryPage(ctx, h, "", fns...)
			return err
		},
		"QueryPartialPage": func(ctx context.Context, h any, fns ...func(*repo.QueryOptions)) error {
			_, err := r.QueryPartialPage(ctx, h, "", fns...)
			return err
		},
		"Count": func(ctx context.Context, h any, fns ...func(*repo.QueryOptions)) error {
			_, err := r.Count(ctx, h, fns...)
			return err
		},
	}
	scanCalls := map[string]func(ctx context.Context, fns ...func(*repo.ScanOptions)) error{
		"Scan": func(ctx context.Context, fns ...func(*repo.ScanOptions)) error { return firstErr(r.Scan(ctx, fns...)) },
		"ScanPartial": func(ctx context.Context, fns ...func(*repo.ScanOptions)) error {
			return firstErr(r.ScanPartial(ctx, fns...))
		},
		"ScanPage": func(ctx context.Context, fns ...func(*repo.ScanOptions)) error {
			_, err := r.ScanPage(ctx, "", fns...)
			return err
		},
		"ScanPartialPage": func(ctx context.Context, fns ...func(*repo.ScanOptions)) error {
			_, err := r.ScanPartialPage(ctx, "", fns...)
			return err
		},
	}

	var cases []bad
	for name, call := range queryCalls {
		q := func(label string, hash any, want error, fns ...func(*repo.QueryOptions)) {
			cases = append(cases, bad{name + "/" + label, func() error { return call(ok, hash, fns...) }, want})
		}
		cases = append(cases, bad{name + "/cancelled ctx", func() error { return call(cancelled, "c1") }, context.Canceled})
		q("unknown index", "c1", repo.ErrInvalidArgument, gsi("nope"))
		q("consistent read of a GSI", "open", repo.ErrInvalidArgument, func(o *repo.QueryOptions) { o.Index = "byStatus" })
		q("range on an index without a range key", "s1", repo.ErrInvalidArgument, gsi("bySku"),
			func(o *repo.QueryOptions) { o.Range = repo.RangeEquals("x") })
		q("index hash of the wrong type", 7, repo.ErrInvalidArgument, gsi("byStatus"))
		q("empty index hash", "", repo.ErrInvalidArgument, gsi("byStatus"))
		q("index range of the wrong type", "open", repo.ErrInvalidArgument, gsi("byStatus"),
			func(o *repo.QueryOptions) { o.Range = repo.RangeGreater(3) })
		q("LSI range of the wrong type", "c1", repo.ErrInvalidArgument,
			func(o *repo.QueryOptions) { o.Index, o.Range = "byPlaced", repo.RangeLess(true) })
		q("projection of an unknown attribute", "c1", repo.ErrInvalidArgument, func(o *repo.QueryOptions) { o.Project = []string{"nope"} })
		q("projection of the write-id attribute", "c1", repo.ErrInvalidArgument, func(o *repo.QueryOptions) { o.Project = []string{"_ddbocc_w"} })
		q("projection a GSI lacks", "s1", repo.ErrInvalidArgument, gsi("bySku"), func(o *repo.QueryOptions) { o.Project = []string{"note"} })
		q("filter on the table hash key", "c1", repo.ErrInvalidArgument, func(o *repo.QueryOptions) { o.Filter = filter("customer") })
		q("filter on the table range key", "c1", repo.ErrInvalidArgument, func(o *repo.QueryOptions) { o.Filter = filter("id") })
		q("filter on the index hash key", "open", repo.ErrInvalidArgument, gsi("byStatus"), func(o *repo.QueryOptions) { o.Filter = filter("status") })
		q("filter on the index range key", "open", repo.ErrInvalidArgument, gsi("byStatus"), func(o *repo.QueryOptions) { o.Filter = filter("placed") })
		q("filter on the table key in an index query", "open", repo.ErrInvalidArgument, gsi("byStatus"), func(o *repo.QueryOptions) { o.Filter = filter("customer") })
		q("filter that does not build", "c1", repo.ErrInvalidArgument, func(o *repo.QueryOptions) { o.Filter = filter("") })
		q("negative page size", "c1", repo.ErrInvalidArgument, func(o *repo.QueryOptions) { o.PageSize = -1 })
		q("negative limit", "c1", repo.ErrInvalidArgument, func(o *repo.QueryOptions) { o.Limit = -1 })
		q("unbounded retry policy", "c1", repo.ErrInvalidArgument, func(o *repo.QueryOptions) { o.Retry.MaxAttempts, o.Retry.MaxElapsedTime = 0, 0 })
	}
	cases = append(cases,
		bad{"Query/projection: partial items", func() error {
			return firstErr(r.Query(ok, "c1", func(o *repo.QueryOptions) { o.Project = []string{"note"} }))
		}, repo.ErrInvalidArgument},
		bad{"Query/KEYS_ONLY index: partial items", func() error {
			return firstErr(r.Query(ok, "c1", func(o *repo.QueryOptions) { o.Index = "byPlaced" }))
		}, repo.ErrInvalidArgument},
		bad{"QueryPage/INCLUDE index: partial items", func() error {
			_, err := r.QueryPage(ok, "s1", "", gsi("bySku"))
			return err
		}, repo.ErrInvalidArgument},
		bad{"QueryPage/limit", func() error {
			_, err := r.QueryPage(ok, "c1", "", func(o *repo.QueryOptions) { o.Limit = 3 })
			return err
		}, repo.ErrInvalidArgument},
		bad{"QueryPage/garbage cursor", func() error { _, err := r.QueryPage(ok, "c1", "garbage"); return err }, repo.ErrInvalidCursor},
		bad{"Count/projection", func() error {
			_, err := r.Count(ok, "c1", func(o *repo.QueryOptions) { o.Project = []string{"note"} })
			return err
		}, repo.ErrInvalidArgument},
	)

	for name, call := range scanCalls {
		s := func(label string, want error, fns ...func(*repo.ScanOptions)) {
			cases = append(cases, bad{name + "/" + label, func() error { return call(ok, fns...) }, want})
		}
		cases = append(cases, bad{name + "/cancelled ctx", func() error { return call(cancelled) }, context.Canceled})
		s("unknown index", repo.ErrInvalidArgument, func(o *repo.ScanOptions) { o.Index = "nope" })
		s("consistent read of a GSI", repo.ErrInvalidArgument, func(o *repo.ScanOptions) { o.Index, o.Consistent = "byStatus", true })
		s("projection of an unknown attribute", repo.ErrInvalidArgument, func(o *repo.ScanOptions) { o.Project = []string{"nope"} })
		s("projection a GSI lacks", repo.ErrInvalidArgument, func(o *repo.ScanOptions) { o.Index, o.Project = "bySku", []string{"note"} })
		s("filter that does not build", repo.ErrInvalidArgument, func(o *repo.ScanOptions) { o.Filter = filter("") })
		s("negative page size", repo.ErrInvalidArgument, func(o *repo.ScanOptions) { o.PageSize = -1 })
		s("negative segments", repo.ErrInvalidArgument, func(o *repo.ScanOptions) { o.Segments = -1 })
		s("too many segments", repo.ErrInvalidArgument, func(o *repo.ScanOptions) { o.Segments = repo.MaxScanSegments + 1 })
		s("negative concurrency", repo.ErrInvalidArgument, func(o *repo.ScanOptions) { o.Segments, o.Concurrency = 4, -1 })
		s("unbounded retry policy", repo.ErrInvalidArgument, func(o *repo.ScanOptions) { o.Retry.MaxAttempts, o.Retry.MaxElapsedTime = 0, 0 })
	}
	cases = append(cases,
		bad{"Scan/projection: partial items", func() error {
			return firstErr(r.Scan(ok, func(o *repo.ScanOptions) { o.Project = []string{"note"} }))
		}, repo.ErrInvalidArgument},
		bad{"Scan/KEYS_ONLY index: partial items", func() error {
			return firstErr(r.Scan(ok, func(o *repo.ScanOptions) { o.Index = "byPlaced" }))
		}, repo.ErrInvalidArgument},
		bad{"Scan/segment on the iterator", func() error {
			return firstErr(r.Scan(ok, func(o *repo.ScanOptions) { o.Segments, o.Segment = 4, 1 }))
		}, repo.ErrInvalidArgument},
		bad{"ScanPage/segment out of range", func() error {
			_, err := r.ScanPage(ok, "", func(o *repo.ScanOptions) { o.Segments, o.Segment = 4, 4 })
			return err
		}, repo.ErrInvalidArgument},
		bad{"ScanPage/negative segment", func() error {
			_, err := r.ScanPage(ok, "", func(o *repo.ScanOptions) { o.Segments, o.Segment = 4, -1 })
			return err
		}, repo.ErrInvalidArgument},
		bad{"ScanPage/limit", func() error {
			_, err := r.ScanPage(ok, "", func(o *repo.ScanOptions) { o.Limit = 1 })
			return err
		}, repo.ErrInvalidArgument},
		bad{"ScanPage/garbage cursor", func() error { _, err := r.ScanPage(ok, "a.b"); return err }, repo.ErrInvalidCursor},
	)

	refused(t, e, cases)
	t.Logf("%d bad query and scan inputs checked", len(cases))
}
