package repo_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/repo"
)

// Upsert creates a missing item from the zero value with the key set, and
// updates it once it exists.
func ExampleRepository_Upsert() {
	ctx := context.Background()
	counters, err := repo.New[Account](exampleClient(), uniqueTable("upsert"))
	if err != nil {
		panic(err)
	}
	if err := counters.CreateTable(ctx); err != nil {
		panic(err)
	}
	visit := func(a *Account) error {
		if a.Owner == "" {
			a.Owner = "page:/home" // the zero item: first visit
		}
		a.Balance++
		return nil
	}
	for range 3 {
		a, err := counters.Upsert(ctx, repo.Key("home"), visit)
		if err != nil {
			panic(err)
		}
		fmt.Println(a.Owner, "visits", a.Balance, "version", a.Version)
	}
	// Output:
	// page:/home visits 1 version 1
	// page:/home visits 2 version 2
	// page:/home visits 3 version 3
}

// An item written by another program, without the version attribute, reads
// at version 0; its first versioned write adopts it (version 1), on
// condition that it still has no version.
func ExampleAdopting() {
	ctx := context.Background()
	client := exampleClient()
	accounts, err := repo.New[Account](client, uniqueTable("adopt"))
	if err != nil {
		panic(err)
	}
	if err := accounts.CreateTable(ctx); err != nil {
		panic(err)
	}
	// Two items as a program without versions wrote them.
	for _, id := range []string{"legacy1", "legacy2"} {
		if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(accounts.Table()), Item: map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: id}, "owner": &types.AttributeValueMemberS{Value: "ann"},
			"balance": &types.AttributeValueMemberN{Value: "100"},
		}}); err != nil {
			panic(err)
		}
	}
	a, err := accounts.Get(ctx, repo.Key("legacy1"))
	if err != nil {
		panic(err)
	}
	fmt.Println("read at version", a.Version)

	// Update adopts the item it reads.
	a, err = accounts.Update(ctx, repo.Key("legacy1"), func(a *Account) error { a.Balance -= 30; return nil })
	if err != nil {
		panic(err)
	}
	fmt.Println("updated: balance", a.Balance, "version", a.Version)

	// A value read at version 0 is saved with Adopting; without it, Save
	// would create, and fail on the stored item.
	b, err := accounts.Get(ctx, repo.Key("legacy2"))
	if err != nil {
		panic(err)
	}
	b.Owner = "bob"
	if b, err = accounts.Save(ctx, b, repo.Adopting); err != nil {
		panic(err)
	}
	fmt.Println("saved:", b.Owner, "version", b.Version)
	// Output:
	// read at version 0
	// updated: balance 70 version 1
	// saved: bob version 1
}

// backfillPage adopts the version-less items of one page of a scan of the
// table, from after the key start (nil: the beginning), with a
// no-change-but-write Update: the library's adopting write, with its write
// id, conditioned on the item still having no version. It returns the key
// to resume after (nil: the scan is done).
func backfillPage(ctx context.Context, client repo.API, accounts *repo.Repository[Account], start map[string]types.AttributeValue) (next map[string]types.AttributeValue, adopted int) {
	out, err := client.Scan(ctx, &dynamodb.ScanInput{
		TableName:                aws.String(accounts.Table()),
		Limit:                    aws.Int32(2), // items read per page: bounds each step's capacity
		ExclusiveStartKey:        start,
		ConsistentRead:           aws.Bool(true),
		FilterExpression:         aws.String("attribute_not_exists(#v)"),
		ProjectionExpression:     aws.String("#k"),
		ExpressionAttributeNames: map[string]string{"#v": "version", "#k": "id"},
	})
	if err != nil {
		panic(err)
	}
	for _, key := range out.Items {
		id := key["id"].(*types.AttributeValueMemberS).Value
		wrote := false
		_, err := accounts.Update(ctx, repo.Key(id), func(a *Account) error {
			if a.Version != 0 {
				return repo.NoChange // adopted meanwhile: nothing to do
			}
			wrote = true
			return nil // no change, but written: version 1
		})
		if err != nil {
			panic(err) // a real migration logs it and retries the page
		}
		if wrote {
			adopted++
		}
	}
	return out.LastEvaluatedKey, adopted
}

// Back-fill the version attribute of a table that was written without one:
// a bounded scan, page by page, that can stop at any point and resume from
// the last key it saved, and adopts nothing twice when run again.
func Example_backfillVersions() {
	ctx := context.Background()
	client := exampleClient()
	accounts, err := repo.New[Account](client, uniqueTable("backfill"))
	if err != nil {
		panic(err)
	}
	if err := accounts.CreateTable(ctx); err != nil {
		panic(err)
	}
	ids := []string{"a0", "a1", "a2", "a3", "a4", "a5"}
	for _, id := range ids[1:] { // written without versions
		if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(accounts.Table()), Item: map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: id}, "balance": &types.AttributeValueMemberN{Value: "1"},
		}}); err != nil {
			panic(err)
		}
	}
	if _, err := accounts.Create(ctx, Account{ID: "a0"}); err != nil { // already versioned
		panic(err)
	}

	// The resume point: persist it (a file, an item) after every page.
	// Here the migration stops after its first page, as if it crashed,
	// and a second run resumes from the saved key.
	var saved map[string]types.AttributeValue
	total := 0
	next, n := backfillPage(ctx, client, accounts, nil)
	saved, total = next, total+n
	for saved != nil { // the resumed run
		next, n := backfillPage(ctx, client, accounts, saved)
		saved, total = next, total+n
	}
	fmt.Println("adopted", total)

	// Run again from the start: every item has a version now.
	again := 0
	for next, first := map[string]types.AttributeValue(nil), true; first || next != nil; first = false {
		var n int
		next, n = backfillPage(ctx, client, accounts, next)
		again += n
	}
	fmt.Println("adopted on a second run", again)

	for _, id := range ids {
		a, err := accounts.Get(ctx, repo.Key(id))
		if err != nil {
			panic(err)
		}
		fmt.Print(a.ID, ":v", a.Version, " ")
	}
	fmt.Println()
	// Output:
	// adopted 5
	// adopted on a second run 0
	// a0:v1 a1:v1 a2:v1 a3:v1 a4:v1 a5:v1
}
