package retry

import (
	"context"
	"time"

	"github.com/ddbocc/ddbocc/internal/wait"
)

// Clock is a time source: wall-clock and monotonic time, and timers. [Do]
// measures its elapsed time and sleeps between attempts with one; package
// lease measures lease durations and computes the expiry and TTL it stores
// with one. The default is [SystemClock]; tests inject a fake one to control
// time without real sleeps. Implementations must be safe for concurrent
// use.
type Clock interface {
	// Now returns the current time. Durations are measured by subtracting
	// two readings, so the real clock's readings carry a monotonic part;
	// the wall-clock part is what gets stored (expiry and TTL of a lease
	// record).
	Now() time.Time
	// AfterFunc calls f, in its own goroutine or in the goroutine that
	// moves a fake clock, once d has passed, like [time.AfterFunc]. stop
	// cancels the call; it reports whether it did (false once f has been
	// called or stop has already run).
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// SystemClock returns the clock of package time: [time.Now] and
// [time.AfterFunc]. It does not block and is safe for concurrent use.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// sleep waits d on clk, or until ctx is done: it then returns ctx's error.
func sleep(ctx context.Context, clk Clock, d time.Duration) error {
	return wait.Sleep(ctx, clk.AfterFunc, d)
}
