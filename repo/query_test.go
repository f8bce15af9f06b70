package repo_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ddbocc/ddbocc/repo"
)

func TestQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	entries := newRepo[Entry](t, e)
	ctx := context.Background()
	for i := 1; i <= 7; i++ {
		mustCreate(t, entries, Entry{User: "u1", Seq: i, Name: "n"})
	}
	mustCreate(t, entries, Entry{User: "u2", Seq: 1})

	seqs := func(optFns ...func(*repo.QueryOptions)) []int {
		t.Helper()
		var out []int
		for x, err := range entries.Query(ctx, "u1", optFns...) {
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if x.Rev != 1 {
				t.Fatalf("item %+v has version %d", x, x.Rev)
			}
			out = append(out, x.Seq)
		}
		return out
	}
	check := func(name string, got []int, want ...int) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
			return
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: got %v, want %v", name, got, want)
				return
			}
		}
	}

	e.counter.Reset()
	check("all in pages of 2", seqs(func(o *repo.QueryOptions) { o.PageSize = 2 }), 1, 2, 3, 4, 5, 6, 7)
	if n := e.counter.Count(); n != 4 {
		t.Errorf("7 items in pages of 2 took %d requests, want 4", n)
	}
	check("equals", seqs(func(o *repo.QueryOptions) { o.Range = repo.RangeEquals(3) }), 3)
	check("less", seqs(func(o *repo.QueryOptions) { o.Range = repo.RangeLess(3) }), 1, 2)
	check("less or equal", seqs(func(o *repo.QueryOptions) { o.Range = repo.RangeLessOrEqual(3) }), 1, 2, 3)
	check("greater", seqs(func(o *repo.QueryOptions) { o.Range = repo.RangeGreater(5) }), 6, 7)
	check("greater or equal", seqs(func(o *repo.QueryOptions) { o.Range = repo.RangeGreaterOrEqual(6) }), 6, 7)
	check("between", seqs(func(o *repo.QueryOptions) { o.Range = repo.RangeBetween(2, 4) }), 2, 3, 4)
	check("descending, limit 3", seqs(func(o *repo.QueryOptions) { o.Descending, o.Limit, o.PageSize = true, 3, 2 }), 7, 6, 5)
	check("eventually consistent", seqs(func(o *repo.QueryOptions) { o.EventuallyConsistent = true }), 1, 2, 3, 4, 5, 6, 7)

	// Breaking out stops paging.
	e.counter.Reset()
	for range entries.Query(ctx, "u1", func(o *repo.QueryOptions) { o.PageSize = 1 }) {
		break
	}
	if n := e.counter.Count(); n != 1 {
		t.Errorf("break after the first item: %d requests, want 1", n)
	}
	// No items.
	for _, err := range entries.Query(ctx, "nobody") {
		t.Fatalf("Query of an empty partition yielded (err %v)", err)
	}
}

func TestQueryBeginsWith(t *testing.T) {
	t.Parallel()
	type Event struct {
		Stream string `dynamo:"stream,hash"`
		At     string `dynamo:"at,range"`
		V      int64  `dynamo:"version"`
	}
	e := newEnv(t)
	events := newRepo[Event](t, e)
	ctx := context.Background()
	for _, at := range []string{"2025-12-31", "2026-01-01", "2026-02-01", "2027-01-01"} {
		mustCreate(t, events, Event{Stream: "s", At: at})
	}
	var got []string
	for ev, err := range events.Query(ctx, "s", func(o *repo.QueryOptions) { o.Range = repo.RangeBeginsWith("2026-") }) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.At)
	}
	if len(got) != 2 || got[0] != "2026-01-01" || got[1] != "2026-02-01" {
		t.Fatalf("begins with 2026-: %v", got)
	}
	entries := mustNew[Entry](t, e.client, e.table)
	for _, err := range entries.Query(ctx, "u1", func(o *repo.QueryOptions) { o.Range = repo.RangeBeginsWith("1") }) {
		if !errors.Is(err, repo.ErrInvalidArgument) {
			t.Fatalf("BeginsWith on a number range key: %v, want ErrInvalidArgument", err)
		}
	}
}
