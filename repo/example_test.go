package repo_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/ddbocc/ddbocc/dynamolocal"
	"github.com/ddbocc/ddbocc/repo"
)

// exampleClient connects the examples to the test binary's DynamoDB Local,
// which TestMain starts with dynamolocal.RunTests (a program would call
// dynamolocal.Start). In an application, pass a *dynamodb.Client made with
// dynamodb.NewFromConfig.
func exampleClient() repo.API {
	local, err := dynamolocal.Shared()
	if err != nil {
		panic(err)
	}
	return local.Client()
}

// uniqueTable returns a fresh table name, so that examples can run again
// against one DynamoDB Local.
func uniqueTable(name string) string {
	return fmt.Sprintf("example-%s-%d", name, rand.Int64())
}

// An account table: create it, create an item, update it.
func ExampleRepository_Update() {
	ctx := context.Background()
	accounts, err := repo.New[Account](exampleClient(), uniqueTable("accounts"))
	if err != nil {
		panic(err)
	}
	if err := accounts.CreateTable(ctx); err != nil {
		panic(err)
	}
	a, err := accounts.Create(ctx, Account{ID: "a1", Owner: "ann", Balance: 100})
	if err != nil {
		panic(err)
	}
	fmt.Println("created at version", a.Version)

	a, err = accounts.Update(ctx, repo.Key("a1"), func(a *Account) error {
		if a.Balance < 30 {
			return errors.New("insufficient funds") // stops Update, nothing written
		}
		a.Balance -= 30
		return nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("balance", a.Balance, "at version", a.Version)
	// Output:
	// created at version 1
	// balance 70 at version 2
}

// Saving a stale copy is refused with the stored item attached.
func ExampleConflictError() {
	ctx := context.Background()
	accounts, err := repo.New[Account](exampleClient(), uniqueTable("conflict"))
	if err != nil {
		panic(err)
	}
	if err := accounts.CreateTable(ctx); err != nil {
		panic(err)
	}
	mine, _ := accounts.Create(ctx, Account{ID: "a1", Balance: 100})
	theirs := mine
	theirs.Balance = 50
	if _, err := accounts.Save(ctx, theirs); err != nil {
		panic(err)
	}

	mine.Balance = 999
	_, err = accounts.Save(ctx, mine)
	var ce *repo.ConflictError[Account]
	if errors.As(err, &ce) {
		fmt.Printf("conflict: expected version %d, stored %d with balance %d\n", ce.Expected, ce.Actual, ce.Current.Balance)
	}
	// Output:
	// conflict: expected version 1, stored 2 with balance 50
}

// Query pages through the items under one hash key.
func ExampleRepository_Query() {
	ctx := context.Background()
	entries, err := repo.New[Entry](exampleClient(), uniqueTable("entries"))
	if err != nil {
		panic(err)
	}
	if err := entries.CreateTable(ctx); err != nil {
		panic(err)
	}
	for seq := 1; seq <= 5; seq++ {
		if _, err := entries.Create(ctx, Entry{User: "u1", Seq: seq, Status: "open"}); err != nil {
			panic(err)
		}
	}
	for e, err := range entries.Query(ctx, "u1", func(o *repo.QueryOptions) {
		o.Range = repo.RangeBetween(2, 4)
		o.PageSize = 2
	}) {
		if err != nil {
			panic(err)
		}
		fmt.Println(e.User, e.Seq, e.Status)
	}
	// Output:
	// u1 2 open
	// u1 3 open
	// u1 4 open
}

// Move money between two accounts and record it in a ledger, all or
// nothing; the function runs again if another writer changed an account.
func ExampleTransact() {
	ctx := context.Background()
	client := exampleClient()
	accounts, err := repo.New[Account](client, uniqueTable("tx-accounts"))
	if err != nil {
		panic(err)
	}
	ledger, err := repo.New[LedgerEntry](client, uniqueTable("tx-ledger"))
	if err != nil {
		panic(err)
	}
	for _, r := range []interface {
		CreateTable(context.Context, ...func(*repo.TableOptions)) error
	}{accounts, ledger} {
		if err := r.CreateTable(ctx); err != nil {
			panic(err)
		}
	}
	accounts.Create(ctx, Account{ID: "a1", Balance: 100})
	accounts.Create(ctx, Account{ID: "a2", Balance: 0})

	var from, to Account
	err = repo.Transact(ctx, client, func(tx *repo.Tx) error {
		items, _, err := accounts.TxGetMany(tx, repo.Key("a1"), repo.Key("a2"))
		if err != nil {
			return err
		}
		from, to = items[0], items[1]
		if from.Balance < 30 {
			return errors.New("insufficient funds")
		}
		from.Balance -= 30
		to.Balance += 30
		if err := accounts.TxSave(tx, &from); err != nil {
			return err
		}
		if err := accounts.TxSave(tx, &to); err != nil {
			return err
		}
		return ledger.TxCreate(tx, &LedgerEntry{ID: "e1", From: "a1", To: "a2", Amount: 30})
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("a1 %d (version %d), a2 %d (version %d)\n", from.Balance, from.Version, to.Balance, to.Version)
	// Output:
	// a1 70 (version 2), a2 30 (version 2)
}
