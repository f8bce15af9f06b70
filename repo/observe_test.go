package repo_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/repo"
)

// requestLog collects RequestEvents.
type requestLog struct {
	mu  sync.Mutex
	evs []repo.RequestEvent
}

func (l *requestLog) add(e repo.RequestEvent) { l.mu.Lock(); l.evs = append(l.evs, e); l.mu.Unlock() }

func (l *requestLog) take() []repo.RequestEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.evs
	l.evs = nil
	return evs
}

func ops(evs []repo.RequestEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Op+":"+e.Outcome)
	}
	return out
}

// TestObserverRequests: with Observer.Request set, every request of a
// Repository is reported once, with its operation, table, latency,
// consumed capacity (DynamoDB Local reports it when asked) and outcome; a
// write that meets another version is "condition_failed".
func TestObserverRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var log requestLog
	accounts := newRepo[Account](t, e, func(o *repo.Options) { o.Observer.Request = log.add; o.KeepItems = 0 })
	other := mustNew[Account](t, e.client, e.table)
	ctx := context.Background()
	log.take() // CreateTable's requests

	a := mustCreate(t, accounts, Account{ID: "a", Balance: 1})
	if _, err := other.Update(ctx, repo.Key("a"), func(a *Account) error { a.Balance = 10; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Save(ctx, a); !errors.Is(err, repo.ErrConflict) {
		t.Fatalf("Save of a stale item: %v, want ErrConflict", err)
	}
	if _, err := accounts.Update(ctx, repo.Key("a"), func(a *Account) error { a.Balance++; return nil }); err != nil {
		t.Fatal(err)
	}
	evs := log.take()
	want := []string{"PutItem:ok", "UpdateItem:condition_failed", "GetItem:ok", "UpdateItem:ok"}
	if got := ops(evs); !slices.Equal(got, want) {
		t.Fatalf("requests %v, want %v", got, want)
	}
	for _, ev := range evs {
		if ev.Table != e.table || ev.Latency <= 0 {
			t.Errorf("event %+v: want table %s and a latency", ev, e.table)
		}
		if ev.Outcome == repo.OutcomeOK && ev.Capacity <= 0 {
			t.Errorf("event %+v: no consumed capacity", ev)
		}
		if (ev.Err == nil) != (ev.Outcome == repo.OutcomeOK) {
			t.Errorf("event %+v: Err and Outcome disagree", ev)
		}
	}
	// A call whose ctx has ended is reported as cancelled.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, _ = repo.ObservedClient(e.client, log.add).GetItem(cctx, &dynamodb.GetItemInput{TableName: aws.String(e.table),
		Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}}})
	if got := ops(log.take()); !slices.Equal(got, []string{"GetItem:canceled"}) {
		t.Fatalf("cancelled GetItem reported as %v", got)
	}
}

// TestTransactInheritsObservers: without TxOptions.Observer, a transaction
// tells the observers of the repositories that took part: each of the
// conflicts on its own table, and every one of the commit's requests;
// with TxOptions.Observer set, only that one.
func TestTransactInheritsObservers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	type seen struct {
		mu        sync.Mutex
		conflicts []string
		requests  []string
	}
	observer := func(s *seen) func(*repo.Options) {
		return func(o *repo.Options) {
			o.Observer.Conflict = func(c repo.ConflictEvent) { s.mu.Lock(); s.conflicts = append(s.conflicts, c.Table); s.mu.Unlock() }
			o.Observer.Request = func(r repo.RequestEvent) {
				s.mu.Lock()
				s.requests = append(s.requests, r.Op+":"+r.Outcome)
				s.mu.Unlock()
			}
		}
	}
	var sa, sb seen
	accounts := mustTable[Account](t, e.client, e.table+"-a", observer(&sa))
	entries := mustTable[Entry](t, e.client, e.table+"-b", observer(&sb))
	ctx := context.Background()
	a := mustCreate(t, accounts, Account{ID: "a"})
	mustCreate(t, entries, Entry{User: "u", Seq: 1})
	for _, s := range []*seen{&sa, &sb} {
		s.requests = nil
	}
	// The first attempt meets a version another writer stored meanwhile.
	if _, err := mustNew[Account](t, e.client, e.table+"-a").Update(ctx, repo.Key("a"), func(a *Account) error { a.Balance = 5; return nil }); err != nil {
		t.Fatal(err)
	}
	runs := 0
	err := repo.Transact(ctx, e.client, func(tx *repo.Tx) error {
		runs++
		if runs > 1 {
			var err error
			if a, err = accounts.TxGet(tx, repo.Key("a")); err != nil {
				return err
			}
		}
		a.Balance++
		en, err := entries.TxGet(tx, repo.Key("u", 1))
		if err != nil {
			return err
		}
		en.Name = "x"
		if err := entries.TxSave(tx, &en); err != nil {
			return err
		}
		return accounts.TxSave(tx, &a)
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 {
		t.Fatalf("fn ran %d times, want 2", runs)
	}
	if !slices.Equal(sa.conflicts, []string{e.table + "-a"}) || len(sb.conflicts) != 0 {
		t.Fatalf("conflicts told: accounts' observer %v, entries' %v; want one on %s-a to accounts' only", sa.conflicts, sb.conflicts, e.table)
	}
	for name, s := range map[string]*seen{"accounts": &sa, "entries": &sb} {
		tx := slices.DeleteFunc(slices.Clone(s.requests), func(r string) bool { return r == "GetItem:ok" })
		if !slices.Equal(tx, []string{"TransactWriteItems:transaction_canceled", "TransactWriteItems:ok"}) {
			t.Errorf("%s' observer saw requests %v, want both commits", name, s.requests)
		}
	}

	// TxOptions.Observer replaces them.
	var own requestLog
	sa.requests, sb.requests = nil, nil
	err = repo.Transact(ctx, e.client, func(tx *repo.Tx) error {
		a, err := accounts.TxGet(tx, repo.Key("a"))
		if err != nil {
			return err
		}
		a.Balance++
		return accounts.TxSave(tx, &a)
	}, func(o *repo.TxOptions) { o.Observer.Request = own.add })
	if err != nil {
		t.Fatal(err)
	}
	if got := ops(own.take()); !slices.Equal(got, []string{"TransactWriteItems:ok"}) {
		t.Fatalf("TxOptions.Observer saw %v", got)
	}
	if slices.Contains(sa.requests, "TransactWriteItems:ok") {
		t.Fatalf("accounts' observer saw the commit although TxOptions.Observer was set: %v", sa.requests)
	}
}

// TestObserverCombined: Updates of one key waiting together are written
// as one, and Observer.Combined hears of each such write: how many Updates
// it carried and how many of their changes it stored (here all of them).
func TestObserverCombined(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var mu sync.Mutex
	var evs []repo.CombinedEvent
	accounts := newRepo[Account](t, e, func(o *repo.Options) {
		o.Observer.Combined = func(c repo.CombinedEvent) { mu.Lock(); evs = append(evs, c); mu.Unlock() }
	})
	mustCreate(t, accounts, Account{ID: "hot"})
	const g, n = 16, 20
	var wg sync.WaitGroup
	for range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if _, err := accounts.Update(context.Background(), repo.Key("hot"), func(a *Account) error { a.Balance++; return nil }); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	combined := 0
	for _, ev := range evs {
		if ev.Calls < 2 || ev.Written != ev.Calls || ev.Err != nil || ev.Table != e.table {
			t.Fatalf("event %+v: want 2 or more calls, all written, on %s", ev, e.table)
		}
		combined += ev.Calls
	}
	if len(evs) == 0 || combined > g*n {
		t.Fatalf("%d combined writes carrying %d Updates of %d", len(evs), combined, g*n)
	}
	t.Logf("%d combined writes carried %d of %d Updates", len(evs), combined, g*n)
}
