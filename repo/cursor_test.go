package repo_test

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/ddbocc/ddbocc/repo"
)

// allPages reads every page of a query with fetch, starting from "", and
// returns the items and the number of pages.
func allPages[V any](t *testing.T, fetch func(cursor string) (repo.Page[V], error)) ([]V, int) {
	t.Helper()
	var items []V
	cursor, n := "", 0
	for {
		p, err := fetch(cursor)
		if err != nil {
			t.Fatalf("page %d: %v", n+1, err)
		}
		n++
		items = append(items, p.Items...)
		if p.Next == "" {
			return items, n
		}
		if n > 1000 {
			t.Fatal("more than 1000 pages")
		}
		cursor = p.Next
	}
}

func TestQueryPageCursor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := orderTable(t, e, 10)
	ctx := context.Background()

	got, n := allPages(t, func(c string) (repo.Page[Order], error) {
		p, err := r.QueryPage(ctx, "c1", c, func(o *repo.QueryOptions) { o.PageSize = 3 })
		if err == nil && len(p.Items) > 3 {
			t.Errorf("a page of %d items, want at most 3", len(p.Items))
		}
		return p, err
	})
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(orderIDs(got), want) {
		t.Fatalf("paged ids %v, want each once: %v", orderIDs(got), want)
	}
	if n != 4 {
		t.Errorf("10 items in pages of 3: %d pages, want 4", n)
	}

	// With a filter, pages are filled from several requests.
	e.counter.Reset()
	got, n = allPages(t, func(c string) (repo.Page[Order], error) {
		return r.QueryPage(ctx, "c1", c, func(o *repo.QueryOptions) {
			o.PageSize, o.Descending = 3, true
			o.Filter = expression.Name("status").Equal(expression.Value("done"))
		})
	})
	if want := []int{10, 8, 6, 4, 2}; !slices.Equal(orderIDs(got), want) {
		t.Fatalf("filtered, descending: %v, want %v", orderIDs(got), want)
	}
	if n != 2 {
		t.Errorf("5 filtered items in pages of 3: %d pages, want 2", n)
	}
	t.Logf("5 of 10 items in pages of 3: %d requests", e.counter.Count())

	// Partial pages, on an index.
	ps, _ := allPages(t, func(c string) (repo.Page[repo.Partial[Order]], error) {
		return r.QueryPartialPage(ctx, "c1", c, func(o *repo.QueryOptions) { o.Index, o.PageSize = "byPlaced", 4 })
	})
	if len(ps) != 10 || ps[9].Item.Placed != "2026-01-10" {
		t.Errorf("partial pages of byPlaced: %d items", len(ps))
	}
	// GSI pages: hash "open" has 10 items across both customers.
	gs, _ := allPages(t, func(c string) (repo.Page[Order], error) {
		return r.QueryPage(ctx, "open", c, func(o *repo.QueryOptions) {
			o.Index, o.EventuallyConsistent, o.PageSize = "byStatus", true, 3
		})
	})
	seen := map[[2]any]bool{}
	for _, o := range gs {
		k := [2]any{o.Customer, o.ID}
		if seen[k] {
			t.Errorf("byStatus pages returned %v twice", k)
		}
		seen[k] = true
	}
	if len(seen) != 10 {
		t.Errorf("byStatus pages: %d items, want 10", len(seen))
	}

	// An empty partition: one empty page with no cursor.
	p, err := r.QueryPage(ctx, "nobody", "", func(o *repo.QueryOptions) { o.PageSize = 3 })
	if err != nil || len(p.Items) != 0 || p.Next != "" {
		t.Errorf("empty partition: %+v, %v", p, err)
	}
}

// TestCursorRefused checks that a cursor made by another read, a changed
// cursor and garbage are refused with a CursorError naming the reason,
// before any request.
func TestCursorRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := orderTable(t, e, 5)
	other := mustTable[Order](t, e.client, e.table+"-other")
	ctx := context.Background()
	size3 := func(o *repo.QueryOptions) { o.PageSize = 3 }
	first, err := r.QueryPage(ctx, "c1", "", size3)
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	cur := first.Next
	gsiPage, err := r.QueryPage(ctx, "open", "", func(o *repo.QueryOptions) {
		o.Index, o.EventuallyConsistent, o.PageSize = "byStatus", true, 2
	})
	if err != nil || gsiPage.Next == "" {
		t.Fatalf("first GSI page: %+v, %v", gsiPage, err)
	}
	scanPage, err := r.ScanPage(ctx, "", func(o *repo.ScanOptions) { o.PageSize = 2 })
	if err != nil || scanPage.Next == "" {
		t.Fatalf("first scan page: %+v, %v", scanPage, err)
	}
	segPage, err := r.ScanPage(ctx, "", func(o *repo.ScanOptions) { o.PageSize, o.Segments, o.Segment = 1, 2, 1 })
	if err != nil || segPage.Next == "" {
		t.Fatalf("first page of segment 1: %+v, %v", segPage, err)
	}

	// tamper decodes the cursor's JSON, changes it and re-encodes it with
	// the old checksum.
	tamper := func(c, old, new string) string {
		payload, sum, _ := strings.Cut(c, ".")
		js, err := base64.RawURLEncoding.DecodeString(payload)
		if err != nil || !strings.Contains(string(js), old) {
			t.Fatalf("cursor %s does not hold %q", js, old)
		}
		js = []byte(strings.Replace(string(js), old, new, 1))
		return base64.RawURLEncoding.EncodeToString(js) + "." + sum
	}

	cases := []struct {
		name string
		call func() error
		want repo.CursorReason
	}{
		{"another table", func() error { _, err := other.QueryPage(ctx, "c1", cur, size3); return err }, repo.CursorOtherTable},
		{"another hash value", func() error { _, err := r.QueryPage(ctx, "c2", cur, size3); return err }, repo.CursorOtherQuery},
		{"another range condition", func() error {
			_, err := r.QueryPage(ctx, "c1", cur, size3, func(o *repo.QueryOptions) { o.Range = repo.RangeGreater(0) })
			return err
		}, repo.CursorOtherQuery},
		{"another order", func() error {
			_, err := r.QueryPage(ctx, "c1", cur, size3, func(o *repo.QueryOptions) { o.Descending = true })
			return err
		}, repo.CursorOtherQuery},
		{"another filter", func() error {
			_, err := r.QueryPage(ctx, "c1", cur, size3, func(o *repo.QueryOptions) {
				o.Filter = expression.Name("status").Equal(expression.Value("open"))
			})
			return err
		}, repo.CursorOtherQuery},
		{"another projection", func() error {
			_, err := r.QueryPartialPage(ctx, "c1", cur, size3, func(o *repo.QueryOptions) { o.Project = []string{"note"} })
			return err
		}, repo.CursorOtherQuery},
		{"an index's cursor on the table", func() error { _, err := r.QueryPage(ctx, "c1", gsiPage.Next, size3); return err }, repo.CursorOtherIndex},
		{"the table's cursor on an index", func() error {
			_, err := r.QueryPartialPage(ctx, "c1", cur, size3, func(o *repo.QueryOptions) { o.Index = "byPlaced" })
			return err
		}, repo.CursorOtherIndex},
		{"a scan's cursor for a query", func() error { _, err := r.QueryPage(ctx, "c1", scanPage.Next, size3); return err }, repo.CursorOtherOperation},
		{"a query's cursor for a scan", func() error { _, err := r.ScanPage(ctx, cur); return err }, repo.CursorOtherOperation},
		{"another segment", func() error {
			_, err := r.ScanPage(ctx, segPage.Next, func(o *repo.ScanOptions) { o.Segments, o.Segment = 2, 0 })
			return err
		}, repo.CursorOtherOperation},
		{"another number of segments", func() error {
			_, err := r.ScanPage(ctx, segPage.Next, func(o *repo.ScanOptions) { o.Segments, o.Segment = 4, 1 })
			return err
		}, repo.CursorOtherOperation},
		{"a changed key", func() error { _, err := r.QueryPage(ctx, "c1", tamper(cur, `"N":"3"`, `"N":"1"`), size3); return err }, repo.CursorTampered},
		{"a changed table name", func() error {
			_, err := other.QueryPage(ctx, "c1", tamper(cur, e.table, other.Table()), size3)
			return err
		}, repo.CursorTampered},
		{"a cut cursor", func() error { _, err := r.QueryPage(ctx, "c1", cur[:len(cur)-4], size3); return err }, repo.CursorTampered},
		{"no checksum", func() error { _, err := r.QueryPage(ctx, "c1", "abc", size3); return err }, repo.CursorMalformed},
		{"not base64", func() error { _, err := r.QueryPage(ctx, "c1", "!!!.???", size3); return err }, repo.CursorMalformed},
	}
	for _, c := range cases {
		e.counter.Reset()
		err := c.call()
		var ce *repo.CursorError
		switch {
		case !errors.As(err, &ce):
			t.Errorf("%s: %v, want a *CursorError", c.name, err)
		case ce.Reason != c.want:
			t.Errorf("%s: reason %q (%v), want %q", c.name, ce.Reason, err, c.want)
		case !errors.Is(err, repo.ErrInvalidCursor) || !errors.Is(err, repo.ErrInvalidArgument):
			t.Errorf("%s: %v does not match ErrInvalidCursor and ErrInvalidArgument", c.name, err)
		}
		if n := e.counter.Count(); n != 0 {
			t.Errorf("%s: %d requests sent, want none", c.name, n)
		}
	}
	t.Logf("e.g. %v", cases[0].call())

	// The cursor still works with its own query, through either page call
	// (and with another page size).
	rest, _ := allPages(t, func(c string) (repo.Page[Order], error) {
		if c == "" {
			c = cur
		}
		return r.QueryPage(ctx, "c1", c, func(o *repo.QueryOptions) { o.PageSize = 1 })
	})
	if want := []int{4, 5}; !slices.Equal(orderIDs(rest), want) {
		t.Errorf("after the cursor: %v, want %v", orderIDs(rest), want)
	}
	pp, err := r.QueryPartialPage(ctx, "c1", cur)
	if err != nil || len(pp.Items) != 2 {
		t.Errorf("QueryPartialPage with QueryPage's cursor: %d items, %v", len(pp.Items), err)
	}
}
