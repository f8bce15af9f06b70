// Package repo stores Go structs in DynamoDB with optimistic concurrency:
// every write is conditioned on the item's version, and [Repository.Update]
// re-applies a mutation to the current item when another writer got there
// first.
//
//	type Account struct {
//	    ID      string `dynamo:"id,hash"`
//	    Owner   string `dynamo:"owner"`
//	    Balance int64  `dynamo:"balance"`
//	    Version int64  `dynamo:"version"`
//	}
//
//	accounts, err := repo.New[Account](client, "accounts") // checks the tags, sends nothing
//	err = accounts.CreateTable(ctx)                       // idempotent
//	a, err := accounts.Create(ctx, Account{ID: "a1", Owner: "ann", Balance: 100}) // a.Version == 1
//	a, err = accounts.Update(ctx, repo.Key("a1"), func(a *Account) error {
//	    a.Balance -= 30
//	    return nil
//	})
//
// # Writes and their conditions
//
//	Create      attribute_not_exists(hash)   else ErrAlreadyExists (*ConflictError with the stored item)
//	Save        version = n                  else ErrConflict (*ConflictError) or ErrNotFound
//	Update      read, fn, Save; on conflict re-apply fn to the ALL_OLD item, under the retry policy
//	Delete      version = n                  else ErrConflict or ErrNotFound
//	DeleteKey   attribute_exists(hash)       else ErrNotFound
//	Overwrite   none: the escape hatch; still moves the version on
//
// Writes use UpdateItem and touch only the attributes the item type knows,
// so attributes written by other programs survive. Update sends only the
// attributes fn changed.
//
// # No double apply
//
// Every versioned write stores a random write id under the version it
// creates, in a small hidden map attribute of the item (see
// [Options.WriteIDAttribute]). Conditional writes are sent without the SDK's
// own retries. When a write's response is lost (a reset connection, a
// timeout, a 5xx, a cancelled ctx), the next look at the item (a failed
// condition's ALL_OLD, or a consistent read) tells whether the write took
// effect: then the call returns success with what it stored; if the item no
// longer tells, the call returns [ErrOutcomeUnknown] and never re-applies
// fn.
//
// A Repository is safe for concurrent use by many goroutines.
package repo
