package lease

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Fair turns between processes. Goroutines of one Manager that wait for a
// name queue locally, and a Release hands the record to the next of them
// at once (about a millisecond, no read). Left at that, the process that
// holds a busy name keeps it for as long as its own goroutines ask, and
// waiters in other processes, which can only poll, never see it free.
//
// So waiters announce themselves, and a holder's process gives way:
//
//   - A waiter in another process polls by reading the record; once every
//     markEvery of its wait, its poll is a write instead, which puts its
//     mark (owner, since when it waits) in the record's waiter slot and
//     returns the record as a read would. The slot keeps the longest
//     waiter: a mark replaces another only if that one is later, stale,
//     the waiter's own, or the holder's. The mark is no attribute of the
//     record: lease writes keep it, and it changes neither the version nor
//     the stamp, so holders and watchers are not disturbed.
//   - A Release with local waiters, once its process has handed the name
//     on locally for streakFor, reads the slot (one request per streakFor
//     at most). If another process's fresh mark is there, it releases the
//     record reserved for that waiter: free, but for that owner only. Others
//     judge a reserved record like a held one, and take it over once they
//     have seen it unchanged for reserveFor (a waiter that crashed cannot
//     hold the name up for longer).
//   - The waiter takes the reserved record at its next poll.
//
// Without waiters elsewhere nothing changes but the one read per
// streakFor; without local waiters, nothing at all.

const (
	// markEvery is how often a waiting poll is a marking write.
	markEvery = 250 * time.Millisecond
	// streakFor and streakHolds bound a process's turn: it holds a name,
	// handing it on between its own goroutines, for streakHolds holds and
	// at least streakFor before it looks for waiters elsewhere; streakFor
	// is long enough for every waiter to mark again (markEvery plus a poll
	// interval), so that the slot then holds the longest waiter and the
	// processes take turns in the order they began to wait, and the count
	// gives each turn the same number of holds however fast the process.
	// streakMax bounds a slow process's turn.
	streakFor   = 400 * time.Millisecond
	streakHolds = 32
	streakMax   = 4 * streakFor
	// reserveFor is how long a record released for a waiter elsewhere is
	// reserved for it.
	reserveFor = time.Second
	// markStale is the age (by the holder's wall clock) past which a mark
	// no longer counts.
	markStale = 3 * markEvery
)

// Attribute names of the waiter slot: not fields of record.
const (
	attrWaiter       = "waiter"
	attrWaitingSince = "waiting_since" // Unix ms
	attrMarkedAt     = "marked_at"     // Unix ms
)

// waiterMark is a record's waiter slot.
type waiterMark struct {
	owner     string
	since, at time.Time
}

// markOf reads the waiter slot of raw item.
func markOf(item map[string]types.AttributeValue) waiterMark {
	var w waiterMark
	if v, ok := item[attrWaiter].(*types.AttributeValueMemberS); ok {
		w.owner = v.Value
	}
	w.since = unixMs(item[attrWaitingSince])
	w.at = unixMs(item[attrMarkedAt])
	return w
}

func unixMs(v types.AttributeValue) time.Time {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return time.Time{}
	}
	ms, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// yieldTo decides whether a release by owner me, with local waiters, at
// wall time now, reserves the record for the waiter of mark w: another
// owner's mark, no older than markStale.
func yieldTo(w waiterMark, me string, now time.Time) (string, bool) {
	if w.owner == "" || w.owner == me || now.Sub(w.at) > markStale {
		return "", false
	}
	return w.owner, true
}

// handed is what a lease's turn hands the next local turn on its name: the
// record its Release stored (nil if none), and this process's turn on the
// name so far.
type handed struct {
	rec    *record
	streak streak
}

// streak is a process's turn on a name: since when it has held the name
// without a break, and how many holds it has had (zero values: none yet).
type streak struct {
	since time.Time
	holds int
}

// done reports whether a turn is long enough to look for waiters
// elsewhere at now.
func (s streak) done(now time.Time) bool {
	el := now.Sub(s.since)
	return el >= streakMax || el >= streakFor && s.holds >= streakHolds
}

// polling is where an Acquire's polls stand: since when it waits (zero
// before a poll found the name held), when its last marking poll was, and
// whether the next poll marks; given is a record the caller read just
// before the first attempt (Once), used instead of reading again.
type polling struct {
	since, markedAt time.Time
	mark            bool
	given           *record
}

// next is the polling after a poll at now; held: the poll found the name
// held by another owner. After such a poll the next one marks, and one
// every markEvery after that. The wait counts from the first such poll,
// not from the Acquire call: a goroutine that queued behind others of its
// process while they held the name has not waited in the meantime.
func (p polling) next(now time.Time, held bool) polling {
	if p.since.IsZero() && held {
		p.since = now
	}
	p.mark = held && now.Sub(p.markedAt) >= markEvery
	if p.mark {
		p.markedAt = now
	}
	return p
}

// read is a poll of name's record: a marking write if p says so (a read if
// that write fails), else a read.
func (s *store) read(ctx context.Context, name string, p polling) (record, error) {
	if p.mark {
		if rec, _, err := s.mark(ctx, name, p.since); err == nil {
			return rec, nil
		}
	}
	return s.get(ctx, name)
}

// yield decides whether l's release reserves the record for a waiter of
// another process: when goroutines of this process wait for the name, and
// this process's turn is long enough (streak.done), it reads the waiter
// slot (one request). It returns the waiter's owner, or "". Without a fresh mark
// elsewhere, the streak starts again now, so the next look is streakFor
// later; with one, the streak ends.
func (l *Lease) yield(ctx context.Context) string {
	now := l.st.clock.Now()
	l.mu.Lock()
	s := l.streak
	l.mu.Unlock()
	if !l.turn.Waiting() || !s.done(now) {
		return ""
	}
	w, err := l.st.waiterOf(ctx, l.name)
	if err != nil {
		return "" // no harm: the next release looks again
	}
	to, ok := yieldTo(w, l.me.owner, now)
	l.mu.Lock()
	l.streak = streak{since: now}
	if ok {
		l.streak = streak{}
	}
	l.mu.Unlock()
	return to
}

// mark is a waiting poll of name as a marking write: it puts this owner's
// mark (waiting since since) in the waiter slot, unless a longer waiter's
// fresh mark is there, and returns the record either way, found false if
// there is none.
func (s *store) mark(ctx context.Context, name string, since time.Time) (record, bool, error) {
	now := s.clock.Now()
	in := &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              map[string]types.AttributeValue{attrName: &types.AttributeValueMemberS{Value: name}},
		UpdateExpression: aws.String("SET #w = :me, #s = :since, #a = :now"),
		ConditionExpression: aws.String("attribute_exists(#n) AND (attribute_not_exists(#w) OR #w = :me OR #w = #o OR " +
			"#s > :since OR #a < :stale)"),
		ExpressionAttributeNames: map[string]string{"#w": attrWaiter, "#s": attrWaitingSince, "#a": attrMarkedAt,
			"#n": attrName, "#o": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":me":    &types.AttributeValueMemberS{Value: s.owner},
			":since": msValue(since),
			":now":   msValue(now),
			":stale": msValue(now.Add(-markStale)),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	out, err := s.client.UpdateItem(ctx, in)
	item := map[string]types.AttributeValue(nil)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		item = out.Attributes
	case errors.As(err, &ccf):
		item = ccf.Item
	default:
		return record{}, false, err
	}
	if len(item) == 0 {
		return record{Name: name}, false, nil
	}
	var rec record
	if err := s.schema.Unmarshal(item, &rec); err != nil {
		return record{}, false, err
	}
	return rec, true, nil
}

func msValue(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.UnixMilli(), 10)}
}

// waiterOf reads name's waiter slot (strongly consistent).
func (s *store) waiterOf(ctx context.Context, name string) (waiterMark, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.table),
		Key:                      map[string]types.AttributeValue{attrName: &types.AttributeValueMemberS{Value: name}},
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#w, #s, #a"),
		ExpressionAttributeNames: map[string]string{"#w": attrWaiter, "#s": attrWaitingSince, "#a": attrMarkedAt},
	})
	if err != nil {
		return waiterMark{}, err
	}
	return markOf(out.Item), nil
}
