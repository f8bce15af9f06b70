package lease

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Close releases every lease the Manager holds, concurrently, each as
// [Lease.Release] does, which also stops the goroutines the Manager owns
// (the leases' heartbeats). Acquire, TryAcquire and Do calls that are
// waiting for a name, polling DynamoDB or queued behind another goroutine
// of this Manager, return an error matching [ErrClosed] at once; so do
// calls made after Close begins, before they send any request. Close waits
// for those calls to return (they do promptly), then releases. A lease
// acquired by a call that was under way when Close began is released with
// the others, and that call returns ErrClosed. A Do whose lease Close
// releases while its fn runs cancels fn's context and returns fn's error
// joined with ErrClosed. [Manager.Inspect], [Manager.List] and
// [Manager.CreateTable] still work after Close.
//
// Close blocks until every lease is released or ctx is done. It returns
// nil if every release succeeded; otherwise the failed releases' errors
// joined, with ctx's error first if ctx is done. Leases whose release did
// not succeed (ctx was done first, or the write failed) are no longer
// renewed: their records stay held until they expire after their
// duration, when another owner may take them over.
//
// Only the first call releases; a later call sends nothing, waits for the
// first to return and returns nil (ctx's error if ctx is done first). Safe
// for concurrent use.
//
// A service releases its leases on SIGTERM with a context of its own for
// the shutdown, since the signal's context is done by then:
//
//	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
//	defer stop()
//	go serve(ctx, locks) // acquires with ctx and works while its leases last
//	<-ctx.Done()
//	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//	defer cancel()
//	if err := locks.Close(shutdownCtx); err != nil {
//		log.Printf("leases left to expire: %v", err)
//	}
func (m *Manager) Close(ctx context.Context) error {
	if ctx == nil {
		panic("lease: nil context")
	}
	return m.life.close(ctx)
}

// lifecycle is a Manager's part in its leases' lives: the leases it holds,
// its acquiring calls under way, and its closing. The zero value is ready
// to use. Safe for concurrent use.
type lifecycle struct {
	mu      sync.Mutex
	held    map[*Lease]struct{} // acquired and not ended (Lease.finish leaves)
	calls   int                 // Acquire and TryAcquire calls under way
	closed  bool                // Close has begun
	drained chan struct{}       // closed once closed and no call is under way
	done    chan struct{}       // closed when the first Close returns
	// stop is done, with cause ErrClosed, once Close has begun: it ends the
	// contexts of the calls under way.
	stop   context.Context
	cancel context.CancelCauseFunc
}

// init makes what the zero value lacks. The caller holds c.mu.
func (c *lifecycle) init() {
	if c.stop == nil {
		c.held = map[*Lease]struct{}{}
		c.drained, c.done = make(chan struct{}), make(chan struct{})
		c.stop, c.cancel = context.WithCancelCause(context.Background())
	}
}

// enter begins an acquiring call with ctx. It returns ErrClosed once Close
// has begun; otherwise the call's context, which is also cancelled (with
// cause ErrClosed) when Close begins, and the function that ends the call.
func (c *lifecycle) enter(ctx context.Context) (context.Context, func(), error) {
	c.mu.Lock()
	c.init()
	if c.closed {
		c.mu.Unlock()
		return nil, nil, ErrClosed
	}
	c.calls++
	stop := c.stop
	c.mu.Unlock()
	ctx, cancel := context.WithCancelCause(ctx)
	unhook := context.AfterFunc(stop, func() { cancel(ErrClosed) })
	return ctx, func() {
		unhook()
		cancel(nil)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.calls--; c.calls == 0 && c.closed {
			close(c.drained)
		}
	}, nil
}

// outcome is what an acquiring call with ctx (from enter) returns for l
// and err: ErrClosed if Close ended the call, or began while the call
// acquired l (Close releases l: it is held).
func (c *lifecycle) outcome(ctx context.Context, l *Lease, err error) (*Lease, error) {
	if err != nil && errors.Is(context.Cause(ctx), ErrClosed) || err == nil && c.closing() {
		return nil, ErrClosed
	}
	return l, err
}

// closing reports whether Close has begun.
func (c *lifecycle) closing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// add holds l, just acquired, until it ends. Lock order: c.mu, then l.mu.
func (c *lifecycle) add(l *Lease) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil { // else it ended already, and will not leave
		l.life = c
		c.held[l] = struct{}{}
	}
}

// leave forgets l, which ended.
func (c *lifecycle) leave(l *Lease) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.held, l)
}

// close is Manager.Close.
func (c *lifecycle) close(ctx context.Context) error {
	c.mu.Lock()
	c.init()
	if c.closed {
		c.mu.Unlock()
		select {
		case <-c.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.closed = true
	if c.calls == 0 {
		close(c.drained)
	}
	c.mu.Unlock()
	defer close(c.done)
	c.cancel(ErrClosed)
	<-c.drained // their contexts are done: they return at once
	var errs []error
	for {
		// Leases acquired since the last round (by none of the calls
		// drained) are released in the next.
		ls := c.snapshot()
		if len(ls) == 0 {
			break
		}
		errs = append(errs, c.release(ctx, ls)...)
	}
	if len(errs) > 0 && ctx.Err() != nil {
		errs = append([]error{ctx.Err()}, errs...)
	}
	return errors.Join(errs...)
}

// snapshot returns the leases held.
func (c *lifecycle) snapshot() []*Lease {
	c.mu.Lock()
	defer c.mu.Unlock()
	ls := make([]*Lease, 0, len(c.held))
	for l := range c.held {
		ls = append(ls, l)
	}
	return ls
}

// release releases ls concurrently and returns the errors.
func (c *lifecycle) release(ctx context.Context, ls []*Lease) []error {
	errs := make([]error, len(ls))
	var wg sync.WaitGroup
	for i, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Release(ctx); err != nil {
				errs[i] = fmt.Errorf("lease: release %q token %d: %w", l.name, l.me.token, err)
			}
			c.leave(l) // ended, also when it failed (it stops renewing)
		}()
	}
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	return failed
}
