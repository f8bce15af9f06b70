// Package wait sleeps on an injected clock.
package wait

import (
	"context"
	"time"
)

// Sleep waits d on a clock's afterFunc (such as retry.Clock.AfterFunc), or
// until ctx is done: it then stops the timer and returns ctx's error. It
// blocks, and starts no goroutine of its own.
func Sleep(ctx context.Context, afterFunc func(time.Duration, func()) func() bool, d time.Duration) error {
	fired := make(chan struct{})
	stop := afterFunc(d, func() { close(fired) })
	select {
	case <-fired:
		return nil
	case <-ctx.Done():
		stop()
		return ctx.Err()
	}
}

// For waits d of real time, or until ctx is done: it then returns ctx's
// error.
func For(ctx context.Context, d time.Duration) error {
	return Sleep(ctx, func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }, d)
}
