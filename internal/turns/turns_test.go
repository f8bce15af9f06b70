package turns

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestOneAtATimeAndHandOn(t *testing.T) {
	var s Set[int]
	var mu sync.Mutex
	inside, last := 0, 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				tr, err := s.Wait(context.Background(), "k")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				inside++
				if inside != 1 {
					t.Error("two turns at once")
				}
				// A handed value is the one the previous turn stored.
				if v, _ := tr.Take(); v != 0 && v != last {
					t.Errorf("handed %d, last stored %d", v, last)
				}
				last++
				v := last
				inside--
				mu.Unlock()
				tr.End(v)
			}
		}()
	}
	wg.Wait()
	if len(s.m) != 0 {
		t.Fatalf("%d keys left", len(s.m))
	}
}

func TestTryAndCancel(t *testing.T) {
	var s Set[string]
	a, ok := s.Try("k")
	if !ok {
		t.Fatal("Try of a free key failed")
	}
	if _, ok := s.Try("k"); ok {
		t.Fatal("Try of a taken key succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := s.Wait(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait: %v", err)
	}
	got := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b, err := s.Wait(context.Background(), "k")
		if err != nil {
			t.Error(err)
			return
		}
		v, _ := b.Take()
		got <- v
		b.End("dropped")
	}()
	for s.waiting("k") < 2 {
		time.Sleep(time.Millisecond)
	}
	a.End("x")
	<-done
	if v := <-got; v != "x" {
		t.Fatalf("handed %q", v)
	}
	if len(s.m) != 0 {
		t.Fatalf("%d keys left: a value with no one to take it is dropped with the key", len(s.m))
	}
	if c, ok := s.Try("k"); !ok || must(c.Take()) != "" {
		t.Fatal("fresh turn got a stale value")
	}
}

func TestKeep(t *testing.T) {
	s := Set[int]{Keep: 2}
	end := func(key string, v int) {
		t.Helper()
		tr, err := s.Wait(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		tr.End(v)
	}
	take := func(key string) (int, bool) {
		t.Helper()
		tr, err := s.Wait(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.EndWith(nil)
		return tr.Take()
	}
	end("a", 1)
	end("b", 2)
	end("a", 3) // a's newer value replaces its older one
	end("c", 4) // b, idle longest, is dropped
	if v, k := take("b"); v != 0 || k {
		t.Errorf("b: %d kept %v, want dropped", v, k)
	}
	if v, k := take("a"); v != 3 || !k {
		t.Errorf("a: %d kept %v, want 3 kept", v, k)
	}
	// Taking forgets: a's turn ended with nil handed on nothing new.
	if v, k := take("a"); v != 0 || k {
		t.Errorf("a again: %d kept %v, want nothing", v, k)
	}
	if len(s.kept) != s.idle.Len() || s.idle.Len() > s.Keep {
		t.Fatalf("%d kept, %d idle, Keep %d", len(s.kept), s.idle.Len(), s.Keep)
	}

	// A value handed on while the next turn waits is not kept.
	first, err := s.Wait(context.Background(), "d")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan [2]any)
	go func() {
		tr, err := s.Wait(context.Background(), "d")
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		v, k := tr.Take()
		tr.EndWith(nil)
		got <- [2]any{v, k}
	}()
	for s.waiting("d") < 2 {
		time.Sleep(time.Millisecond)
	}
	if !first.Waiting() {
		t.Error("Waiting is false with a turn waiting")
	}
	first.End(5)
	if g := <-got; g[0] != 5 || g[1] != false {
		t.Errorf("handed on while waiting: %v, want 5 not kept", g)
	}
}

// waiting is how many turns run or wait on key.
func (s *Set[V]) waiting(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.m[key]; l != nil {
		return l.n
	}
	return 0
}

func must[V any](v V, _ bool) V { return v }
