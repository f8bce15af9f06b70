package repo_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/ddbocc/ddbocc/repo"
)

// Read several accounts in one call: the results come in the order of the
// keys, a key given twice fills both positions, and a missing one is
// reported, not an error.
func ExampleRepository_BatchGet() {
	ctx := context.Background()
	accounts, err := repo.New[Account](exampleClient(), uniqueTable("batchget"))
	if err != nil {
		panic(err)
	}
	if err := accounts.CreateTable(ctx); err != nil {
		panic(err)
	}
	for _, a := range []Account{{ID: "a1", Balance: 10}, {ID: "a2", Balance: 20}, {ID: "a3", Balance: 30}} {
		if _, err := accounts.Create(ctx, a); err != nil {
			panic(err)
		}
	}

	keys := []repo.ItemKey{repo.Key("a3"), repo.Key("nope"), repo.Key("a1"), repo.Key("a3")}
	res, err := accounts.BatchGet(ctx, keys)
	if err != nil {
		panic(err)
	}
	for i, a := range res.Items {
		if !res.Found[i] {
			fmt.Println(i, "not found")
			continue
		}
		fmt.Println(i, a.ID, a.Balance, "version", a.Version)
	}
	fmt.Println("missing:", res.Missing())
	// Output:
	// 0 a3 30 version 1
	// 1 not found
	// 2 a1 10 version 1
	// 3 a3 30 version 1
	// missing: [1]
}

// Save many items, each on its own version condition: a stale copy fails
// alone, with its conflict in its position, and the others are stored.
func ExampleRepository_SaveAll() {
	ctx := context.Background()
	accounts, err := repo.New[Account](exampleClient(), uniqueTable("saveall"))
	if err != nil {
		panic(err)
	}
	if err := accounts.CreateTable(ctx); err != nil {
		panic(err)
	}
	// Version 0: SaveAll creates them.
	results, err := accounts.SaveAll(ctx, []Account{{ID: "a1", Balance: 10}, {ID: "a2", Balance: 20}, {ID: "a3", Balance: 30}})
	if err != nil {
		panic(err)
	}
	items := make([]Account, len(results))
	for i, r := range results {
		if r.Err != nil {
			panic(r.Err)
		}
		items[i] = r.Item
	}
	// Someone else changes a2 meanwhile: our copy of it is stale.
	other := items[1]
	other.Balance = 0
	if _, err := accounts.Save(ctx, other); err != nil {
		panic(err)
	}

	for i := range items {
		items[i].Balance += 5
	}
	results, err = accounts.SaveAll(ctx, items, func(o *repo.BulkOptions) { o.Concurrency = 2 })
	if err != nil {
		panic(err) // only bad input or a cancelled ctx
	}
	for _, r := range results {
		var ce *repo.ConflictError[Account]
		switch {
		case errors.As(r.Err, &ce):
			fmt.Printf("%s: conflict, stored version %d has balance %d\n", ce.Current.ID, ce.Actual, ce.Current.Balance)
		case r.Err != nil:
			fmt.Println("error:", r.Err)
		default:
			fmt.Printf("%s: balance %d at version %d\n", r.Item.ID, r.Item.Balance, r.Item.Version)
		}
	}
	// Output:
	// a1: balance 15 at version 2
	// a2: conflict, stored version 2 has balance 0
	// a3: balance 35 at version 2
}
