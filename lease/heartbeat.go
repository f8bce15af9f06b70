package lease

import (
	"context"
	"errors"
	"time"
)

// beat is the heartbeat's schedule: when the lease is safe until, when the
// next renewal is due, and the last renewal error since the last success.
type beat struct {
	safe, next time.Time
	last       error
}

// renewedAt moves the schedule on after a renewal sent at start succeeded.
func (b *beat) renewedAt(start time.Time, t timing) {
	b.safe = t.safeAfter(start)
	b.next = start.Add(t.interval)
	b.last = nil
}

// failedAt moves the schedule on after a transient renewal error: retry
// soon, bounded by the safe time.
func (b *beat) failedAt(now time.Time, err error, t timing) {
	b.last = err
	b.next = now.Add(min(t.interval/4, 100*time.Millisecond))
}

// heartbeat renews the lease every interval until Context is done (loss or
// Release), and declares the lease lost if no renewal succeeds before the
// safe time. sent is the clock reading taken before the acquiring write was
// sent. It closes done when it returns.
func (l *Lease) heartbeat(sent time.Time) {
	defer close(l.done)
	clk := l.st.clock
	var b beat
	b.renewedAt(sent, l.times)
	for {
		now := clk.Now()
		if !now.Before(b.safe) {
			l.lose(&LostError{Reason: NotRenewed, Cause: b.last})
			return
		}
		if d := b.next.Sub(now); d > 0 {
			if l.st.sleep(l.ctx, min(d, b.safe.Sub(now))) != nil {
				return
			}
			continue
		}
		start := clk.Now()
		verdict, le, err := l.renew(start, b.safe)
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

// renew sends one renewal, sent at start, abandoning it at the safe time.
// It returns what the result calls for and, unless renewed, why.
func (l *Lease) renew(start, safe time.Time) (renewal, *LostError, error) {
	rec := l.record()
	rec.Expires = expires(start, l.times.duration)
	ctx, stop := l.st.within(l.ctx, safe.Sub(start))
	stored, err := l.st.save(ctx, rec)
	stop()
	if err != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		err = context.DeadlineExceeded // the safe time came first
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
