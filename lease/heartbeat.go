package lease

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// beat is the heartbeat's schedule: when the lease is safe until, when the
// next renewal is due, the last renewal error since the last success, and
// whether Observer.Danger was told since then.
type beat struct {
	safe, next time.Time
	last       error
	warned     bool
}

// renewedAt moves the schedule on after a renewal sent at start succeeded.
func (b *beat) renewedAt(start time.Time, t timing) {
	b.safe = t.safeAfter(start)
	b.next = start.Add(t.interval)
	b.last = nil
	b.warned = false
}

// dangerZone is how long before the safe time a lease not renewed is in
// danger (see Observer.Danger): one interval, but at most half the time
// from a due renewal to the safe time.
func (t timing) dangerZone() time.Duration {
	return min(t.interval, (t.duration-t.margin-t.interval)/2)
}

// earliest returns the earlier of a and b.
func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// failedAt moves the schedule on after a transient renewal error: retry
// soon, bounded by the safe time.
func (b *beat) failedAt(now time.Time, err error, t timing) {
	b.last = err
	b.next = now.Add(min(t.interval/4, 100*time.Millisecond))
}

// heartbeat renews the lease every interval until Context is done (loss or
// Release), and declares the lease lost if no renewal succeeds before the
// safe time. With Observer.Danger set, it tells it when the lease enters
// its danger zone, and abandons a renewal still unanswered then. sent is
// the clock reading taken before the acquiring write was sent. It closes
// done when it returns.
func (l *Lease) heartbeat(sent time.Time) {
	defer close(l.done)
	clk := l.st.clock
	danger := l.st.observer.Danger
	var b beat
	b.renewedAt(sent, l.times)
	for {
		now := clk.Now()
		if !now.Before(b.safe) {
			l.lose(&LostError{Reason: NotRenewed, Cause: b.last})
			return
		}
		// cut is when to stop waiting: for the next renewal to be due, or
		// for an answer to the renewal sent.
		cut := b.safe
		if danger != nil && !b.warned && l.ctx.Err() == nil {
			at := b.safe.Add(-l.times.dangerZone())
			if !now.Before(at) {
				b.warned = true
				danger(DangerEvent{Name: l.name, Token: l.me.token, Left: b.safe.Sub(now), Err: b.last})
				continue
			}
			cut = at
		}
		if d := b.next.Sub(now); d > 0 {
			if l.st.sleep(l.ctx, earliest(b.next, cut).Sub(now)) != nil {
				return
			}
			continue
		}
		start := clk.Now()
		if !start.Before(cut) {
			continue // the danger zone began meanwhile
		}
		verdict, le, err := l.renew(start, b.safe, cut)
		switch {
		case verdict == renewed:
			b.renewedAt(start, l.times)
		case l.ctx.Err() != nil:
			return
		case verdict == renewLost:
			l.lose(le)
			return
		default:
			b.failedAt(clk.Now(), err, l.times)
			l.renewFailed(err)
		}
	}
}

// renew sends one renewal, sent at start, abandoning it at cut: the safe
// time, or the start of the danger zone before it. It returns what the
// result calls for and, unless renewed, why.
func (l *Lease) renew(start, safe, cut time.Time) (renewal, *LostError, error) {
	rec := l.record()
	rec.Expires = expires(start, l.times.duration)
	ctx, stop := l.st.within(l.ctx, cut.Sub(start))
	stored, err := l.st.save(ctx, rec)
	stop()
	if err != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		err = context.DeadlineExceeded // the safe time came first
		if cut.Before(safe) {
			err = fmt.Errorf("lease: renewal unanswered %v after it was sent: %w", cut.Sub(start), err)
		}
	}
	f, cur := learn(stored, err)
	verdict, le := afterRenew(f, cur, l.me)
	switch verdict {
	case renewed:
		l.renewed(cur, start)
		if obs := l.st.observer.Renewed; obs != nil {
			obs(RenewedEvent{Name: l.name, Token: l.me.token, Version: cur.Version, Latency: l.st.clock.Now().Sub(start)})
		}
	case renewBehind:
		// An earlier renewal whose outcome was unknown was stored: go on
		// from it. The safe time stays that of the last known renewal.
		l.stored(cur)
	}
	return verdict, le, err
}
