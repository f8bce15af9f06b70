package repo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

// plan is one write, built from the current stored item. It is re-sent
// unchanged (under a new write id) while its base stands.
type plan[T any] struct {
	kind    writeKind
	base    int64            // version conditioned on
	baseIDs map[int64]string // ids of the base item; nil when unknown
	old     versioned.Item   // the stored item the write is based on; nil for a blind write
	item    versioned.Item   // the new item (create, save)
	value   T                // the new item as T
	skip    bool             // fn said NoChange: value is the current item
}

// loop runs one versioned write call under the retry policy. Its steps:
// settle the writes whose answers were lost (settle, resolve), plan a
// write from the stored item (prepare), send it (sendPlan), and classify
// the answer; run settles once more before it gives up.
type loop[T any] struct {
	r    *Repository[T]
	o    Options
	op   string
	key  versioned.Item
	read bool // the plan needs the stored item
	// retryConflicts: a conflict re-reads (from ALL_OLD) and re-plans.
	retryConflicts bool
	build          func(cur versioned.Item) (*plan[T], error)

	cur    versioned.Item // the stored item as last seen; nil when none
	known  bool           // cur is known
	plan   *plan[T]       // the write being sent; nil: build one from cur
	lost   []string       // ids of plan's writes whose answers were lost
	polls  int            // reads that found a lost create or delete not landed yet
	writer string         // the key of the call's writer slot (writers.go)
	result T
	after  versioned.Item // the stored item after success, when known
}

// sdkRetry returns the per-request options of a conditional write.
func (l *loop[T]) sdkRetry() func(*dynamodb.Options) {
	if l.o.noWriteIDs {
		return func(*dynamodb.Options) {}
	}
	return noSDKRetry
}

// noSDKRetry turns the SDK's own retries off for a conditional write: a
// retried write whose first response was lost would fail its own condition.
// The loop retries instead, after finding out what was stored.
func noSDKRetry(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }

// retryObserver passes retry.Do's retries on to Options.Observer.Retry.
func (r *Repository[T]) retryObserver(o Options, op string) func(*retry.Options) {
	return func(ro *retry.Options) {
		if f := o.Observer.Retry; f != nil {
			ro.OnRetry = func(a retry.Attempt) {
				f(RetryEvent{Table: r.table, Op: op, Attempt: a.Number, Err: a.Err, Delay: a.Delay})
			}
		}
	}
}

func (l *loop[T]) run(ctx context.Context) (T, error) {
	slot, key := l.r.writers.take()
	defer l.r.writers.give(slot)
	l.writer = key
	err := retry.Do(ctx, l.o.Retry, l.attempt, l.r.retryObserver(l.o, l.op))
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
	return err
}

// resendNow reports whether a write whose answer was just lost is sent
// again at once, without the policy's backoff: the first loss of a plan
// that can be re-sent. The sooner the second sending is answered, the
// fewer writes by others can have pushed the first one's id out of the
// item's map, and the more often the answer tells what became of it.
func (l *loop[T]) resendNow(ctx context.Context) bool {
	return l.plan != nil && len(l.lost) == 1 && l.canResend() && ctx.Err() == nil
}

// canResend reports whether the plan may be sent again while earlier
// writes of it may still land: only a write conditioned on its base
// version, so that at most one of them can land. A create (conditioned on
// absence) could land again after a delete, a delete on an item created
// anew.
func (l *loop[T]) canResend() bool {
	return l.plan.kind == kindSave && !l.o.forgetLostWrites
}

// sent describes the plan's writes whose answers were lost.
func (l *loop[T]) sent() sentWrites {
	return sentWrites{kind: l.plan.kind, base: l.plan.base, baseIDs: l.plan.baseIDs, ids: l.lost, writer: l.writer}
}

// succeed ends the call with value; after is the stored item, if known.
func (l *loop[T]) succeed(value T, after versioned.Item) {
	l.result, l.after = value, after
	l.plan, l.lost = nil, nil
}

// resolve reads the item to settle the lost writes.
func (l *loop[T]) resolve(ctx context.Context) (done bool, err error) {
	cur, err := l.r.getRaw(ctx, l.key, true)
	if err != nil {
		return false, err
	}
	l.cur, l.known = cur, true
	return l.settle(cur)
}

// settle decides from the stored item cur what became of the lost writes
// (sentFate): one was stored (done), none ever will be (plan again from
// cur), one may still land (send the plan again, if it can be), or the
// item cannot tell (ErrOutcomeUnknown).
func (l *loop[T]) settle(cur versioned.Item) (done bool, err error) {
	f := sentFate(l.sent(), cur, l.r.schema, l.o.WriteIDAttribute)
	if f == notYet && l.o.forgetLostWrites && l.plan.kind == kindSave {
		f = dead // the unsafe rule the tests compare against
	}
	switch f {
	case applied:
		l.succeed(l.plan.value, cur)
		return true, nil
	case dead:
		l.plan, l.lost = nil, nil
		return false, nil
	case notYet:
		if l.canResend() {
			return false, nil
		}
		if l.polls < maxPolls {
			// A create or delete is not sent again; a late one usually
			// lands within milliseconds: look again after the backoff.
			l.polls++
			l.known = false
			return false, errNotLanded
		}
	}
	return false, retry.MarkPermanent(l.unknown(f, nil))
}

// maxPolls bounds the reads after the first that wait for a lost create or
// delete to land before the call says ErrOutcomeUnknown.
const maxPolls = 8

// errNotLanded: a lost write that is not sent again has not landed yet;
// the loop reads again after the policy's backoff.
var errNotLanded error = notLandedError{}

type notLandedError struct{}

func (notLandedError) Error() string           { return "repo: a write whose answer was lost has not landed yet" }
func (notLandedError) RetryClass() retry.Class { return retry.Transient }

// unknown is the call's ErrOutcomeUnknown for lost writes of fate f.
func (l *loop[T]) unknown(f fate, cause error) error {
	why := "the stored item no longer tells whether it took effect (version moved on, or deleted)"
	if f == notYet {
		why = "it is not stored, but may still land"
	}
	msg := fmt.Sprintf("%s %s %s: a write's answer was lost and %s", l.op, l.r.table, FormatKey(l.key), why)
	if cause != nil {
		return fmt.Errorf("%w: %s: %w", ErrOutcomeUnknown, msg, cause)
	}
	return fmt.Errorf("%w: %s", ErrOutcomeUnknown, msg)
}

// finish settles the lost writes once more when the loop ends with err
// (the policy spent, ctx done, a refusal): with one of them stored the
// call succeeded; with none able to land err is the answer; otherwise the
// outcome is unknown.
func (l *loop[T]) finish(ctx context.Context, err error) error {
	if errors.Is(err, ErrOutcomeUnknown) {
		return err
	}
	f := unknown
	if ctx.Err() == nil {
		if cur, rerr := l.r.getRaw(ctx, l.key, true); rerr == nil {
			f = sentFate(l.sent(), cur, l.r.schema, l.o.WriteIDAttribute)
			switch f {
			case applied:
				l.succeed(l.plan.value, cur)
				return nil
			case dead:
				return err
			}
		}
	}
	return l.unknown(f, err)
}

// prepare plans the next write from the stored item, reading it first if
// the plan needs it and it is not known.
func (l *loop[T]) prepare(ctx context.Context) (done bool, err error) {
	if !l.known && l.read {
		cur, err := l.r.getRaw(ctx, l.key, !l.o.EventuallyConsistent)
		if err != nil {
			return false, err
		}
		l.cur, l.known = cur, true
	}
	if l.read && l.cur == nil {
		return false, retry.MarkPermanent(l.r.notFound(l.key))
	}
	p, err := l.build(l.cur)
	if err != nil {
		return false, retry.MarkPermanent(err)
	}
	if p.skip {
		l.succeed(p.value, l.cur)
		return true, nil
	}
	l.plan = p
	return false, nil
}

// sendPlan sends the plan under a new write id and classifies the answer.
func (l *loop[T]) sendPlan(ctx context.Context, n int) error {
	p := l.plan
	id := newWriteID()
	if l.o.noWriteIDs {
		id = ""
	}
	old, err := l.send(ctx, p, id)
	if err == nil {
		l.succeed(p.value, l.stored(p, id))
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return l.refused(old, n)
	}
	err = l.r.apiErr(err)
	switch {
	case l.o.noWriteIDs:
		l.plan, l.known = nil, false // a naive loop: read again and re-apply
	case ambiguous(ctx, err):
		l.lost = append(l.lost, id)
		if !l.canResend() {
			l.known = false // settle by reading first
		}
	}
	return err
}

// refused handles a failed condition: this write is not stored, and the
// item it returned (ALL_OLD) settles the earlier lost writes; if none of
// them is stored either, it is a conflict.
func (l *loop[T]) refused(old versioned.Item, n int) error {
	l.cur, l.known = nil, true
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
	if l.cur == nil {
		if p.kind == kindCreate {
			// Cannot happen: a create fails only on an existing item.
			return fmt.Errorf("repo: %s %s: create condition failed on a missing item", l.r.table, FormatKey(l.key))
		}
		return retry.MarkPermanent(l.r.notFound(l.key))
	}
	actual, err := l.r.schema.StoredVersion(l.cur)
	if err != nil {
		return retry.MarkPermanent(err)
	}
	if f := l.o.Observer.Conflict; f != nil {
		f(ConflictEvent{Table: l.r.table, Op: l.op, Key: l.key, Attempt: n, Expected: p.base, Actual: actual})
	}
	ce := &ConflictError[T]{Table: l.r.table, Key: l.key, Expected: p.base, Actual: actual}
	if err := l.r.schema.Unmarshal(l.cur, &ce.Current); err != nil {
		return retry.MarkPermanent(err)
	}
	if l.retryConflicts && p.kind != kindCreate {
		return ce
	}
	return retry.MarkPermanent(ce)
}
