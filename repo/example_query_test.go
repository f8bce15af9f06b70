package repo_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/ddbocc/ddbocc/repo"
)

// Ticket is the item of the examples: a global index on status (ordered
// by opening date) and a local one on the opening date, which stores only
// the keys.
type Ticket struct {
	Queue   string `dynamo:"queue,hash"`
	ID      int    `dynamo:"id,range"`
	Status  string `dynamo:"status,index=byStatus:hash"`
	Opened  string `dynamo:"opened,index=byStatus:range,lindex=byOpened:range:keys_only"`
	Title   string `dynamo:"title"`
	Version int64  `dynamo:"version"`
}

// exampleTickets creates a ticket table with seven tickets in queue "q1".
func exampleTickets(name string) *repo.Repository[Ticket] {
	ctx := context.Background()
	tickets, err := repo.New[Ticket](exampleClient(), uniqueTable(name))
	if err != nil {
		panic(err)
	}
	if err := tickets.CreateTable(ctx); err != nil { // creates the indexes too
		panic(err)
	}
	for id := 1; id <= 7; id++ {
		status := "open"
		if id%3 == 0 {
			status = "closed"
		}
		t := Ticket{Queue: "q1", ID: id, Status: status, Opened: fmt.Sprintf("2026-03-%02d", 10-id), Title: fmt.Sprint("ticket ", id)}
		if _, err := tickets.Create(ctx, t); err != nil {
			panic(err)
		}
	}
	return tickets
}

// Query a global secondary index: the hash value is the index's hash key,
// the range condition is on its range key. A GSI is read eventually
// consistently, which the query must say.
func ExampleRepository_Query_index() {
	ctx := context.Background()
	tickets := exampleTickets("tickets-index")
	for t, err := range tickets.Query(ctx, "open", func(o *repo.QueryOptions) {
		o.Index = "byStatus"
		o.EventuallyConsistent = true
		o.Range = repo.RangeGreaterOrEqual("2026-03-05")
	}) {
		if err != nil {
			panic(err)
		}
		fmt.Println(t.Opened, t.ID, t.Title)
	}
	// Output:
	// 2026-03-05 5 ticket 5
	// 2026-03-06 4 ticket 4
	// 2026-03-08 2 ticket 2
	// 2026-03-09 1 ticket 1
}

// Page through a query with cursors, e.g. behind an HTTP API: each page
// call returns the cursor of the next page, "" at the end. A cursor only
// works with the query that made it.
func ExampleRepository_QueryPage() {
	ctx := context.Background()
	tickets := exampleTickets("tickets-pages")
	size3 := func(o *repo.QueryOptions) {
		o.PageSize = 3
		o.Filter = expression.Name("status").Equal(expression.Value("open"))
	}
	cursor := ""
	for {
		page, err := tickets.QueryPage(ctx, "q1", cursor, size3)
		if err != nil {
			panic(err)
		}
		fmt.Println("page:", ticketIDs(page))
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	// Output:
	// page: [1 2 4]
	// page: [5 7]
}

func ticketIDs(p repo.Page[Ticket]) []int {
	var out []int
	for _, t := range p.Items {
		out = append(out, t.ID)
	}
	return out
}

// A projection, or an index that stores only some attributes, returns
// partial items: [repo.Partial] values say which attributes they hold, and
// the item in them has version 0, so it cannot be saved over the whole
// item by mistake.
func ExampleRepository_QueryPartial() {
	ctx := context.Background()
	tickets := exampleTickets("tickets-partial")
	for p, err := range tickets.QueryPartial(ctx, "q1", func(o *repo.QueryOptions) {
		o.Index = "byOpened" // a local index with KEYS_ONLY
		o.Range = repo.RangeLess("2026-03-05")
	}) {
		if err != nil {
			panic(err)
		}
		fmt.Println(p.Item.Opened, p.Item.ID, p.Attributes(), p.Has("title"))
	}
	// Output:
	// 2026-03-03 7 [id opened queue] false
	// 2026-03-04 6 [id opened queue] false
}

// Scan the whole table in four segments read in parallel; breaking out of
// the loop would stop every segment's goroutine.
func ExampleRepository_Scan() {
	ctx := context.Background()
	tickets := exampleTickets("tickets-scan")
	var stats repo.Stats
	var titles []string
	for t, err := range tickets.Scan(ctx, func(o *repo.ScanOptions) {
		o.Segments = 4
		o.Filter = expression.Name("status").Equal(expression.Value("closed"))
		o.Stats = &stats
	}) {
		if err != nil {
			panic(err)
		}
		titles = append(titles, t.Title)
	}
	slices.Sort(titles) // segments interleave
	fmt.Println(titles, stats.Scanned, "scanned")
	// Output:
	// [ticket 3 ticket 6] 7 scanned
}
