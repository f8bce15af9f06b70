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
				if v := tr.Take(); v != 0 && v != last {
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
		got <- b.Take()
		b.End("dropped")
	}()
	for {
		s.mu.Lock()
		n := s.m["k"].n
		s.mu.Unlock()
		if n == 2 {
			break
		}
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
	if c, ok := s.Try("k"); !ok || c.Take() != "" {
		t.Fatal("fresh turn got a stale value")
	}
}
