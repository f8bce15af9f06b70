package retry

import (
	"sync"
	"time"
)

// InstantClock is a Clock for the package's tests (internal and external):
// it moves only when told to or when slept on, and its sleeps end at once:
// AfterFunc moves it by d and calls f. It records the requested durations
// (Starts) and counts the sleeps that were stopped (Stops).
type InstantClock struct {
	mu     sync.Mutex
	now    time.Time
	Starts []time.Duration
	Stops  int
}

// NewInstantClock returns an InstantClock at a fixed instant.
func NewInstantClock() *InstantClock { return &InstantClock{now: time.Unix(1_700_000_000, 0)} }

// Now implements Clock.
func (c *InstantClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d, as an attempt that takes d would.
func (c *InstantClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// AfterFunc implements Clock: it moves the clock by d and calls f at once.
func (c *InstantClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	c.Starts = append(c.Starts, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	f()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.Stops++
		return false
	}
}
