package repo

import (
	"context"
	"fmt"
	"sync"

	"github.com/ddbocc/ddbocc/versioned"
)

// Local queueing: Updates of one key through one Repository run one at a
// time, and each hands the item it stored to the next in line, which
// applies its function to it without reading. Goroutines of one process
// then never conflict with each other on a hot item, and a queued Update
// costs one request instead of a read, a write and the conflicts. Writers in
// other processes are still handled by the version condition: a handed-on
// item that another process changed fails its write, and the loop goes on
// from the item that write returned.

// queues holds one queue per key that has Updates running or waiting.
type queues struct {
	mu sync.Mutex
	m  map[string]*queue
}

type queue struct {
	turn chan struct{} // holds a token while an Update of the key runs
	n    int           // Updates running or waiting; guarded by queues.mu
	last versioned.Item
}

// enter waits for the key's turn or ctx.
func (qs *queues) enter(ctx context.Context, key string) (*queue, error) {
	qs.mu.Lock()
	if qs.m == nil {
		qs.m = map[string]*queue{}
	}
	q := qs.m[key]
	if q == nil {
		q = &queue{turn: make(chan struct{}, 1)}
		qs.m[key] = q
	}
	q.n++
	qs.mu.Unlock()
	select {
	case q.turn <- struct{}{}:
		return q, nil
	case <-ctx.Done():
		qs.mu.Lock()
		q.n--
		if q.n == 0 {
			delete(qs.m, key)
		}
		qs.mu.Unlock()
		return nil, fmt.Errorf("repo: waiting for a local Update of the same item: %w", ctx.Err())
	}
}

// leave ends the turn, handing last (the stored item, nil if unknown) to
// the next Update in line, if any.
func (qs *queues) leave(key string, q *queue, last versioned.Item) {
	qs.mu.Lock()
	q.n--
	if q.n == 0 {
		delete(qs.m, key)
		last = nil
	}
	q.last = last
	qs.mu.Unlock()
	<-q.turn
}

// take returns and forgets the item handed on by the previous Update.
func (q *queue) take() versioned.Item {
	last := q.last
	q.last = nil
	return last
}

// stored returns the item as a successful versioned write of plan p with
// write id id left it: p's old item with p's attributes applied and the id
// map moved on. Only for a write based on a known stored item.
func (l *loop[T]) stored(p *plan[T], id string) versioned.Item {
	if p.old == nil || p.kind != kindSave {
		return nil
	}
	after := make(versioned.Item, len(p.old)+1)
	for k, v := range p.old {
		after[k] = v
	}
	for _, a := range l.r.schema.Attributes {
		if v, ok := p.item[a]; ok {
			after[a] = v
		} else {
			delete(after, a)
		}
	}
	if id != "" {
		after[l.o.WriteIDAttribute] = idMap(p.baseIDs, p.base+1, id, l.o.WriteIDs)
	}
	return after
}
