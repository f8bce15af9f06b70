package lease_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
)

// counterItem is the item only the lease protects.
type counterItem struct {
	ID      string `dynamo:"id,hash"`
	N       int64  `dynamo:"n"`
	Version int64  `dynamo:"version"`
}

// TestLeaseUnderFaults: several Managers (as separate processes would be,
// sharing nothing but DynamoDB), two goroutines each, take turns on one
// lease while every request of theirs goes through a fault injector that
// loses responses of applied writes, throttles, answers 500, resets
// connections and adds latency. Holders read a counter, pause, and write
// counter+1 with an unconditional PutItem (through a clean client): only
// the lease keeps two holders apart. Now and then a holder's own link to
// DynamoDB goes down entirely while it holds the lease: it must declare the
// lease lost (NotRenewed) before anyone takes over, write nothing, and once
// another Manager has taken over, its guarded write must be refused.
//
// The second goroutine of each Manager takes the counter's lease together
// with a second name ("side", shared by all) through AcquireAll: one
// transaction under the same faults.
//
// Checked: the counter values written are exactly 0..K-1, each once (two
// holders at once would write the same value); the counter ends at K;
// tokens strictly increase along the counter; every outage ended in a
// NotRenewed loss and a takeover.
func TestLeaseUnderFaults(t *testing.T) {
	t.Parallel()
	run := faultRun{managers: faults.Sized(3, 5), target: int64(faults.Sized(45, 600)), outages: int64(faults.Sized(2, 12)),
		outageOneIn: 4, timeout: time.Duration(faults.Sized(3, 20)) * time.Minute}
	if err := leaseUnderFaults(t, run); err != nil {
		t.Fatal(err)
	}
}

// TestLeaseUnderFaultsCatchesLateLoss shows that the suite catches a holder
// that believes itself safe for longer than others wait before a takeover:
// with a safety margin of minus half the duration (the holder's safe time
// is 1.5 durations after a renewal was sent; others take over after seeing
// the record unchanged for one), a holder cut off from DynamoDB is taken
// over while it still holds, and the suite says so.
func TestLeaseUnderFaultsCatchesLateLoss(t *testing.T) {
	t.Parallel()
	run := faultRun{managers: 2, target: 30, outages: 1, outageOneIn: 1, timeout: time.Minute,
		margin: -750 * time.Millisecond}
	err := leaseUnderFaults(t, run)
	if err == nil || !strings.Contains(err.Error(), "before the holder declared its lease lost") {
		t.Fatalf("with a negative safety margin the suite found %v, want a takeover before the holder declared its lease lost", err)
	}
	t.Logf("caught, as it should be: %v", err)
}

// faultRun is one run of the lease fault suite.
type faultRun struct {
	managers    int
	target      int64 // protected increments
	outages     int64 // at most this many holders lose their link while holding
	outageOneIn int   // a first goroutine's hold is an outage with probability 1/outageOneIn
	timeout     time.Duration
	margin      time.Duration // if not 0, the Managers' safety margin, set past validation (unsafe)
}

// leaseUnderFaults runs the suite and returns the first violation found.
// Set-up failures end the test.
func leaseUnderFaults(t *testing.T, run faultRun) error {
	seed := faults.Seed(t)
	managers, target, outages := run.managers, run.target, run.outages
	cfg := faults.Config{Drop: 0.08, Throttle: 0.05, Error500: 0.04, Reset: 0.04, Latency: 20 * time.Millisecond, LatencyP: 0.1}
	t.Logf("%d managers x 2 goroutines, %d increments, %d outages; faults on every lease request: %v", managers, target, outages, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), run.timeout)
	defer cancel()

	table := ddblocal.TableName(t)
	clean := ddblocal.Client(t)
	counter := newUnguarded(ctx, t, clean, table+"-data")
	admin, err := lease.New(clean, table)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}

	var (
		done      atomic.Int64 // increments written
		outaged   atomic.Int64 // outages started
		takeovers atomic.Int64
		notRenew  atomic.Int64
		unknowns  atomic.Int64 // Release or Acquire errors under faults
		stats     []*faults.Transport
	)
	errc := make(chan error, 2*managers)
	fail := func(err error) {
		select {
		case errc <- err:
		default:
		}
		cancel()
	}
	var wg sync.WaitGroup
	for i := range managers {
		mcfg := cfg
		mcfg.Seed = seed + uint64(i)
		m, ft, link := faultyManager(t, table, mcfg, func(o *lease.Options) {
			o.PollInterval = 10 * time.Millisecond
			o.MaxPollInterval = 50 * time.Millisecond
			o.Observer.Acquired = func(e lease.AcquiredEvent) {
				if e.Takeover {
					takeovers.Add(1)
				}
			}
			o.Observer.Lost = func(e *lease.LostError) {
				if e.Reason == lease.NotRenewed {
					notRenew.Add(1)
				}
			}
		})
		stats = append(stats, ft)
		if run.margin != 0 {
			lease.SetUnsafeMargin(m, run.margin)
		}
		for g := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for done.Load() < target && ctx.Err() == nil {
					l, side, err := acquireCounter(ctx, m, g == 1)
					if ctx.Err() != nil {
						return
					}
					if err != nil {
						if !errors.Is(err, retry.ErrExhausted) {
							fail(err)
							return
						}
						unknowns.Add(1)
						continue
					}
					// The first goroutine of each Manager loses its link now
					// and then while holding.
					if g == 0 && rand.IntN(run.outageOneIn) == 0 && outaged.Add(1) <= outages {
						if err := holdThroughOutage(ctx, l, link, admin, counter.data); err != nil {
							fail(err)
							return
						}
						continue
					}
					wrote, err := counter.increment(ctx, l, side != nil)
					if err != nil {
						fail(err)
						return
					}
					if wrote {
						done.Add(1)
					}
					for _, l := range []*lease.Lease{l, side} {
						if l == nil {
							continue
						}
						if err := l.Release(ctx); err != nil {
							if !errors.Is(err, repo.ErrOutcomeUnknown) && !errors.Is(err, retry.ErrExhausted) {
								fail(err)
								return
							}
							unknowns.Add(1)
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("timed out after %d of %d increments", done.Load(), target)
	}
	var injected faults.Stats
	for _, ft := range stats {
		s := ft.Stats()
		injected.Requests += s.Requests
		injected.Affected += s.Affected
		injected.Drop += s.Drop
		injected.Throttle += s.Throttle
		injected.Error500 += s.Error500
		injected.Reset += s.Reset
		injected.Delayed += s.Delayed
	}
	t.Logf("faults: %v", injected)
	k, underAll, err := counter.check()
	t.Logf("%d increments (%d under AcquireAll), %d outages, %d NotRenewed losses, %d takeovers, %d Acquire/Release errors with unknown outcome",
		k, underAll, min(outaged.Load(), outages), notRenew.Load(), takeovers.Load(), unknowns.Load())
	if err != nil {
		return err
	}
	if n := min(outaged.Load(), outages); notRenew.Load() < n || takeovers.Load() < n {
		return fmt.Errorf("%d outages but %d NotRenewed losses and %d takeovers", n, notRenew.Load(), takeovers.Load())
	}
	return nil
}

// acquireCounter acquires the counter's lease, alone or, with both,
// together with "side" (AcquireAll).
func acquireCounter(ctx context.Context, m *lease.Manager, both bool) (counter, side *lease.Lease, err error) {
	if !both {
		counter, err = m.Acquire(ctx, "counter")
		return counter, nil, err
	}
	ls, err := m.AcquireAll(ctx, []string{"counter", "side"})
	if err != nil {
		return nil, nil, err
	}
	return ls[0], ls[1], nil
}

// holdThroughOutage cuts l's Manager off from DynamoDB while l is held: the
// lease must be declared lost for NotRenewed, no other Manager may take it
// over before that, and after a takeover l's guarded write must be refused.
func holdThroughOutage(ctx context.Context, l *lease.Lease, link *faults.Link, admin *lease.Manager, data *repo.Repository[counterItem]) error {
	link.SetDown(true)
	defer link.SetDown(false)
	select {
	case <-l.Context().Done():
	case <-time.After(time.Minute):
		return errors.New("outage: lease not declared lost within a minute")
	case <-ctx.Done():
		return nil
	}
	var le *lease.LostError
	if !errors.As(l.Err(), &le) || le.Reason != lease.NotRenewed {
		return errors.New("outage: lease lost for another reason: " + l.Err().Error())
	}
	// Declared lost before anyone else held it: the record is still ours.
	st, err := admin.Inspect(ctx, l.Name())
	if err != nil {
		return err
	}
	if st.Token != l.Token() {
		return errors.New("outage: taken over (token " + strconv.FormatInt(st.Token, 10) + ") before the holder declared its lease lost")
	}
	for st.Token == l.Token() && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		if st, err = admin.Inspect(ctx, l.Name()); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	_, err = data.Update(ctx, repo.Key("c"), func(c *counterItem) error { c.N = -1; return nil }, repo.Guard(l.Condition()))
	if !errors.Is(err, repo.ErrGuardFailed) || !errors.Is(err, lease.ErrLost) {
		return errors.New("outage: guarded write after a takeover not refused: " + errorString(err))
	}
	return nil
}

func errorString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
