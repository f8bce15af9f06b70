package repo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

// loop runs one versioned write call (Create, Save, Update, Delete) under
// the retry policy. Each attempt is a few named steps: settle the writes
// whose answers were lost (resolve, in lost.go), plan a write from the
// stored item (prepare), send it (sendPlan), and classify the answer
// (refused, conflict, lostAnswer).
type loop[T any] struct {
	r    *Repository[T]
	o    Options
	op   string
	key  versioned.Item
	read bool // the plan needs the stored item
	// create: a missing item is created, not ErrNotFound (Upsert).
	create bool
	// retryConflicts: a conflict re-reads (from ALL_OLD) and re-plans.
	retryConflicts bool
	// rivals: this call is its process's only write in flight on the key
	// (the local queue), so a conflict is answered at once from ALL_OLD,
	// up to maxRivalRounds times, instead of after the policy's backoff
	// (rivals.go).
	rivals bool
	rounds int // conflicts answered at once so far
	// conflictAt is when a write of the call last met a conflict; rtt the
	// round trip of its last write (rivals.go).
	conflictAt time.Time
	rtt        time.Duration
	// build plans a write from the stored item cur; stale: cur was handed
	// on or kept (kept.go), not read or returned during this call.
	build func(cur versioned.Item, stale bool) (*plan[T], error)

	cur    versioned.Item // the stored item as last seen; nil when none
	known  bool           // cur is known
	stale  bool           // cur came from a hand-off, not from this call's requests
	plan   *plan[T]       // the write being sent; nil: build one from cur
	lost   []string       // ids of plan's writes whose answers were lost
	polls  int            // reads that found a lost create or delete not landed yet
	writer string         // the key of the call's writer slot (writers.go)
	result T
	after  func() versioned.Item // after success: the stored item, computed on demand; nil when unknown
}

func (l *loop[T]) run(ctx context.Context) (T, error) {
	slot, key := l.r.writers.take()
	defer l.r.writers.give(slot)
	l.writer = key
	err := retry.Do(ctx, l.o.Retry, l.attempt, l.o.Observer.retries(l.r.table, l.op))
	if err != nil && len(l.lost) > 0 {
		err = l.finish(ctx, err)
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return l.result, nil
}

func (l *loop[T]) attempt(ctx context.Context, n int) error {
	if len(l.lost) > 0 && !l.canResend() {
		if done, err := l.resolve(ctx); done || err != nil {
			return err
		}
	}
	if l.plan == nil {
		if done, err := l.prepare(ctx); done || err != nil {
			return err
		}
	}
	err := l.sendPlan(ctx, n)
	if err != nil && l.resendNow(ctx) {
		err = l.sendPlan(ctx, n)
	}
	if l.againNow(ctx, err) {
		l.rounds++
		return rivalConflict{err}
	}
	return err
}

// succeed ends the call with value; after gives the stored item, if known
// (it is only computed when a local Update waits to take it).
func (l *loop[T]) succeed(value T, after func() versioned.Item) {
	l.result, l.after = value, after
	l.plan, l.lost = nil, nil
}

// prepare plans the next write from the stored item, reading it first if
// the plan needs it and it is not known. A plan from a stale item that
// writes nothing (fn failed or said NoChange) is not trusted: the item is
// read and the plan made again (kept.go).
func (l *loop[T]) prepare(ctx context.Context) (done bool, err error) {
	if !l.known && l.read {
		cur, err := l.r.getRaw(ctx, l.key, !l.o.EventuallyConsistent)
		if err != nil {
			return false, err
		}
		l.cur, l.known, l.stale = cur, true, false
	}
	if l.read && l.cur == nil && !l.create {
		return false, retry.MarkPermanent(l.r.notFound(l.key))
	}
	stale := l.stale && !l.o.rules.trustStale()
	p, err := l.build(l.cur, stale)
	if stale && (err != nil || p.skip) {
		l.known, l.stale = false, false
		return l.prepare(ctx)
	}
	if err != nil {
		return false, retry.MarkPermanent(err)
	}
	if p.skip {
		l.succeed(p.value, itemIs(l.cur))
		return true, nil
	}
	l.plan = p
	return false, nil
}

// sendPlan sends the plan under a new write id and classifies the answer.
func (l *loop[T]) sendPlan(ctx context.Context, n int) error {
	w := l.plan.sending(l.o.rules.writeID(), l.writer)
	start := time.Now()
	err := l.send(ctx, w)
	l.rtt = time.Since(start)
	if err == nil {
		l.succeed(l.plan.value, w.after)
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return l.refused(ccf.Item, n)
	}
	err = l.r.apiErr(err)
	l.lostAnswer(ctx, w.id, err)
	return err
}

// send sends w alone, or with the call's guards in one transaction.
func (l *loop[T]) send(ctx context.Context, w write) error {
	b, err := w.build()
	if err != nil {
		return err
	}
	if len(l.o.Guards) > 0 {
		return b.sendGuarded(ctx, l.r.client, l.o.Guards, l.o.rules.requestOptions)
	}
	_, err = b.sendOne(ctx, l.r.client, l.o.rules.requestOptions)
	return err
}

// refused handles a failed condition: this write is not stored, and the
// item it returned (ALL_OLD) settles the earlier lost writes; if none of
// them is stored either, it is a conflict.
func (l *loop[T]) refused(old versioned.Item, n int) error {
	l.cur, l.known, l.stale = nil, true, false
	if len(old) > 0 {
		l.cur = old
	}
	p := l.plan
	if len(l.lost) > 0 {
		done, err := l.settle(l.cur)
		if done || err != nil {
			return err
		}
		if len(l.lost) > 0 {
			// Refused, yet an earlier write of the same plan may still
			// land: the item moved in a way the ids cannot explain.
			return retry.MarkPermanent(l.unknown(unknown, nil))
		}
	}
	l.plan = nil
	return l.conflict(p, n)
}

// conflict turns a failed condition into the call's error; a retryable
// one when the loop re-plans on conflicts.
func (l *loop[T]) conflict(p *plan[T], n int) error {
	if l.cur == nil && !l.create {
		if p.kind == kindCreate {
			// Cannot happen: a create fails only on an existing item.
			return fmt.Errorf("repo: %s %s: create condition failed on a missing item", l.r.table, FormatKey(l.key))
		}
		return retry.MarkPermanent(l.r.notFound(l.key))
	}
	if p.kind != kindCreate {
		// An Upsert's create refused says the item exists, not that
		// another process writes it.
		l.conflictAt = time.Now()
	}
	actual, err := l.r.schema.StoredVersion(l.cur)
	if err != nil {
		return retry.MarkPermanent(err)
	}
	if f := l.o.Observer.Conflict; f != nil {
		f(ConflictEvent{Table: l.r.table, Op: l.op, Key: l.key, Attempt: n, Expected: p.base, Actual: actual})
	}
	ce := &ConflictError[T]{Table: l.r.table, Key: l.key, Expected: p.base, Actual: actual,
		versionless: p.kind != kindCreate || l.create}
	if l.cur != nil { // nil: an Upsert's item is gone; it creates it anew
		if err := l.r.schema.Unmarshal(l.cur, &ce.Current); err != nil {
			return retry.MarkPermanent(err)
		}
	}
	if l.retryConflicts && (p.kind != kindCreate || l.create) {
		return ce
	}
	return retry.MarkPermanent(ce)
}

// itemIs returns item, for [loop.succeed].
func itemIs(item versioned.Item) func() versioned.Item {
	return func() versioned.Item { return item }
}
