package repo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/ddbocc/ddbocc/versioned"
)

// Write combining. Updates of one key that wait in one process's local
// queue are applied by the Update whose turn it is: their fns run in
// arrival order, each on a fresh copy of the state the ones before it left,
// and one conditional write stores the result, moving the version on by the
// number of fns applied. Each caller gets the state right after its own fn,
// with its own version. An fn that fails, says NoChange, or would make the
// item too large drops out alone (a failure decided on a state that is not
// yet stored only once the write is). A conflict re-applies every fn still in
// the batch to the item the failed write returned; a lost write is settled
// for the whole batch at once (lost.go), so no fn is ever applied twice.

// maxCombined bounds the Updates one write combines.
const maxCombined = 64

// caller is one Update waiting for its turn on a key.
type caller[T any] struct {
	ctx   context.Context
	fn    func(*T) error
	taken bool          // a batch took it: its outcome comes from that batch (guarded by combiner.mu)
	done  chan struct{} // closed once value and err are set
	value T
	err   error
	// panicked is what fn panicked with, if it did: re-raised in the
	// caller's own goroutine (outcome), as an uncombined Update would.
	panicked any
}

// outcome waits for c's outcome and returns it.
func (c *caller[T]) outcome() (T, error) {
	<-c.done
	if c.panicked != nil {
		panic(c.panicked)
	}
	return c.value, c.err
}

// finish sets c's outcome. It is called once, by the batch that took c.
func (c *caller[T]) finish(v T, err error) {
	c.value, c.err = v, err
	close(c.done)
}

// combiner holds the callers waiting on each key, in arrival order.
type combiner[T any] struct {
	mu sync.Mutex
	m  map[string][]*caller[T]
}

func (cb *combiner[T]) add(key string, c *caller[T]) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if cb.m == nil {
		cb.m = map[string][]*caller[T]{}
	}
	cb.m[key] = append(cb.m[key], c)
}

// leave removes c, unless a batch took it; it reports whether it did.
func (cb *combiner[T]) leave(key string, c *caller[T]) bool {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if c.taken {
		return false
	}
	cb.remove(key, func(x *caller[T]) bool { return x == c })
	return true
}

// isTaken reports whether a batch took c.
func (cb *combiner[T]) isTaken(c *caller[T]) bool {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return c.taken
}

// take takes the batch of leader, whose turn it is: leader and the callers
// waiting on key, in arrival order, at most maxCombined.
func (cb *combiner[T]) take(key string, leader *caller[T]) []*caller[T] {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	var batch []*caller[T]
	for _, c := range cb.m[key] {
		if c == leader || len(batch) < maxCombined-1 {
			c.taken = true
			batch = append(batch, c)
		}
	}
	cb.remove(key, func(x *caller[T]) bool { return x.taken })
	return batch
}

// remove drops the callers of key that gone says, and the key once empty.
func (cb *combiner[T]) remove(key string, gone func(*caller[T]) bool) {
	left := cb.m[key][:0]
	for _, x := range cb.m[key] {
		if !gone(x) {
			left = append(left, x)
		}
	}
	if len(left) == 0 {
		delete(cb.m, key)
		return
	}
	cb.m[key] = left
}

// updateCombined is Update with combining: wait for the turn on key; if an
// earlier batch took this call meanwhile, its outcome is there; otherwise
// run the batch of the callers waiting now.
func (r *Repository[T]) updateCombined(ctx context.Context, o Options, key versioned.Item, fn func(*T) error) (T, error) {
	k := FormatKey(key)
	me := &caller[T]{ctx: ctx, fn: fn, done: make(chan struct{})}
	r.combining.add(k, me)
	turn, err := r.queue.Wait(ctx, k)
	if err != nil {
		if r.combining.leave(k, me) {
			var zero T
			return zero, fmt.Errorf("repo: waiting for a local Update of the same item: %w", err)
		}
		return me.outcome() // in a batch already: its outcome
	}
	if r.combining.isTaken(me) {
		h, _ := turn.Take()
		turn.End(h) // done by an earlier batch: pass the stored item on
		return me.outcome()
	}
	h := taken(turn)
	h.wait(ctx)
	batch := r.combining.take(k, me)
	turn.EndWith(r.runBatch(o, key, h, batch))
	return me.outcome()
}

// runBatch writes batch's fns in one write loop and finishes every caller
// of it. h is what the previous turn handed on; it returns what gives the
// next turn its hand-off.
func (r *Repository[T]) runBatch(o Options, key versioned.Item, h handoff, batch []*caller[T]) func() handoff {
	ctx, stop := whileAnyLive(batch)
	defer stop()
	b := &batchRun[T]{r: r, key: key, open: batch}
	l := &loop[T]{r: r, o: o, op: "Update", key: key, read: true, retryConflicts: true, rivals: true, build: b.plan}
	l.base(h)
	_, err := l.run(ctx)
	b.finish(err)
	if f := o.Observer.Combined; f != nil && len(batch) > 1 {
		f(b.event(err, len(batch)))
	}
	return l.handoff(h, err)
}

// event is the CombinedEvent of the batch, which had calls callers, ended
// with the write loop's error err.
func (b *batchRun[T]) event(err error, calls int) CombinedEvent {
	e := CombinedEvent{Table: b.r.table, Key: b.key, Calls: calls, Err: err}
	if err == nil {
		for _, ce := range b.errs {
			if ce == nil {
				e.Written++
			}
		}
	}
	return e
}

// whileAnyLive returns a context that ends once the context of every
// caller of batch has ended: a batch goes on while one of its callers
// still waits for it. It keeps the first caller's values.
func whileAnyLive[T any](batch []*caller[T]) (context.Context, func()) {
	if len(batch) == 1 {
		return batch[0].ctx, func() {}
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(batch[0].ctx))
	var live atomic.Int64
	live.Store(int64(len(batch)))
	stops := make([]func() bool, len(batch))
	for i, c := range batch {
		stops[i] = context.AfterFunc(c.ctx, func() {
			if live.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, s := range stops {
			s()
		}
		cancel()
	}
}

// batchRun is the state of one batch across its write loop's attempts.
type batchRun[T any] struct {
	r    *Repository[T]
	key  versioned.Item
	open []*caller[T] // the callers still in the batch
	// values are the open callers' results under the last plan: the state
	// right after each one's fn.
	values []T
	// errs are the open callers' errors under the last plan: an fn that
	// failed on a stale item, or on a state carrying earlier callers'
	// changes, drops out only once the write is stored (kept.go). nil for
	// the callers in the write.
	errs []error
}

// plan applies the open callers' fns in order to the stored item cur and
// plans one write of the result. Callers whose fn fails drop out: now if
// it saw the item read, or, when it saw a stale item or one carrying
// earlier callers' changes, when the write is stored.
func (b *batchRun[T]) plan(cur versioned.Item, stale bool) (*plan[T], error) {
	n, err := b.r.schema.StoredVersion(cur)
	if err != nil {
		return nil, err
	}
	state, applied := cur, int64(0)
	open, values, errs := b.open[:0], b.values[:0], b.errs[:0]
	for _, c := range b.open {
		t, next, err := b.apply(c, state, n+applied)
		// A decision that writes nothing stands only on a state known to
		// be real: the item read, not a stale one, and not one that
		// carries changes of earlier callers of the batch, which become
		// real only if the write is stored. Otherwise the caller stays
		// until the write shows it (finish), or its fn runs again on the
		// item a refused write returns.
		tentative := stale || applied > 0
		if err != nil && !(tentative && dependsOnItem(err)) {
			var zero T
			c.finish(zero, err)
			continue
		}
		if next != nil {
			state, applied = next, applied+1
		}
		open, values, errs = append(open, c), append(values, t), append(errs, err)
	}
	b.open, b.values, b.errs = open, values, errs
	if applied == 0 {
		return &plan[T]{skip: true}, nil
	}
	p := &plan[T]{write: b.r.newWrite(kindSave, b.key, n, cur, state), value: values[len(values)-1]}
	p.next = n + applied
	return p, nil
}

// apply runs c's fn on a fresh copy of state, stored at version v. It
// returns the new state (nil for NoChange) and c's result, or the error
// that makes c drop out: its ctx ended, its fn failed or changed the key or
// version, or the item would not fit.
func (b *batchRun[T]) apply(c *caller[T], state versioned.Item, v int64) (T, versioned.Item, error) {
	r, s := b.r, b.r.schema
	t, err := r.decode(state)
	if err == nil {
		err = c.ctx.Err()
	}
	if err == nil {
		err = c.run(&t)
	}
	rv := reflect.ValueOf(&t).Elem()
	switch {
	case errors.Is(err, NoChange):
		t, err = r.decode(state) // the state as it is, whatever fn did to its copy
		return t, nil, err
	case err != nil:
		return t, nil, err
	case s.VersionOf(rv) != v:
		return t, nil, invalid("Update fn changed the version of %s %s from %d to %d", r.table, FormatKey(b.key), v, s.VersionOf(rv))
	}
	next, err := s.Next(v)
	if err != nil {
		return t, nil, err
	}
	s.SetVersion(rv, next)
	m, key, err := r.marshalItem(t, true)
	if err == nil && !sameKey(key, b.key) {
		err = invalid("Update fn changed the key of %s %s to %s", r.table, FormatKey(b.key), FormatKey(key))
	}
	return t, m, err
}

// run runs c's fn on t. A panic drops c out: errPanicked here, and the
// panic itself in c's goroutine.
func (c *caller[T]) run(t *T) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c.panicked, err = p, errPanicked
		}
	}()
	return c.fn(t)
}

// errPanicked drops out a caller whose fn panicked; outcome re-raises the
// panic.
var errPanicked = errors.New("repo: Update fn panicked")

// dependsOnItem reports whether a caller's error err came from the item its
// fn was given, not from its ctx or a panic.
func dependsOnItem(err error) bool {
	return !errors.Is(err, errPanicked) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// finish ends the batch: with err nil every open caller gets its value, or
// the error its fn had; otherwise err.
func (b *batchRun[T]) finish(err error) {
	for i, c := range b.open {
		var v T
		if err != nil {
			c.finish(v, err)
			continue
		}
		if b.errs[i] == nil {
			v = b.values[i]
		}
		c.finish(v, b.errs[i])
	}
}
