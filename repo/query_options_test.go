package repo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/ddbocc/ddbocc/repo"
)

// Order has three secondary indexes:
//   - byStatus, global, hash status, range placed, projecting ALL;
//   - byPlaced, local, range placed, projecting KEYS_ONLY;
//   - bySku, global, hash sku, no range key, projecting INCLUDE total.
type Order struct {
	Customer string `dynamo:"customer,hash"`
	ID       int    `dynamo:"id,range"`
	Status   string `dynamo:"status,index=byStatus:hash"`
	Placed   string `dynamo:"placed,index=byStatus:range,lindex=byPlaced:range:keys_only"`
	Sku      string `dynamo:"sku,index=bySku:hash:include"`
	Total    int64  `dynamo:"total,project=bySku"`
	Note     string `dynamo:"note,omitempty"`
	Version  int64  `dynamo:"version"`
}

// orderTable is a repository of Orders on a fresh table with n orders of
// customer "c1" (ids 1..n) and n of "c2": status "open" for odd ids, else
// "done"; placed "2026-01-<id>"; sku "s<id%3>"; total id*10; note "n<id>".
func orderTable(t *testing.T, e *env, n int) *repo.Repository[Order] {
	t.Helper()
	r := newRepo[Order](t, e)
	for _, c := range []string{"c1", "c2"} {
		for id := 1; id <= n; id++ {
			status := "done"
			if id%2 == 1 {
				status = "open"
			}
			mustCreate(t, r, Order{Customer: c, ID: id, Status: status, Placed: fmt.Sprintf("2026-01-%02d", id),
				Sku: fmt.Sprintf("s%d", id%3), Total: int64(id * 10), Note: fmt.Sprintf("n%d", id)})
		}
	}
	e.counter.Reset()
	return r
}

// collectAll ranges over seq, failing t on an error.
func collectAll[V any](t *testing.T, seq func(func(V, error) bool)) []V {
	t.Helper()
	var out []V
	for v, err := range seq {
		if err != nil {
			t.Fatalf("iteration: %v", err)
		}
		out = append(out, v)
	}
	return out
}

func orderIDs(os []Order) []int {
	out := make([]int, len(os))
	for i, o := range os {
		out[i] = o.ID
	}
	return out
}

func partialIDs(ps []repo.Partial[Order]) []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = p.Item.ID
	}
	return out
}

func TestQueryFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := orderTable(t, e, 10)
	ctx := context.Background()
	var st repo.Stats
	got := collectAll(t, r.Query(ctx, "c1", func(o *repo.QueryOptions) {
		o.Filter = expression.Name("status").Equal(expression.Value("open"))
		o.Stats = &st
	}))
	if want := []int{1, 3, 5, 7, 9}; !slices.Equal(orderIDs(got), want) {
		t.Fatalf("filter status = open: %v, want %v", orderIDs(got), want)
	}
	if st.Items != 5 || st.Scanned != 10 || st.Requests != 1 {
		t.Errorf("stats %+v: want 5 items of 10 scanned in 1 request", st)
	}
	// A nested path whose last part is a key's name is no key.
	got = collectAll(t, r.Query(ctx, "c1", func(o *repo.QueryOptions) {
		o.Filter = expression.Name("note.customer").AttributeExists()
	}))
	if len(got) != 0 {
		t.Errorf("filter on note.customer: %d items", len(got))
	}
	// A filter on a key is refused, and so is one combined with others.
	for name, f := range map[string]expression.ConditionBuilder{
		"table hash":  expression.Name("customer").Equal(expression.Value("c1")),
		"table range": expression.Name("status").Equal(expression.Value("x")).And(expression.Name("id").GreaterThan(expression.Value(3))),
		"in a size":   expression.Size(expression.Name("id")).GreaterThan(expression.Value(0)),
	} {
		e.counter.Reset()
		for _, err := range r.Query(ctx, "c1", func(o *repo.QueryOptions) { o.Filter = f }) {
			if !errors.Is(err, repo.ErrInvalidArgument) {
				t.Errorf("filter on %s: %v, want ErrInvalidArgument", name, err)
			}
		}
		if n := e.counter.Count(); n != 0 {
			t.Errorf("filter on %s: %d requests", name, n)
		}
	}
	// On an index query, the index's keys are refused too.
	for _, err := range r.Query(ctx, "open", func(o *repo.QueryOptions) {
		o.Index, o.EventuallyConsistent = "byStatus", true
		o.Filter = expression.Name("placed").BeginsWith("2026")
	}) {
		if !errors.Is(err, repo.ErrInvalidArgument) {
			t.Errorf("filter on the index range key: %v, want ErrInvalidArgument", err)
		}
	}
}

func TestQueryLimitDescendingCount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := orderTable(t, e, 10)
	ctx := context.Background()
	got := collectAll(t, r.Query(ctx, "c1", func(o *repo.QueryOptions) { o.Descending, o.Limit = true, 4 }))
	if want := []int{10, 9, 8, 7}; !slices.Equal(orderIDs(got), want) {
		t.Errorf("descending, limit 4: %v, want %v", orderIDs(got), want)
	}
	var st repo.Stats
	n, err := r.Count(ctx, "c1", func(o *repo.QueryOptions) { o.PageSize, o.Stats = 3, &st })
	if err != nil || n != 10 {
		t.Fatalf("Count: %d, %v; want 10", n, err)
	}
	if st.Requests != 4 || st.ConsumedCapacity <= 0 {
		t.Errorf("Count in pages of 3: stats %+v, want 4 requests and some capacity", st)
	}
	n, err = r.Count(ctx, "c1", func(o *repo.QueryOptions) {
		o.Filter = expression.Name("status").Equal(expression.Value("done"))
		o.Range = repo.RangeGreater(4)
	})
	if err != nil || n != 3 {
		t.Errorf("Count of done above 4: %d, %v; want 3", n, err)
	}
	n, err = r.Count(ctx, "c1", func(o *repo.QueryOptions) { o.Limit, o.PageSize = 4, 3 })
	if err != nil || n != 4 {
		t.Errorf("Count with limit 4: %d, %v; want 4", n, err)
	}
	n, err = r.Count(ctx, "open", func(o *repo.QueryOptions) { o.Index, o.EventuallyConsistent = "byStatus", true })
	if err != nil || n != 10 {
		t.Errorf("Count of index byStatus open: %d, %v; want 10", n, err)
	}
	if n, err := r.Count(ctx, "nobody"); err != nil || n != 0 {
		t.Errorf("Count of nobody: %d, %v", n, err)
	}
}

func TestQueryConsumedCapacity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := orderTable(t, e, 6)
	ctx := context.Background()
	var st repo.Stats
	collectAll(t, r.Query(ctx, "c1", func(o *repo.QueryOptions) { o.PageSize, o.Stats = 2, &st }))
	if st.Requests != 4 || st.Items != 6 || st.ConsumedCapacity <= 0 {
		t.Errorf("stats %+v: want 4 requests, 6 items, some capacity", st)
	}
	p, err := r.QueryPage(ctx, "c1", "", func(o *repo.QueryOptions) { o.PageSize = 2 })
	if err != nil {
		t.Fatal(err)
	}
	if p.ConsumedCapacity <= 0 {
		t.Errorf("page consumed %v capacity", p.ConsumedCapacity)
	}
	t.Logf("query of 6 items: %+v; a page of 2: %v units", st, p.ConsumedCapacity)
}

func TestQueryProjection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := orderTable(t, e, 3)
	ctx := context.Background()
	project := func(o *repo.QueryOptions) { o.Project = []string{"total"} }

	// Query refuses a projection: it returns whole items only.
	for _, err := range r.Query(ctx, "c1", project) {
		if !errors.Is(err, repo.ErrInvalidArgument) {
			t.Fatalf("Query with a projection: %v, want ErrInvalidArgument", err)
		}
	}
	if _, err := r.QueryPage(ctx, "c1", "", project); !errors.Is(err, repo.ErrInvalidArgument) {
		t.Fatalf("QueryPage with a projection: %v, want ErrInvalidArgument", err)
	}
	if n := e.counter.Count(); n != 0 {
		t.Fatalf("refused projections sent %d requests", n)
	}

	ps := collectAll(t, r.QueryPartial(ctx, "c1", project))
	if want := []int{1, 2, 3}; !slices.Equal(partialIDs(ps), want) {
		t.Fatalf("projected ids %v, want %v", partialIDs(ps), want)
	}
	p := ps[1]
	if want := []string{"customer", "id", "total", "version"}; !slices.Equal(p.Attributes(), want) {
		t.Errorf("attributes %v, want %v", p.Attributes(), want)
	}
	if p.Item.Total != 20 || p.Item.Status != "" || p.Item.Note != "" || !p.Has("total") || p.Has("note") {
		t.Errorf("partial item %+v (has total %v, note %v)", p.Item, p.Has("total"), p.Has("note"))
	}
	if p.Version != 1 || p.Item.Version != 0 {
		t.Errorf("partial version %d, item version %d: want 1 and 0", p.Version, p.Item.Version)
	}

	// A partial item cannot be saved over the stored one, nor deleted:
	// here one that lacks only the note, which a save would drop.
	most := collectAll(t, r.QueryPartial(ctx, "c1", func(o *repo.QueryOptions) {
		o.Project = []string{"status", "placed", "sku", "total"}
		o.Range = repo.RangeEquals(2)
	}))
	if len(most) != 1 || most[0].Has("note") || most[0].Item.Placed == "" {
		t.Fatalf("all but the note: %+v", most)
	}
	partial := most[0].Item
	partial.Total = 999
	if _, err := r.Save(ctx, partial); !errors.Is(err, repo.ErrAlreadyExists) {
		t.Errorf("Save of a partial item: %v, want ErrAlreadyExists", err)
	}
	if _, err := r.Save(ctx, partial, repo.Adopting); !errors.Is(err, repo.ErrConflict) {
		t.Errorf("adopting Save of a partial item of a versioned item: %v, want ErrConflict", err)
	}
	if err := r.Delete(ctx, p.Item); !errors.Is(err, repo.ErrInvalidArgument) {
		t.Errorf("Delete of a partial item: %v, want ErrInvalidArgument", err)
	}
	err := repo.Transact(ctx, e.client, func(tx *repo.Tx) error { return r.TxSave(tx, &partial) })
	if !errors.Is(err, repo.ErrInvalidArgument) && !errors.Is(err, repo.ErrAlreadyExists) {
		t.Errorf("TxSave of a partial item: %v, want a refusal", err)
	}
	stored, err := r.Get(ctx, repo.Key("c1", 2))
	if err != nil {
		t.Fatal(err)
	}
	if stored.Total != 20 || stored.Note != "n2" || stored.Status != "done" || stored.Version != 1 {
		t.Errorf("stored item changed: %+v", stored)
	}

	// A projection of every attribute is whole, so Query takes it.
	all := collectAll(t, r.Query(ctx, "c1", func(o *repo.QueryOptions) {
		o.Project = []string{"status", "placed", "sku", "total", "note", "version"}
	}))
	if len(all) != 3 || all[0].Note != "n1" || all[0].Version != 1 {
		t.Errorf("a projection of every attribute: %+v", all)
	}
}

func TestQueryIndexes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := orderTable(t, e, 6)
	ctx := context.Background()
	gsi := func(name string) func(*repo.QueryOptions) {
		return func(o *repo.QueryOptions) { o.Index, o.EventuallyConsistent = name, true }
	}

	// GSI with ALL: whole items, from both customers.
	open := collectAll(t, r.Query(ctx, "open", gsi("byStatus")))
	if len(open) != 6 {
		t.Fatalf("byStatus open: %d items, want 6", len(open))
	}
	for i, o := range open {
		if o.Status != "open" || o.Version != 1 || o.Note == "" {
			t.Errorf("byStatus open item %+v", o)
		}
		if i > 0 && open[i-1].Placed > o.Placed {
			t.Errorf("byStatus not in placed order: %v before %v", open[i-1].Placed, o.Placed)
		}
	}
	got := collectAll(t, r.Query(ctx, "open", gsi("byStatus"), func(o *repo.QueryOptions) {
		o.Range = repo.RangeGreaterOrEqual("2026-01-03")
		o.Descending = true
	}))
	if len(got) != 4 || got[0].Placed != "2026-01-05" || got[3].Placed != "2026-01-03" {
		t.Errorf("byStatus open from 03, descending: %+v", got)
	}

	// A consistent read of a GSI is refused before sending.
	e.counter.Reset()
	for _, err := range r.Query(ctx, "open", func(o *repo.QueryOptions) { o.Index = "byStatus" }) {
		if !errors.Is(err, repo.ErrInvalidArgument) {
			t.Errorf("consistent query of a GSI: %v, want ErrInvalidArgument", err)
		}
	}
	if n := e.counter.Count(); n != 0 {
		t.Errorf("consistent query of a GSI sent %d requests", n)
	}

	// LSI with KEYS_ONLY: consistent reads are fine, items are partial.
	lsi := func(o *repo.QueryOptions) {
		o.Index, o.Range = "byPlaced", repo.RangeBetween("2026-01-02", "2026-01-04")
	}
	for _, err := range r.Query(ctx, "c1", lsi) {
		if !errors.Is(err, repo.ErrInvalidArgument) {
			t.Fatalf("Query of a KEYS_ONLY index: %v, want ErrInvalidArgument (partial items)", err)
		}
	}
	ps := collectAll(t, r.QueryPartial(ctx, "c1", lsi))
	if want := []int{2, 3, 4}; !slices.Equal(partialIDs(ps), want) {
		t.Fatalf("byPlaced 02..04: %v, want %v", partialIDs(ps), want)
	}
	if want := []string{"customer", "id", "placed"}; !slices.Equal(ps[0].Attributes(), want) {
		t.Errorf("KEYS_ONLY attributes %v, want %v", ps[0].Attributes(), want)
	}
	if ps[0].Version != 0 || ps[0].Item.Total != 0 || ps[0].Item.Placed != "2026-01-02" {
		t.Errorf("KEYS_ONLY partial %+v version %d", ps[0].Item, ps[0].Version)
	}
	// A local index fetches projected attributes from the table.
	ps = collectAll(t, r.QueryPartial(ctx, "c1", lsi, func(o *repo.QueryOptions) { o.Project = []string{"note"} }))
	if len(ps) != 3 || ps[0].Item.Note != "n2" || ps[0].Version != 1 || !ps[0].Has("version") {
		t.Errorf("byPlaced with note: %+v", ps)
	}

	// GSI with INCLUDE total, no range key.
	ps = collectAll(t, r.QueryPartial(ctx, "s1", gsi("bySku")))
	if len(ps) != 4 { // ids 1 and 4 of both customers
		t.Fatalf("bySku s1: %d items, want 4", len(ps))
	}
	for _, p := range ps {
		if p.Item.Sku != "s1" || p.Item.Total != int64(p.Item.ID*10) || p.Item.Note != "" || p.Has("note") {
			t.Errorf("bySku item %+v", p.Item)
		}
	}
	if want := []string{"customer", "id", "sku", "total"}; !slices.Equal(ps[0].Attributes(), want) {
		t.Errorf("INCLUDE attributes %v, want %v", ps[0].Attributes(), want)
	}
	e.counter.Reset()
	for name, fn := range map[string]func(*repo.QueryOptions){
		"a range on an index without one": func(o *repo.QueryOptions) { o.Range = repo.RangeEquals("x") },
		"a projection the GSI lacks":      func(o *repo.QueryOptions) { o.Project = []string{"note"} },
	} {
		for _, err := range r.QueryPartial(ctx, "s1", gsi("bySku"), fn) {
			if !errors.Is(err, repo.ErrInvalidArgument) {
				t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
			}
		}
	}
	if n := e.counter.Count(); n != 0 {
		t.Errorf("refused index queries sent %d requests", n)
	}
}
