package repo_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/repo"
)

type lock struct {
	Name    string `dynamo:"name,hash"`
	Owner   string `dynamo:"owner"`
	Token   int64  `dynamo:"token"`
	Version int64  `dynamo:"version"`
}

var errLost = errors.New("test: lease lost")

func heldBy(table, owner string, token int64) repo.Condition {
	return repo.Condition{
		Table: table,
		Key:   map[string]types.AttributeValue{"name": &types.AttributeValueMemberS{Value: "commit"}},
		Cond: expression.Name("owner").Equal(expression.Value(owner)).
			And(expression.Name("token").Equal(expression.Value(token))),
		Name: "lock commit",
		Err:  errLost,
	}
}

// newLock creates a lock table of its own holding the lock "commit" for
// owner with token (what heldBy checks), and returns its env and
// repository.
func newLock(t *testing.T, owner string, token int64) (*env, *repo.Repository[lock]) {
	t.Helper()
	le := newEnv(t)
	locks := newRepo[lock](t, le)
	mustCreate(t, locks, lock{Name: "commit", Owner: owner, Token: token})
	return le, locks
}

func TestGuardedWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	le, locks := newLock(t, "me", 1)
	ctx := context.Background()
	guard := repo.Guard(heldBy(le.table, "me", 1))

	a, err := accounts.Create(ctx, Account{ID: "a1", Balance: 1}, guard)
	if err != nil || a.Version != 1 {
		t.Fatalf("guarded Create = %+v, %v", a, err)
	}
	a, err = accounts.Update(ctx, repo.Key("a1"), func(a *Account) error { a.Balance++; return nil }, guard)
	if err != nil || a.Balance != 2 || a.Version != 2 {
		t.Fatalf("guarded Update = %+v, %v", a, err)
	}
	// A stale guarded Save is still a conflict with the stored item.
	stale := a
	stale.Version = 1
	var ce *repo.ConflictError[Account]
	if _, err := accounts.Save(ctx, stale, guard); !errors.As(err, &ce) || ce.Current != a {
		t.Fatalf("stale guarded Save: %v, want a conflict carrying %+v", err, a)
	}

	// Someone else takes the lock: every guarded write is refused, nothing written.
	if _, err := locks.Save(ctx, lock{Name: "commit", Owner: "other", Token: 2, Version: 1}); err != nil {
		t.Fatal(err)
	}
	calls := 0
	_, err = accounts.Update(ctx, repo.Key("a1"), func(a *Account) error { calls++; a.Balance = 100; return nil }, guard)
	var ge *repo.GuardError
	if !errors.Is(err, repo.ErrGuardFailed) || !errors.Is(err, errLost) || !errors.As(err, &ge) {
		t.Fatalf("Update under a lost guard: %v, want ErrGuardFailed and the guard's error", err)
	}
	if calls != 1 || ge.Item["owner"].(*types.AttributeValueMemberS).Value != "other" {
		t.Fatalf("fn ran %d times (want 1, no retry); guard item %v", calls, ge.Item)
	}
	if err := accounts.Delete(ctx, a, guard); !errors.Is(err, repo.ErrGuardFailed) {
		t.Fatalf("Delete under a lost guard: %v", err)
	}
	if got, _ := accounts.Get(ctx, repo.Key("a1")); got != a {
		t.Fatalf("a refused write changed the item: %+v", got)
	}
	// Bad guards are refused before sending.
	e.counter.Reset()
	bad := repo.Condition{Table: le.table, Name: "no key"}
	if _, err := accounts.Update(ctx, repo.Key("a1"), func(*Account) error { return nil }, repo.Guard(bad)); !errors.Is(err, repo.ErrInvalidArgument) {
		t.Fatalf("guard without key: %v", err)
	}
	if e.counter.Count() != 0 {
		t.Fatalf("a bad guard sent %d requests", e.counter.Count())
	}
}
