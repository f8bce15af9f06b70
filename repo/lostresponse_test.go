package repo_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
)

// lossyClient counts its requests in c and loses the response of its next
// request of operation op after DynamoDB Local stored it: the write is
// stored, the client never hears of it.
func lossyClient(t *testing.T, op string, c *ddblocal.RequestCounter) *dynamodb.Client {
	client, tr := faults.Client(ddblocal.Endpoint(t), faults.Config{Ops: []string{op}}, c.Option())
	tr.Script(faults.Drop)
	return client
}

var fastRetry = func(o *repo.Options) {
	o.Retry = retry.Policy{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond, Multiplier: 2, MaxAttempts: 10}
}

// The response of a stored Update is lost: Update must report success with
// the value it stored, and fn's effect must be stored once.
func TestUpdateLostResponseAppliesOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := newRepo[Account](t, e)
	mustCreate(t, setup, Account{ID: "a1", Balance: 100})

	c := &ddblocal.RequestCounter{}
	accounts := mustNew[Account](t, lossyClient(t, "UpdateItem", c), e.table, fastRetry)
	calls := 0
	a, err := accounts.Update(context.Background(), repo.Key("a1"), func(a *Account) error { calls++; a.Balance += 10; return nil })
	if err != nil || a.Balance != 110 || a.Version != 2 {
		t.Fatalf("Update after a lost response = %+v, %v; want balance 110 at version 2", a, err)
	}
	got, _ := setup.Get(context.Background(), repo.Key("a1"))
	if got.Balance != 110 || got.Version != 2 || calls != 1 {
		t.Fatalf("stored %+v after %d fn calls; want balance 110 at version 2 from one call", got, calls)
	}
	// Read, lost write, the same write again on the same base: its failed
	// condition returns the item with the first write's id (ALL_OLD), so
	// no read is needed to resolve it.
	if ops := c.ByOperation(); ops["UpdateItem"] != 2 || ops["GetItem"] != 1 {
		t.Fatalf("requests %v, want 2 UpdateItem and 1 GetItem", ops)
	}
}

// A lost response followed at once by another writer's commit: the
// resolving read still finds our id among the item's recent ones.
func TestUpdateLostResponseUnderContention(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := newRepo[Account](t, e)
	mustCreate(t, setup, Account{ID: "a1"})
	c := &ddblocal.RequestCounter{}
	lossy := mustNew[Account](t, lossyClient(t, "UpdateItem", c), e.table, fastRetry)
	ctx := context.Background()
	calls := 0
	_, err := lossy.Update(ctx, repo.Key("a1"), func(a *Account) error {
		calls++
		a.Balance += 100
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Another writer commits right after; our item's ids still show ours.
	if _, err := setup.Update(ctx, repo.Key("a1"), func(a *Account) error { a.Balance++; return nil }); err != nil {
		t.Fatal(err)
	}
	got, _ := setup.Get(ctx, repo.Key("a1"))
	if got.Balance != 101 || calls != 1 {
		t.Fatalf("balance %d after %d calls, want 101 after 1", got.Balance, calls)
	}
}

func TestCreateAndSaveLostResponse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := newRepo[Account](t, e)
	ctx := context.Background()

	c := &ddblocal.RequestCounter{}
	creator := mustNew[Account](t, lossyClient(t, "PutItem", c), e.table, fastRetry)
	a, err := creator.Create(ctx, Account{ID: "a1", Balance: 1})
	if err != nil || a.Version != 1 {
		t.Fatalf("Create after a lost response = %+v, %v; want success at version 1", a, err)
	}

	saver := mustNew[Account](t, lossyClient(t, "UpdateItem", c), e.table, fastRetry)
	a.Balance = 2
	a, err = saver.Save(ctx, a)
	if err != nil || a.Version != 2 {
		t.Fatalf("Save after a lost response = %+v, %v; want success at version 2", a, err)
	}

	deleter := mustNew[Account](t, lossyClient(t, "DeleteItem", c), e.table, fastRetry)
	if err := deleter.Delete(ctx, a); err != nil {
		t.Fatalf("Delete after a lost response: %v", err)
	}
	if _, err := setup.Get(ctx, repo.Key("a1")); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
}

// A lost write is resolved by its writer slot's entry however many writes
// others made since; only when more than eight other writers (Repositories)
// wrote since, and the version ids are gone too, does Update say it does not
// know, instead of applying fn again.
func TestUpdateOutcomeUnknown(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		writers int
		want    error
	}{{1, nil}, {9, repo.ErrOutcomeUnknown}} {
		t.Run(fmt.Sprintf("%d other writers", c.writers), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			setup := newRepo[Account](t, e, func(o *repo.Options) { o.WriteIDs = 1 })
			mustCreate(t, setup, Account{ID: "a1"})
			ctx := context.Background()
			// Drop our write's response, and let each competitor commit
			// twice before we look: with one version id kept, ours is gone
			// from the version entries.
			client, tr := faults.Client(ddblocal.Endpoint(t), faults.Config{Ops: []string{"UpdateItem"}})
			tr.Script(faults.Drop)
			tr.AfterFault = func(string, faults.Decision) {
				for w := 0; w < c.writers; w++ {
					other := competitor[Account](t, e)
					for i := 0; i < 2; i++ {
						if _, err := other.Update(ctx, repo.Key("a1"), func(a *Account) error { a.Balance += 1000; return nil }); err != nil {
							t.Error(err)
						}
					}
				}
			}
			lossy := mustNew[Account](t, client, e.table, fastRetry, func(o *repo.Options) { o.WriteIDs = 1 })
			calls := 0
			_, err := lossy.Update(ctx, repo.Key("a1"), func(a *Account) error { calls++; a.Balance++; return nil })
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Update: %v, want %v", err, c.want)
			}
			got, _ := setup.Get(ctx, repo.Key("a1"))
			if want := int64(2000*c.writers + 1); calls != 1 || got.Balance != want {
				t.Fatalf("fn ran %d times, balance %d; want 1 run, %d (our +1 stored once)", calls, got.Balance, want)
			}
		})
	}
}
