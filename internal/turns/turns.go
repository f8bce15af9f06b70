// Package turns gives goroutines of one process turns on keys: one turn per
// key at a time, and each turn may hand a value (the item it stored, say) to
// the next, which then need not read it again. repo queues Updates of one
// item with it, and lease queues the goroutines waiting for one name.
package turns

import (
	"context"
	"sync"
)

// Set holds the turns of any number of keys. The zero value is ready to
// use. A Set is safe for concurrent use and must not be copied after first
// use.
type Set[V any] struct {
	mu sync.Mutex
	m  map[string]*line[V] // keys with a turn running or waited for
}

type line[V any] struct {
	turn   chan struct{} // holds a token while a turn runs
	n      int           // turns running or waiting; guarded by Set.mu
	handed V             // what the last turn handed on; guarded by Set.mu
}

// Turn is one goroutine's turn on a key, from [Set.Wait] or [Set.Try] to
// [Turn.End].
type Turn[V any] struct {
	s   *Set[V]
	key string
	l   *line[V]
}

func (s *Set[V]) join(key string) *line[V] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*line[V]{}
	}
	l := s.m[key]
	if l == nil {
		l = &line[V]{turn: make(chan struct{}, 1)}
		s.m[key] = l
	}
	l.n++
	return l
}

func (s *Set[V]) quit(key string, l *line[V]) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.n--; l.n == 0 {
		delete(s.m, key)
	}
}

// Wait blocks until it is the caller's turn on key, or ctx is done (then it
// returns ctx's error).
func (s *Set[V]) Wait(ctx context.Context, key string) (*Turn[V], error) {
	l := s.join(key)
	select {
	case l.turn <- struct{}{}:
		return &Turn[V]{s, key, l}, nil
	case <-ctx.Done():
		s.quit(key, l)
		return nil, ctx.Err()
	}
}

// Try takes the turn on key if no one has it; it does not block.
func (s *Set[V]) Try(key string) (*Turn[V], bool) {
	l := s.join(key)
	select {
	case l.turn <- struct{}{}:
		return &Turn[V]{s, key, l}, true
	default:
		s.quit(key, l)
		return nil, false
	}
}

// Take returns what the previous turn on the key handed on (the zero value
// if nothing) and forgets it.
func (t *Turn[V]) Take() V {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	v := t.l.handed
	var zero V
	t.l.handed = zero
	return v
}

// End ends the turn, handing v to the next turn on the key if one is
// waiting (v is dropped otherwise). Call it, or EndWith, once.
func (t *Turn[V]) End(v V) { t.EndWith(func() V { return v }) }

// EndWith is End with v = f(), which it calls only if a turn is waiting to
// take it (with the Set's lock held: f must be quick and must not use the
// Set). A nil f hands on nothing.
func (t *Turn[V]) EndWith(f func() V) {
	s := t.s
	s.mu.Lock()
	var v V
	if t.l.n--; t.l.n == 0 {
		delete(s.m, t.key)
	} else if f != nil {
		v = f()
	}
	t.l.handed = v
	s.mu.Unlock()
	<-t.l.turn
}
