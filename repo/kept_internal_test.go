package repo

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

type counted struct {
	ID      string `dynamo:"id,hash"`
	N       int64  `dynamo:"n"`
	Version int64  `dynamo:"version"`
}

// In a batch on a stale item, a caller whose fn fails stays in the batch
// until the write shows the item was current; on an item read in the call
// it drops out at once.
func TestBatchOnStaleItem(t *testing.T) {
	r, err := New[counted](dynamodb.New(dynamodb.Options{Region: "local"}), "accounts")
	if err != nil {
		t.Fatal(err)
	}
	errFull := errors.New("full")
	cur, _, err := r.marshalItem(counted{ID: "a", N: 70, Version: 2}, true)
	if err != nil {
		t.Fatal(err)
	}
	key, err := r.key(Key("a"))
	if err != nil {
		t.Fatal(err)
	}
	add := func(c *counted) error { c.N++; return nil }
	check := func(c *counted) error {
		if c.N >= 60 {
			return errFull
		}
		return add(c)
	}
	// The failing caller second: after an applied change, its decision is
	// tentative whether the item is stale or read.
	for _, stale := range []bool{true, false} {
		var callers []*caller[counted]
		for _, fn := range []func(*counted) error{add, check, add} {
			callers = append(callers, &caller[counted]{ctx: context.Background(), fn: fn, done: make(chan struct{})})
		}
		b := &batchRun[counted]{r: r, key: key, open: slices.Clone(callers)}
		p, err := b.plan(cur, stale)
		if err != nil {
			t.Fatal(err)
		}
		if p.next != 4 {
			t.Errorf("stale=%v: the write stores v%d, want v4 (two fns applied)", stale, p.next)
		}
		if isDone(callers[1]) {
			t.Errorf("stale=%v: the caller that failed on a state carrying another's change dropped out at once", stale)
		}
		b.finish(nil) // the write was stored
		for i, want := range []int64{71, 0, 72} {
			v, err := callers[i].outcome()
			if i == 1 && !errors.Is(err, errFull) || i != 1 && err != nil || v.N != want {
				t.Errorf("stale=%v: caller %d got %d, %v", stale, i, v.N, err)
			}
		}
	}
	// The failing caller first: on a read item its decision stands at
	// once; on a stale one it waits.
	for _, stale := range []bool{true, false} {
		var callers []*caller[counted]
		for _, fn := range []func(*counted) error{check, add} {
			callers = append(callers, &caller[counted]{ctx: context.Background(), fn: fn, done: make(chan struct{})})
		}
		b := &batchRun[counted]{r: r, key: key, open: slices.Clone(callers)}
		if _, err := b.plan(cur, stale); err != nil {
			t.Fatal(err)
		}
		if dropped := isDone(callers[0]); dropped == stale {
			t.Errorf("stale=%v: the caller that failed first dropped out at once: %v", stale, dropped)
		}
		b.finish(nil)
	}
	// The write is refused: the item moved to 10. The held caller's fn runs
	// again on it, and now succeeds: its refusal on 71 never stands.
	moved, _, err := r.marshalItem(counted{ID: "a", N: 10, Version: 3}, true)
	if err != nil {
		t.Fatal(err)
	}
	var callers []*caller[counted]
	for _, fn := range []func(*counted) error{add, check, add} {
		callers = append(callers, &caller[counted]{ctx: context.Background(), fn: fn, done: make(chan struct{})})
	}
	b := &batchRun[counted]{r: r, key: key, open: slices.Clone(callers)}
	if _, err := b.plan(cur, false); err != nil {
		t.Fatal(err)
	}
	p, err := b.plan(moved, false) // the plan after the conflict
	if err != nil {
		t.Fatal(err)
	}
	if p.next != 6 {
		t.Errorf("after the conflict the write stores v%d, want v6 (three fns applied)", p.next)
	}
	b.finish(nil)
	for i, want := range []int64{11, 12, 13} {
		if v, err := callers[i].outcome(); err != nil || v.N != want {
			t.Errorf("after the conflict: caller %d got %d, %v; want %d", i, v.N, err, want)
		}
	}
}

func isDone[T any](c *caller[T]) bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}
