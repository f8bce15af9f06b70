package lease

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/turns"
	"github.com/ddbocc/ddbocc/repo"
)

// Lease is a held lease. Like etcd's concurrency.Session, it owns one
// goroutine, its heartbeat, which renews it until it is lost or released,
// and one context, cancelled when that happens. Its methods are safe for
// concurrent use.
type Lease struct {
	st    *store
	me    holder // this lease's owner and token
	name  string
	data  []byte
	times timing
	sent  time.Time           // when the acquiring write was sent
	turn  *turns.Turn[handed] // the Manager's turn on the name, ended with the lease
	// streak is this process's turn on the name so far, this lease
	// included (fair.go); guarded by mu.
	streak streak

	ctx    context.Context    // cancelled on loss or release; stops the heartbeat
	cancel context.CancelFunc // cancels ctx
	done   chan struct{}      // closed when the heartbeat returns

	release sync.Once // Release's write runs once

	// life is the Manager's, which holds the lease until it ends; set by
	// lifecycle.add, guarded by mu.
	life *lifecycle

	mu  sync.Mutex
	rec record // the record as last stored
	err error  // nil while held
	// safe is when the lease is lost unless a renewal succeeds first;
	// renewErr the last renewal error since the last success.
	safe     time.Time
	renewErr error
}

// timing is the heartbeat timing of one lease.
type timing struct {
	duration time.Duration // the lease's duration
	interval time.Duration // between renewals
	margin   time.Duration // the safe time is a renewal's send time + duration - margin
}

// safeAfter is the safe time of a write sent at sent.
func (t timing) safeAfter(sent time.Time) time.Time { return sent.Add(t.duration - t.margin) }

// newLease returns the lease of stored record rec, whose acquiring write was
// sent at sent, with its heartbeat running. The lease keeps turn until it
// ends.
func newLease(st *store, rec record, times timing, sent time.Time, turn *turns.Turn[handed], s streak) *Lease {
	if s.since.IsZero() {
		s.since = sent
	}
	s.holds++
	l := &Lease{st: st, me: holder{owner: st.owner, token: rec.Token}, name: rec.Name, data: rec.Data,
		times: times, sent: sent, turn: turn, streak: s, done: make(chan struct{}), rec: rec, safe: times.safeAfter(sent)}
	ctx, cancel := context.WithCancel(context.Background())
	l.ctx, l.cancel = context.WithValue(ctx, leaseKey{}, l), cancel
	go l.heartbeat(sent)
	return l
}

type leaseKey struct{}

// FromContext returns the lease whose [Lease.Context] ctx is or derives
// from, e.g. in the fn of [Manager.Do], so that fn can guard its writes
// with the lease's [Lease.Condition]. It does not block.
func FromContext(ctx context.Context) (*Lease, bool) {
	l, ok := ctx.Value(leaseKey{}).(*Lease)
	return l, ok
}

// Name returns the lease's name. Does not block.
func (l *Lease) Name() string { return l.name }

// Owner returns the owner id of the lease (its Manager's). Does not block.
func (l *Lease) Owner() string { return l.me.owner }

// Token returns the fencing token: the record version stored by the
// acquiring write, strictly greater than every earlier token of the name
// (while the record is kept). Does not block.
func (l *Lease) Token() int64 { return l.me.token }

// Data returns the data stored with the lease. Does not block; do not
// modify the slice.
func (l *Lease) Data() []byte { return l.data }

// Context returns the lease's context: cancelled when the lease is lost
// (then [Lease.Err] says why) or when [Lease.Release] begins. Watch
// Context().Done() to learn of a loss; pass the context to work that must
// stop with the lease. Does not block.
func (l *Lease) Context() context.Context { return l.ctx }

// Err returns nil while the lease is held (and while a Release is under
// way), an error matching [ErrLost] (a [*LostError] with the reason) once
// it is lost, and [ErrReleased] once Release has marked the record free.
// It is the one place that says how a lease ended. It follows the clock:
// once the safe time has passed without a successful renewal, Err ends the
// lease as lost (NotRenewed) itself, without waiting for the heartbeat
// goroutine, so a check made after a long pause of the process is
// truthful. Does not block.
func (l *Lease) Err() error {
	l.mu.Lock()
	err, safe, cause := l.err, l.safe, l.renewErr
	l.mu.Unlock()
	if err == nil && !l.st.clock.Now().Before(safe) {
		l.lose(&LostError{Reason: NotRenewed, Cause: cause})
		l.mu.Lock()
		err = l.err
		l.mu.Unlock()
	}
	return err
}

// lostErr returns Err if the lease was lost, else nil.
func (l *Lease) lostErr() error {
	if err := l.Err(); errors.Is(err, ErrLost) {
		return err
	}
	return nil
}

// Condition returns the guard "this lease is still held with this token"
// on the lease item, for [repo.Guard] or a transaction check: DynamoDB
// evaluates it atomically with the guarded write. A failed check matches
// [repo.ErrGuardFailed] and [ErrLost]. Does not block.
func (l *Lease) Condition() repo.Condition {
	return repo.Condition{
		Table: l.st.table,
		Key:   map[string]types.AttributeValue{attrName: &types.AttributeValueMemberS{Value: l.name}},
		Cond: expression.Name(attrOwner).Equal(expression.Value(l.me.owner)).
			And(expression.Name(attrToken).Equal(expression.Value(l.me.token))),
		Name: "lease " + strconv.Quote(l.name) + " token " + strconv.FormatInt(l.me.token, 10),
		Err:  ErrLost,
	}
}

// record returns the record as last stored.
func (l *Lease) record() record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rec
}

// stored notes rec as the record last stored.
func (l *Lease) stored(rec record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rec = rec
}

// renewed notes rec as stored by a renewal sent at start: the lease is
// safe until start's safe time.
func (l *Lease) renewed(rec record, start time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rec, l.safe, l.renewErr = rec, l.times.safeAfter(start), nil
}

// renewFailed notes err, a renewal's transient error.
func (l *Lease) renewFailed(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.renewErr = err
}

// finish ends the lease with err (the first call wins): it cancels Context,
// ends the Manager's turn on the name, handing free (the record a Release
// stored, if any) to the next local waiter, and leaves the Manager's
// leases. It reports whether err was set.
func (l *Lease) finish(err error, free *record) bool {
	l.mu.Lock()
	first := l.err == nil
	if first {
		l.err = err
	}
	life, s := l.life, l.streak
	l.mu.Unlock()
	if first {
		l.cancel()
		l.turn.End(handed{rec: free, streak: s})
		if life != nil {
			life.leave(l)
		}
	}
	return first
}

// freedAs ends the lease as released, the record stored free as rec, and
// tells the observer.
func (l *Lease) freedAs(rec record) {
	// Counted before the turn passes on, for the next local acquire's
	// forecast (pace.go).
	l.st.holds.add(l.name, l.st.clock.Now().Sub(l.sent))
	if l.finish(ErrReleased, &rec) {
		if f := l.st.observer.Released; f != nil {
			f(ReleasedEvent{Name: l.name, Token: l.me.token, ReservedFor: rec.ReservedFor, Done: l.me.marked(rec)})
		}
	}
}

// lose ends the lease as lost and tells the observer.
func (l *Lease) lose(e *LostError) {
	e.Name, e.Token = l.name, l.me.token
	if l.finish(e, nil) {
		if f := l.st.observer.Lost; f != nil {
			f(e)
		}
	}
}
