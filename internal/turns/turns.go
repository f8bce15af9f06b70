// Package turns gives goroutines of one process turns on keys: one turn per
// key at a time, and each turn may hand a value (the item it stored, say) to
// the next, which then need not read it again. A Set may also keep what the
// last turn of a key handed on after the key goes idle, for a later turn.
// repo queues Updates of one item with it, and lease queues the goroutines
// waiting for one name.
package turns

import (
	"container/list"
	"context"
	"sync"
)

// Set holds the turns of any number of keys. The zero value is ready to
// use. A Set is safe for concurrent use and must not be copied after first
// use.
type Set[V any] struct {
	// Keep is how many idle keys (no turn running or waiting) keep what
	// their last turn handed on, for the next turn on the key to Take;
	// beyond it the key idle longest loses its value. 0 keeps none. Set it
	// before first use.
	Keep int

	mu   sync.Mutex
	m    map[string]*line[V]      // keys with a turn running or waited for
	kept map[string]*list.Element // idle keys' values, in idle
	idle list.List                // of kept[V], the most recently idle first
}

type line[V any] struct {
	turn   chan struct{} // holds a token while a turn runs
	n      int           // turns running or waiting; guarded by Set.mu
	handed V             // what the last turn handed on; guarded by Set.mu
	// wasKept: handed was kept while the key was idle, not handed on by a
	// turn that ended while the next one waited; guarded by Set.mu.
	wasKept bool
}

// kept is what an idle key's last turn handed on.
type kept[V any] struct {
	key string
	v   V
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
		if e := s.kept[key]; e != nil {
			l.handed, l.wasKept = e.Value.(kept[V]).v, true
			s.forget(e)
		}
		s.m[key] = l
	}
	l.n++
	return l
}

// keep keeps v for the idle key, dropping the value of the key idle
// longest beyond s.Keep. Called with s.mu held.
func (s *Set[V]) keep(key string, v V) {
	if s.kept == nil {
		s.kept = map[string]*list.Element{}
	}
	s.kept[key] = s.idle.PushFront(kept[V]{key, v})
	for s.idle.Len() > s.Keep {
		s.forget(s.idle.Back())
	}
}

// forget drops a kept value. Called with s.mu held.
func (s *Set[V]) forget(e *list.Element) {
	delete(s.kept, e.Value.(kept[V]).key)
	s.idle.Remove(e)
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
// if nothing), or what the Set kept of it while the key was idle, and
// forgets it. It reports whether the value was kept.
func (t *Turn[V]) Take() (v V, wasKept bool) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	v, wasKept = t.l.handed, t.l.wasKept
	var zero V
	t.l.handed, t.l.wasKept = zero, false
	return v, wasKept
}

// Waiting reports whether another turn waits on the key.
func (t *Turn[V]) Waiting() bool {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	return t.l.n > 1
}

// End ends the turn, handing v to the next turn on the key if one is
// waiting; otherwise the Set keeps v (see Set.Keep) or drops it. Call it,
// or EndWith, once.
func (t *Turn[V]) End(v V) { t.EndWith(func() V { return v }) }

// EndWith is End with v = f(), which it calls only if a turn is waiting to
// take it, or the Set keeps it (with the Set's lock held: f must be quick
// and must not use the Set). A nil f hands on nothing.
func (t *Turn[V]) EndWith(f func() V) {
	s := t.s
	s.mu.Lock()
	var v V
	if t.l.n--; t.l.n == 0 {
		delete(s.m, t.key)
		if s.Keep > 0 && f != nil {
			s.keep(t.key, f())
		}
	} else if f != nil {
		v = f()
	}
	t.l.handed, t.l.wasKept = v, false
	s.mu.Unlock()
	<-t.l.turn
}
