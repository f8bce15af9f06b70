package repo_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/versioned"
)

// hotBatch runs n Updates of one item through r: the first one's fn blocks
// until the others have queued behind it, so that they run as one batch
// (with combining on). fns[i] is the i-th queued Update's fn (nil: add 1);
// ctxs[i], if set, its context. It returns each call's result.
func hotBatch(t *testing.T, r *repo.Repository[Account], n int, fns map[int]func(*Account) error, ctxs map[int]context.Context) ([]Account, []error) {
	t.Helper()
	inc := func(a *Account) error { a.Balance++; return nil }
	release := make(chan struct{})
	first := make(chan struct{})
	got, errs := make([]Account, n+1), make([]error, n+1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		got[0], errs[0] = r.Update(context.Background(), repo.Key("hot"), func(a *Account) error {
			close(first)
			<-release
			return inc(a)
		})
	}()
	<-first
	for i := 1; i <= n; i++ {
		fn, ctx := fns[i], ctxs[i]
		if fn == nil {
			fn = inc
		}
		if ctx == nil {
			ctx = context.Background()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = r.Update(ctx, repo.Key("hot"), fn)
		}()
	}
	time.Sleep(200 * time.Millisecond) // let them queue behind the first
	close(release)
	wg.Wait()
	return got, errs
}

// Queued Updates of one item are combined into one write; each caller gets
// the state right after its own fn, with its own version.
func TestCombining(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		off     bool
		maxReqs int64
	}{{"combined", false, 3}, {"combining off", true, 17}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := newRepo[Account](t, e, func(o *repo.Options) { o.DisableCombining = c.off })
			mustCreate(t, r, Account{ID: "hot"})
			e.counter.Reset()
			got, errs := hotBatch(t, r, 15, nil, nil)
			versions := map[int64]bool{}
			for i, a := range got {
				if errs[i] != nil {
					t.Fatalf("Update %d: %v", i, errs[i])
				}
				if a.Balance != a.Version-1 || versions[a.Version] {
					t.Errorf("Update %d returned balance %d at version %d: want the state right after its own fn, a version of its own", i, a.Balance, a.Version)
				}
				versions[a.Version] = true
			}
			final, err := r.Get(context.Background(), repo.Key("hot"))
			if err != nil || final.Balance != 16 || final.Version != 17 {
				t.Fatalf("stored %+v, %v; want balance 16 at version 17", final, err)
			}
			// The first Update reads and writes; the 15 behind it write once
			// together (combined) or once each.
			if n := e.counter.Count() - 1; n > c.maxReqs {
				t.Errorf("%d requests for 16 Updates, want at most %d", n, c.maxReqs)
			}
			t.Logf("16 Updates in %d requests (the Get aside)", e.counter.Count()-1)
		})
	}
}

// In a batch, an fn that fails, says NoChange, makes the item too large, or
// whose caller's ctx ended drops out alone; the others are stored.
func TestCombiningDropOuts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newRepo[Account](t, e)
	mustCreate(t, r, Account{ID: "hot"})
	boom := errors.New("boom")
	cancelled, cancel := context.WithCancel(context.Background())
	fns := map[int]func(*Account) error{
		2: func(a *Account) error { a.Balance += 100; return boom },
		4: func(a *Account) error { a.Balance += 100; return repo.NoChange },
		6: func(a *Account) error { a.Note = strings.Repeat("x", versioned.MaxItemSize); return nil },
		8: func(a *Account) error { return nil }, // its ctx ends before its turn
	}
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	got, errs := hotBatch(t, r, 9, fns, map[int]context.Context{8: cancelled})
	for i := range got {
		var want error
		switch i {
		case 2:
			want = boom
		case 6:
			want = versioned.ErrItemTooLarge
		case 8:
			want = context.Canceled
		}
		if (want == nil) != (errs[i] == nil) || want != nil && !errors.Is(errs[i], want) {
			t.Errorf("Update %d: %v, want %v", i, errs[i], want)
		}
	}
	// The NoChange caller sees the state the fns before it left: one that
	// another caller got too (its goroutines start in any order).
	seen := false
	for i, a := range got {
		seen = seen || i != 4 && errs[i] == nil && a == got[4]
	}
	if !seen || got[4].Balance >= 100 {
		t.Errorf("NoChange Update got %+v: want the state the fns before it left, one of %+v", got[4], got)
	}
	final, err := r.Get(context.Background(), repo.Key("hot"))
	if err != nil || final.Balance != 6 || final.Version != 7 {
		t.Fatalf("stored %+v, %v; want the 6 increments that did not drop out: balance 6 at version 7", final, err)
	}
}

// A batch whose write conflicts re-applies every fn to the item the failed
// write returned.
func TestCombiningConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var conflicts atomic.Int64
	r := newRepo[Account](t, e, func(o *repo.Options) { o.Observer.Conflict = func(repo.ConflictEvent) { conflicts.Add(1) } })
	other := mustNew[Account](t, e.client, e.table)
	mustCreate(t, r, Account{ID: "hot"})
	var once sync.Once
	fns := map[int]func(*Account) error{
		1: func(a *Account) error {
			once.Do(func() { // another process writes under the batch
				if _, err := other.Update(context.Background(), repo.Key("hot"), func(a *Account) error { a.Balance += 1000; return nil }); err != nil {
					t.Error(err)
				}
			})
			a.Balance++
			return nil
		},
	}
	_, errs := hotBatch(t, r, 5, fns, nil)
	for i, err := range errs {
		if err != nil {
			t.Errorf("Update %d: %v", i, err)
		}
	}
	final, err := r.Get(context.Background(), repo.Key("hot"))
	if err != nil || final.Balance != 1006 || final.Version != 8 {
		t.Fatalf("stored %+v, %v; want balance 1006 at version 8", final, err)
	}
	if conflicts.Load() == 0 {
		t.Error("the batch's write never conflicted: the test does not exercise a conflict")
	}
}

// An fn that panics in a batch panics in its own caller's goroutine; the
// others are stored.
func TestCombiningPanic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newRepo[Account](t, e)
	mustCreate(t, r, Account{ID: "hot"})
	var recovered atomic.Value
	fns := map[int]func(*Account) error{
		3: func(a *Account) error {
			panic("boom")
		},
	}
	release := make(chan struct{})
	first := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := r.Update(context.Background(), repo.Key("hot"), func(a *Account) error { close(first); <-release; a.Balance++; return nil }); err != nil {
			t.Error(err)
		}
	}()
	<-first
	for i := 1; i <= 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					recovered.Store(p)
				}
			}()
			fn := fns[i]
			if fn == nil {
				fn = func(a *Account) error { a.Balance++; return nil }
			}
			if _, err := r.Update(context.Background(), repo.Key("hot"), fn); err != nil {
				t.Errorf("Update %d: %v", i, err)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	close(release)
	wg.Wait()
	if recovered.Load() != "boom" {
		t.Errorf("the panicking fn's caller recovered %v, want boom", recovered.Load())
	}
	final, err := r.Get(context.Background(), repo.Key("hot"))
	if err != nil || final.Balance != 5 {
		t.Fatalf("stored %+v, %v; want the 5 increments", final, err)
	}
}
