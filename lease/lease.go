package lease

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/turns"
	"github.com/ddbocc/ddbocc/repo"
)

// ErrReleased is what [Lease.Err] returns after a successful
// [Lease.Release].
var ErrReleased = errors.New("lease: released")

// Lease is a held lease. It runs one heartbeat goroutine until it is lost
// or released. Its methods are safe for concurrent use.
type Lease struct {
	m        *Manager
	name     string
	token    int64
	data     []byte
	duration time.Duration
	interval time.Duration
	margin   time.Duration

	ctx    context.Context
	cancel context.CancelFunc // cancels ctx
	stop   context.CancelFunc // stops the heartbeat
	hbDone chan struct{}      // closed when the heartbeat goroutine returns
	done   chan struct{}      // closed on loss or release

	mu       sync.Mutex
	rec      record // last stored record
	err      error  // nil while held
	released bool   // Release has run its write
	relMu    sync.Mutex
	turn     *turns.Turn[*record] // this Manager's turn on the name, ended once when the lease ends
	turnOnce sync.Once
}

func (m *Manager) newLease(rec record, ao AcquireOptions, sent time.Time, turn *turns.Turn[*record]) *Lease {
	scale := func(d time.Duration) time.Duration {
		return time.Duration(float64(d) * float64(ao.Duration) / float64(m.opts.Duration))
	}
	ctx, cancel := context.WithCancel(context.Background())
	hbCtx, stop := context.WithCancel(context.Background())
	l := &Lease{m: m, name: rec.Name, token: rec.Token, data: rec.Data, duration: ao.Duration,
		interval: scale(m.opts.HeartbeatInterval), margin: scale(m.opts.SafetyMargin),
		cancel: cancel, stop: stop, hbDone: make(chan struct{}), done: make(chan struct{}), rec: rec, turn: turn}
	l.ctx = context.WithValue(ctx, leaseKey{}, l)
	go l.heartbeat(hbCtx, sent)
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
func (l *Lease) Owner() string { return l.m.opts.Owner }

// Token returns the fencing token: the record version stored by the
// acquiring write, strictly greater than every earlier token of the name
// (while the record is kept). Does not block.
func (l *Lease) Token() int64 { return l.token }

// Data returns the data stored with the lease. Does not block; do not
// modify the slice.
func (l *Lease) Data() []byte { return l.data }

// Context returns a context cancelled when the lease is lost or released.
func (l *Lease) Context() context.Context { return l.ctx }

// Done returns a channel closed when the lease is lost or released.
func (l *Lease) Done() <-chan struct{} { return l.done }

// Err returns nil while the lease is held, an error matching [ErrLost] (a
// [*LostError] with the reason) once it is lost, and [ErrReleased] after
// Release. Does not block.
func (l *Lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

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
		Table: l.m.table,
		Key:   map[string]types.AttributeValue{attrName: &types.AttributeValueMemberS{Value: l.name}},
		Cond: expression.Name(attrOwner).Equal(expression.Value(l.m.opts.Owner)).
			And(expression.Name(attrToken).Equal(expression.Value(l.token))),
		Name: "lease " + quote(l.name) + " token " + itoa(l.token),
		Err:  ErrLost,
	}
}

// finish ends the lease with err (first caller wins): it closes Done,
// cancels Context and ends this Manager's turn on the name, handing free
// (the record a Release stored, if any) to the next local waiter. It
// reports whether err was set.
func (l *Lease) finish(err error, free *record) bool {
	l.mu.Lock()
	if l.err != nil {
		l.mu.Unlock()
		return false
	}
	l.err = err
	l.mu.Unlock()
	l.cancel()
	close(l.done)
	l.turnOnce.Do(func() { l.turn.End(free) })
	return true
}

func (l *Lease) lose(e *LostError) {
	e.Name, e.Token = l.name, l.token
	if l.finish(e, nil) {
		if f := l.m.opts.Observer.Lost; f != nil {
			f(e)
		}
	}
}

// heartbeat renews the lease every interval until stopped or lost. sent is
// the clock reading taken before the acquiring write was sent.
func (l *Lease) heartbeat(ctx context.Context, sent time.Time) {
	defer close(l.hbDone)
	clk := l.m.opts.Clock
	safe := sent.Add(l.duration - l.margin)
	next := sent.Add(l.interval)
	var last error
	for {
		now := clk.Now()
		if !now.Before(safe) {
			l.lose(&LostError{Reason: NotRenewed, Cause: last})
			return
		}
		if d := next.Sub(now); d > 0 {
			if !sleep(clk, min(d, safe.Sub(now)), ctx.Done()) {
				return
			}
			continue
		}
		start := clk.Now()
		err := l.renew(ctx, start, safe)
		switch {
		case err == nil:
			safe = start.Add(l.duration - l.margin)
			next = start.Add(l.interval)
			last = nil
		case ctx.Err() != nil:
			return
		default:
			var le *LostError
			if errors.As(err, &le) {
				l.lose(le)
				return
			}
			last = err
			// Transient: retry soon, bounded by the safe time.
			next = clk.Now().Add(min(l.interval/4, 100*time.Millisecond))
		}
	}
}

// renew sends one renewal, abandoning it at the safe time.
func (l *Lease) renew(ctx context.Context, start, safe time.Time) error {
	clk := l.m.opts.Clock
	l.mu.Lock()
	rec := l.rec
	l.mu.Unlock()
	rec.Expires = expires(time.Now(), l.duration)
	rctx, cancel := context.WithCancel(ctx)
	type result struct {
		rec record
		err error
	}
	ch := make(chan result, 1)
	go func() {
		r, err := l.m.save(rctx, rec)
		ch <- result{r, err}
	}()
	var res result
	t := clk.NewTimer(safe.Sub(start))
	select {
	case res = <-ch:
		t.Stop()
		cancel()
	case <-t.C():
		cancel()
		<-ch // the goroutine is ours: wait for it
		return context.DeadlineExceeded
	}
	var ce *repo.ConflictError[record]
	switch {
	case res.err == nil:
		l.mu.Lock()
		l.rec = res.rec
		l.mu.Unlock()
		if f := l.m.opts.Observer.Renewed; f != nil {
			f(RenewedEvent{Name: l.name, Token: l.token, Version: res.rec.Version, Latency: clk.Now().Sub(start)})
		}
		return nil
	case errors.As(res.err, &ce):
		if l.ours(ce.Current) {
			// An earlier renewal whose outcome was unknown was stored: go on
			// from it. The safe time stays that of the last known renewal.
			l.mu.Lock()
			l.rec = ce.Current
			l.mu.Unlock()
			return res.err
		}
		return l.lostTo(ce.Current)
	case errors.Is(res.err, repo.ErrNotFound):
		return &LostError{Reason: ReleasedElsewhere}
	}
	return res.err
}

// ours says whether stored record cur is still this lease's: this owner and
// this token (only this lease's writes leave both).
func (l *Lease) ours(cur record) bool {
	return cur.Owner == l.m.opts.Owner && cur.Token == l.token
}

// lostTo is the loss to stored record cur, which is not this lease's.
func (l *Lease) lostTo(cur record) *LostError {
	if cur.Owner == "" {
		return &LostError{Reason: ReleasedElsewhere}
	}
	return &LostError{Reason: TakenOver, Owner: cur.Owner}
}

// Release stops the heartbeat and waits for it, then marks the record free
// on condition that it is still this lease's (same version, hence same
// owner and token). It reports whether it released the lease: false, with
// a nil error, if the lease was already released or lost. Releasing twice
// is harmless, so `defer l.Release(ctx)` is always safe. It blocks for one
// request (two or three when a lost response leaves its outcome unknown:
// it then reads the record, and if another owner holds it by then, it
// reports false and Err says TakenOver). If ctx is done first, or the
// outcome stays unknown, it returns the error; the lease is then neither
// renewed nor released and expires after its duration. Safe for concurrent
// use.
func (l *Lease) Release(ctx context.Context) (bool, error) {
	l.relMu.Lock()
	defer l.relMu.Unlock()
	l.stop()
	<-l.hbDone
	if l.Err() != nil {
		return false, nil
	}
	l.mu.Lock()
	rec := l.rec
	l.mu.Unlock()
	for try := 0; ; try++ {
		rec.Owner = ""
		rec.Data = nil
		rec.Expires = time.Now().Unix()
		stored, err := l.m.save(ctx, rec)
		var ce *repo.ConflictError[record]
		switch {
		case err == nil:
			l.finish(ErrReleased, &stored)
			return true, nil
		case errors.As(err, &ce) && l.ours(ce.Current) && try == 0:
			// A renewal whose outcome was unknown was stored: release
			// from there.
			rec = ce.Current
			continue
		case errors.As(err, &ce):
			l.lose(l.lostTo(ce.Current))
			return false, nil
		case errors.Is(err, repo.ErrNotFound):
			l.lose(&LostError{Reason: ReleasedElsewhere})
			return false, nil
		case errors.Is(err, repo.ErrOutcomeUnknown):
			// The write ids could not tell (another owner's acquiring Save
			// replaces them): the record itself can.
			cur, gerr := l.m.recs.Get(ctx, repo.Key(l.name))
			switch {
			case gerr == nil && cur.Owner == "":
				l.finish(ErrReleased, &cur) // ours was stored
				return true, nil
			case gerr == nil && l.ours(cur) && try == 0:
				rec = cur // not stored: release again
				continue
			case gerr == nil && !l.ours(cur):
				l.lose(l.lostTo(cur)) // not ours any more, whoever freed it
				return false, nil
			}
		}
		// Outcome still unknown: the lease is not renewed any more and
		// expires.
		l.lose(&LostError{Reason: NotRenewed, Cause: err})
		return false, err
	}
}
