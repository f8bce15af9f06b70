package repo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

// Writes whose answers were lost. A call remembers the id of every write
// whose answer it did not get (lostAnswer) until it returns. A lost save is
// sent again at once on the same base (resendNow), so at most one of them
// can land; a lost create or delete is never sent again and is looked for
// instead (resolve). What became of them is decided by sentFate
// (writeid.go) from the stored item; finish decides once more before the
// call returns an error.

// lossRules are how a call treats writes whose answers were lost, and
// items it did not read. Calls use keepLostWrites; export_test.go has the
// unsafe rules that the fault, late-write and kept-item tests run to show
// they catch their absence.
type lossRules interface {
	// writeID is the id of the next sending; "" stores none.
	writeID() string
	// requestOptions are the SDK options of a conditional write.
	requestOptions(*dynamodb.Options)
	// remember reports whether a lost write is remembered and settled;
	// if not, the call reads the item again and re-plans.
	remember() bool
	// resend reports whether a lost write of kind k is sent again on the
	// same base while it may still land.
	resend(k writeKind) bool
	// fate is the fate the call acts on when sentFate says f.
	fate(f fate, k writeKind) fate
	// trustStale reports whether a decision that writes nothing may
	// stand on a stale item (kept.go).
	trustStale() bool
}

// keepLostWrites are the rules of every call: no double apply.
type keepLostWrites struct{}

func (keepLostWrites) writeID() string { return newWriteID() }

// requestOptions turns the SDK's own retries off: a retried write whose
// first response was lost would fail its own condition. The loop retries
// instead, after finding out what was stored.
func (keepLostWrites) requestOptions(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }
func (keepLostWrites) remember() bool                     { return true }
func (keepLostWrites) resend(k writeKind) bool            { return k == kindSave }
func (keepLostWrites) fate(f fate, _ writeKind) fate      { return f }
func (keepLostWrites) trustStale() bool                   { return false }

// lostAnswer records a write that failed with err: one that may have been
// stored is remembered.
func (l *loop[T]) lostAnswer(ctx context.Context, id string, err error) {
	switch {
	case !l.o.rules.remember():
		l.plan, l.known = nil, false
	case ambiguous(ctx, err):
		l.lost = append(l.lost, id)
		if !l.canResend() {
			l.known = false // settle by reading first
		}
	}
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
func (l *loop[T]) canResend() bool { return l.o.rules.resend(l.plan.kind) }

// sent describes the plan's writes whose answers were lost.
func (l *loop[T]) sent() sentWrites {
	p := l.plan
	return sentWrites{kind: p.kind, base: p.base, next: p.next, baseIDs: p.baseIDs, ids: l.lost, writer: l.writer}
}

// fate decides from the stored item cur what became of the lost writes.
func (l *loop[T]) fate(cur versioned.Item) fate {
	return sentFate(l.sent(), cur, l.r.schema, l.o.WriteIDAttribute)
}

// resolve reads the item to settle the lost writes.
func (l *loop[T]) resolve(ctx context.Context) (done bool, err error) {
	cur, err := l.r.getRaw(ctx, l.key, true)
	if err != nil {
		return false, err
	}
	l.cur, l.known, l.stale = cur, true, false
	return l.settle(cur)
}

// settle acts on what became of the lost writes: one was stored (done),
// none ever will be (plan again from cur), one may still land (send the
// plan again, if it can be, or look again), or the item cannot tell
// (ErrOutcomeUnknown).
func (l *loop[T]) settle(cur versioned.Item) (done bool, err error) {
	f := l.o.rules.fate(l.fate(cur), l.plan.kind)
	switch f {
	case applied:
		l.succeed(l.plan.value, itemIs(cur))
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
			switch f = l.fate(cur); f {
			case applied:
				l.succeed(l.plan.value, itemIs(cur))
				return nil
			case dead:
				return err
			}
		}
	}
	return l.unknown(f, err)
}
