package repo_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

func TestUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	ctx := context.Background()
	mustCreate(t, accounts, Account{ID: "a1", Owner: "ann", Balance: 100})

	a, err := accounts.Update(ctx, repo.Key("a1"), func(a *Account) error { a.Balance -= 30; return nil })
	if err != nil || a.Balance != 70 || a.Version != 2 {
		t.Fatalf("Update = %+v, %v; want balance 70 at version 2", a, err)
	}
	got, _ := accounts.Get(ctx, repo.Key("a1"))
	if got != a {
		t.Fatalf("stored %+v, Update returned %+v", got, a)
	}
	// One read, one write.
	if ops := e.counter.ByOperation(); ops["GetItem"] != 2 || ops["UpdateItem"] != 1 {
		t.Fatalf("requests %v, want 1 GetItem + 1 UpdateItem (and the check's GetItem)", ops)
	}
}

func TestUpdateFnError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	ctx := context.Background()
	stored := mustCreate(t, accounts, Account{ID: "a1", Balance: 10})
	errBroke := errors.New("insufficient funds")

	_, err := accounts.Update(ctx, repo.Key("a1"), func(a *Account) error {
		a.Balance = -1000
		return errBroke
	})
	if !errors.Is(err, errBroke) {
		t.Fatalf("Update: %v, want the fn's error", err)
	}
	if got, _ := accounts.Get(ctx, repo.Key("a1")); got != stored {
		t.Fatalf("fn error still wrote: %+v", got)
	}

	// NoChange: no write, current item returned, even if fn scribbled on its copy.
	e.counter.Reset()
	a, err := accounts.Update(ctx, repo.Key("a1"), func(a *Account) error {
		a.Balance = 99
		return repo.NoChange
	})
	if err != nil || a != stored {
		t.Fatalf("NoChange Update = %+v, %v; want %+v, nil", a, err, stored)
	}
	if ops := e.counter.ByOperation(); ops["UpdateItem"] != 0 {
		t.Fatalf("NoChange wrote: %v", ops)
	}

	// fn must not change the key or the version.
	if _, err := accounts.Update(ctx, repo.Key("a1"), func(a *Account) error { a.ID = "a2"; return nil }); !errors.Is(err, repo.ErrInvalidArgument) {
		t.Fatalf("key change: %v, want ErrInvalidArgument", err)
	}
	if _, err := accounts.Update(ctx, repo.Key("a1"), func(a *Account) error { a.Version = 9; return nil }); !errors.Is(err, repo.ErrInvalidArgument) {
		t.Fatalf("version change: %v, want ErrInvalidArgument", err)
	}
	if _, err := accounts.Update(ctx, repo.Key("nope"), func(a *Account) error { return nil }); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("missing item: %v, want ErrNotFound", err)
	}
}

// A conflicting write between the read and the write: the retry re-applies
// fn to the item returned by the failed write, without reading again.
func TestUpdateReusesAllOld(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var conflicts, retries atomic.Int32
	accounts := newRepo[Account](t, e, func(o *repo.Options) {
		o.Observer.Conflict = func(ev repo.ConflictEvent) {
			conflicts.Add(1)
			if ev.Expected != 1 || ev.Actual != 2 || ev.Op != "Update" {
				t.Errorf("ConflictEvent %+v", ev)
			}
		}
		o.Observer.Retry = func(repo.RetryEvent) { retries.Add(1) }
	})
	ctx := context.Background()
	mustCreate(t, accounts, Account{ID: "a1", Balance: 100})
	other := competitor[Account](t, e)
	calls := 0
	a, err := accounts.Update(ctx, repo.Key("a1"), func(a *Account) error {
		calls++
		if calls == 1 { // a competitor commits first
			if _, err := other.Update(ctx, repo.Key("a1"), func(b *Account) error { b.Balance += 5; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		a.Balance *= 2
		return nil
	})
	if err != nil || a.Balance != 210 || a.Version != 3 {
		t.Fatalf("Update = %+v, %v; want (100+5)*2 = 210 at version 3", a, err)
	}
	if calls != 2 || conflicts.Load() != 1 || retries.Load() != 1 {
		t.Fatalf("fn ran %d times, %d conflicts, %d retries; want 2, 1, 1", calls, conflicts.Load(), retries.Load())
	}
	// Our reads: 1 (ours) + 1 (competitor's); no re-read after the conflict.
	if ops := e.counter.ByOperation(); ops["GetItem"] != 2 || ops["UpdateItem"] != 3 {
		t.Fatalf("requests %v, want 2 GetItem and 3 UpdateItem", ops)
	}
}

func TestUpdateExhausted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e, func(o *repo.Options) {
		o.Retry = retry.Policy{InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, Multiplier: 1, MaxAttempts: 3}
	})
	ctx := context.Background()
	mustCreate(t, accounts, Account{ID: "a1"})
	other := competitor[Account](t, e)
	calls := 0
	_, err := accounts.Update(ctx, repo.Key("a1"), func(a *Account) error {
		calls++
		// Every attempt loses to a competitor.
		if _, err := other.Update(ctx, repo.Key("a1"), func(b *Account) error { b.Balance++; return nil }); err != nil {
			t.Fatal(err)
		}
		return nil
	})
	var ce *repo.ConflictError[Account]
	if !errors.Is(err, repo.ErrConflict) || !errors.Is(err, retry.ErrExhausted) || !errors.As(err, &ce) {
		t.Fatalf("Update: %v, want ErrConflict and retry.ErrExhausted", err)
	}
	if calls != 3 || !strings.Contains(err.Error(), "3 attempts") {
		t.Fatalf("fn ran %d times, error %q; want 3 attempts reported", calls, err)
	}
	if ce.Current.Balance != 3 || ce.Actual != 4 {
		t.Fatalf("ConflictError current %+v actual %d, want balance 3 at version 4", ce.Current, ce.Actual)
	}
}

func TestUpdateCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	accounts := newRepo[Account](t, e, func(o *repo.Options) {
		o.Retry = retry.Policy{InitialInterval: time.Hour, MaxInterval: time.Hour, Multiplier: 1, MaxAttempts: 5}
		// Unqueued: a queued Update answers a conflict at once (rivals.go).
		o.DisableLocalQueue = true
		// Cancel as the loop goes to sleep for up to an hour after a conflict.
		o.Observer.Retry = func(repo.RetryEvent) { time.AfterFunc(10*time.Millisecond, cancel) }
	})
	mustCreate(t, accounts, Account{ID: "a1"})
	other := competitor[Account](t, e)
	start := time.Now()
	_, err := accounts.Update(ctx, repo.Key("a1"), func(a *Account) error {
		if _, err := other.Update(context.Background(), repo.Key("a1"), func(b *Account) error { b.Balance++; return nil }); err != nil {
			t.Fatal(err)
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, repo.ErrConflict) {
		t.Fatalf("Update: %v, want context.Canceled wrapping the last conflict", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Update returned %v after cancel", d)
	}
}

func TestVersionOverflow(t *testing.T) {
	t.Parallel()
	type Small struct {
		ID string `dynamo:"id,hash"`
		N  int    `dynamo:"n"`
		V  int8   `dynamo:"version"`
	}
	e := newEnv(t)
	small := newRepo[Small](t, e)
	ctx := context.Background()
	_, err := e.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: map[string]types.AttributeValue{
		"id": &types.AttributeValueMemberS{Value: "s"}, "n": &types.AttributeValueMemberN{Value: "1"}, "version": &types.AttributeValueMemberN{Value: "127"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.counter.Reset()
	_, err = small.Update(ctx, repo.Key("s"), func(s *Small) error { s.N++; return nil })
	if !errors.Is(err, versioned.ErrVersionOverflow) {
		t.Fatalf("Update at version 127 of an int8: %v, want ErrVersionOverflow", err)
	}
	if _, err := small.Save(ctx, Small{ID: "s", V: 127}); !errors.Is(err, versioned.ErrVersionOverflow) {
		t.Fatalf("Save at 127: %v, want ErrVersionOverflow", err)
	}
	if ops := e.counter.ByOperation(); ops["UpdateItem"] != 0 {
		t.Fatalf("an overflowing write was sent: %v", ops)
	}
}

// 16 goroutines × 50 increments of one item: exactly 800, every returned
// version distinct. Three ways: one shared repository (local queueing),
// local queueing off (every goroutine contends through DynamoDB), and four
// repositories (four "processes" of four goroutines).
func TestConcurrentIncrements(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		repos int
		queue bool
	}{{"queued", 1, true}, {"contended", 1, false}, {"four repositories", 4, true}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			const workers, each = 16, 50
			e := newEnv(t)
			var conflicts atomic.Int64
			opts := func(o *repo.Options) {
				o.Observer.Conflict = func(repo.ConflictEvent) { conflicts.Add(1) }
				// The test is about correctness, not speed: a loaded CI
				// machine running -race may take long, so no Update may
				// give up.
				o.Retry.MaxElapsedTime = 5 * time.Minute
				o.DisableLocalQueue = !c.queue
			}
			repos := []*repo.Repository[Account]{newRepo[Account](t, e, opts)}
			for len(repos) < c.repos {
				r := mustNew[Account](t, e.client, e.table, opts)
				repos = append(repos, r)
			}
			ctx := context.Background()
			mustCreate(t, repos[0], Account{ID: "hot"})
			e.counter.Reset()

			var mu sync.Mutex
			seen := map[int64]bool{}
			var wg sync.WaitGroup
			errs := make(chan error, workers*each)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := repos[w%len(repos)]
					for i := 0; i < each; i++ {
						a, err := r.Update(ctx, repo.Key("hot"), func(a *Account) error { a.Balance++; return nil })
						if err != nil {
							errs <- err
							continue
						}
						mu.Lock()
						if seen[a.Version] {
							errs <- errors.New("version returned twice")
						}
						seen[a.Version] = true
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			reqs := e.counter.Count()
			got, err := repos[0].Get(ctx, repo.Key("hot"))
			if err != nil {
				t.Fatal(err)
			}
			if got.Balance != workers*each || got.Version != workers*each+1 || len(seen) != workers*each {
				t.Fatalf("balance %d at version %d with %d distinct versions; want %d, %d, %d",
					got.Balance, got.Version, len(seen), workers*each, workers*each+1, workers*each)
			}
			perCommit := float64(reqs) / float64(workers*each)
			t.Logf("%d commits, %d conflicts, %.2f requests per commit", workers*each, conflicts.Load(), perCommit)
			if c.repos == 1 && c.queue && (conflicts.Load() != 0 || perCommit > 1.5) {
				t.Errorf("queued Updates in one repository: %d conflicts, %.2f requests per commit; want none and about 1", conflicts.Load(), perCommit)
			}
			if !c.queue && conflicts.Load() == 0 {
				t.Errorf("16 unqueued writers on one item never conflicted: the test does not exercise contention")
			}
		})
	}
}
