package lease_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// AcquireAll takes every name or none: a caller that cannot have them all
// holds none of them.
func TestAcquireAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, table := setup(t)
	b := newManager(t, table)
	ls, err := a.AcquireAll(ctx, []string{"b", "a", "c"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"b", "a", "c"} {
		if ls[i].Name() != want || ls[i].Token() != 1 {
			t.Errorf("lease %d: %s token %d, want %s token 1", i, ls[i].Name(), ls[i].Token(), want)
		}
		if st, err := b.Inspect(ctx, want); err != nil || !st.Held || st.Owner != a.Owner() {
			t.Errorf("%s: %+v %v", want, st, err)
		}
	}
	if _, err := b.TryAcquire(ctx, "a"); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("TryAcquire of a name taken by AcquireAll: %v", err)
	}
	// c is held: b's AcquireAll of c and d takes neither.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := b.AcquireAll(short, []string{"c", "d"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AcquireAll of a held and a free name: %v", err)
	}
	if st, err := a.Inspect(ctx, "d"); err != nil || st.Held {
		t.Fatalf("d taken although c was held: %+v %v", st, err)
	}
	for _, l := range ls {
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.AcquireAll(ctx, []string{"c", "d"})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Token() <= ls[2].Token() || got[1].Token() != 1 {
		t.Fatalf("tokens %d, %d after c's %d", got[0].Token(), got[1].Token(), ls[2].Token())
	}
	for _, l := range got {
		l.Release(ctx)
	}
}

// Overlapping AcquireAlls in a cycle (a+b, b+c, c+a), from two Managers and
// several goroutines, neither deadlock nor overlap, and every write guarded
// by the leases lands once.
func TestAcquireAllCycleFenced(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m1, table := setup(t, fastPolls)
	m2 := newManager(t, table, fastPolls)
	type counter struct {
		ID      string `dynamo:"id,hash"`
		N       int    `dynamo:"n"`
		Version int64  `dynamo:"version"`
	}
	counters, err := repo.New[counter](ddblocal.Client(t), ddblocal.TableName(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := counters.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := counters.Create(ctx, counter{ID: "c"}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	holder := map[string]string{}
	pairs := [][]string{{"a", "b"}, {"b", "c"}, {"c", "a"}}
	const rounds = 8
	var wg sync.WaitGroup
	for g := range 6 {
		m := []*lease.Manager{m1, m2}[g%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			me := fmt.Sprint("g", g)
			for range rounds {
				names := pairs[g%3]
				ls, err := m.AcquireAll(ctx, names)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, n := range names {
					if h := holder[n]; h != "" {
						t.Errorf("%s holds %s while %s does", me, n, h)
					}
					holder[n] = me
				}
				mu.Unlock()
				_, err = counters.Update(ctx, repo.Key("c"), func(c *counter) error { c.N++; return nil },
					repo.Guard(ls[0].Condition()), repo.Guard(ls[1].Condition()))
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				for _, n := range names {
					holder[n] = ""
				}
				mu.Unlock()
				for _, l := range ls {
					if err := l.Release(ctx); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	got, err := counters.Get(ctx, repo.Key("c"))
	if err != nil || got.N != 6*rounds {
		t.Fatalf("counter %d (%v), want %d", got.N, err, 6*rounds)
	}
}

func fastPolls(o *lease.Options) {
	o.PollInterval, o.MaxPollInterval = 5*time.Millisecond, 20*time.Millisecond
}

// Names AcquireAll cannot take together are refused before any request.
func TestAcquireAllBadNames(t *testing.T) {
	t.Parallel()
	c := &ddblocal.RequestCounter{}
	m := managerOn(t, ddblocal.Client(t, c.Option()), ddblocal.TableName(t))
	many := make([]string, lease.MaxAcquireAll+1)
	for i := range many {
		many[i] = fmt.Sprint("n", i)
	}
	for name, names := range map[string][]string{
		"none":       nil,
		"empty name": {"a", ""},
		"twice":      {"a", "b", "a"},
		"over 100":   many,
	} {
		if _, err := m.AcquireAll(context.Background(), names); !errors.Is(err, lease.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
	if n := c.Count(); n != 0 {
		t.Fatalf("bad names sent %d requests", n)
	}
}

// Close ends a waiting AcquireAll with ErrClosed, and refuses later ones.
func TestAcquireAllClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, table := setup(t)
	b := newManager(t, table)
	l, err := a.Acquire(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := b.AcquireAll(ctx, []string{"x", "y"})
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) // b polls the held x
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, lease.ErrClosed) {
			t.Fatalf("waiting AcquireAll after Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waiting AcquireAll not ended by Close")
	}
	if _, err := b.AcquireAll(ctx, []string{"y"}); !errors.Is(err, lease.ErrClosed) {
		t.Fatalf("AcquireAll after Close: %v", err)
	}
}
