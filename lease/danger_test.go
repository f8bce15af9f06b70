package lease_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
)

// dangerZone is the danger zone of slowBeats leases with a 3 s margin:
// min(HeartbeatInterval 10 s, (30 s - 3 s - 10 s) / 2).
const dangerZone = 8500 * time.Millisecond

// dangerLog takes a test's Danger calls, never blocking the heartbeat.
type dangerLog struct {
	ch       chan lease.DangerEvent
	overflow atomic.Int64 // calls ch had no room for
}

func newDangerLog() *dangerLog { return &dangerLog{ch: make(chan lease.DangerEvent, 10)} }

// dangerOptions are slowBeats on clk with a 3 s margin, every renewal one
// request (no retries: the heartbeat's own), and the observer fed into the
// logs.
func dangerOptions(clk *fakeClock, dangers *dangerLog, renewed, lost *atomic.Int64) func(*lease.Options) {
	return func(o *lease.Options) {
		slowBeats(clk)(o)
		o.SafetyMargin = 3 * time.Second
		o.Observer.Danger = func(e lease.DangerEvent) {
			select {
			case dangers.ch <- e:
			default:
				dangers.overflow.Add(1)
			}
		}
		o.Observer.Renewed = func(lease.RenewedEvent) { renewed.Add(1) }
		o.Observer.Lost = func(*lease.LostError) { lost.Add(1) }
		o.Repo = append(o.Repo, func(r *repo.Options) {
			r.Retry = retry.Policy{InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, Multiplier: 1, MaxAttempts: 1}
		})
	}
}

// waitTimerAt blocks until a timer due at at is pending (real time,
// bounded). A heartbeat's sleep and its renewal's deadline are told apart
// by when they are due.
func (c *fakeClock) waitTimerAt(t *testing.T, at time.Time) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		found, ch := false, c.changed
		for _, w := range c.waiters {
			found = found || w.at.Equal(at)
		}
		c.mu.Unlock()
		if found {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timeout waiting for a timer due at +%v", at.Sub(c.Now()))
		}
	}
}

// Danger is called once per episode of failed renewals, when the safe time
// is dangerZone away, with the last renewal error; a successful renewal
// ends the episode, and the next failure streak gets its own call. A
// healthy lease never gets one.
func TestDanger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	link := faults.NewLink(nil)
	client := ddblocal.NewClient(ddblocal.Endpoint(t), link.Option(), func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	dangers := newDangerLog()
	var renewed, lost atomic.Int64
	m := tableManager(t, client, ddblocal.TableName(t), dangerOptions(clk, dangers, &renewed, &lost))
	l, err := m.Acquire(ctx, "dz")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	// The heartbeat tells Danger before it sleeps again: once it sleeps,
	// the channel holds every call made.
	noDanger := func(when string) {
		t.Helper()
		select {
		case e := <-dangers.ch:
			t.Fatalf("Danger %s: %+v", when, e)
		default:
		}
		if n := dangers.overflow.Load(); n > 0 {
			t.Fatalf("%d Danger calls too many", n)
		}
	}
	// sleeping advances the clock by d and waits for the heartbeat to
	// sleep until d2 from then.
	sleeping := func(d, d2 time.Duration) {
		t.Helper()
		clk.Advance(d)
		clk.waitTimerAt(t, clk.Now().Add(d2))
	}
	last := clk.Now() // the last renewal sent (here the acquiring write)
	clk.waitTimerAt(t, last.Add(10*time.Second))
	// Healthy renewals, none in danger.
	for i := 1; i <= 3; i++ {
		sleeping(10*time.Second, 10*time.Second)
		if renewed.Load() != int64(i) {
			t.Fatalf("%d renewals, want %d", renewed.Load(), i)
		}
		last = clk.Now()
	}
	noDanger("while renewals succeed")

	for episode := 1; episode <= 2; episode++ {
		// The danger zone begins 27 s - 8.5 s = 18.5 s after the last
		// renewal was sent. The next renewal is due 10 s after it and
		// fails, and so does every retry, 100 ms after the last.
		link.SetDown(true)
		zone := last.Add(27*time.Second - dangerZone)
		sleeping(10*time.Second, 100*time.Millisecond)
		sleeping(zone.Sub(clk.Now())-200*time.Millisecond, 100*time.Millisecond) // a retry 200 ms before the zone
		noDanger("before the danger zone")
		clk.Advance(200 * time.Millisecond) // the heartbeat wakes in the zone
		var e lease.DangerEvent
		select {
		case e = <-dangers.ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("episode %d: no Danger %v after the last renewal", episode, clk.Now().Sub(last))
		}
		if e.Name != "dz" || e.Token != l.Token() || e.Left != dangerZone || !errors.Is(e.Err, faults.ErrInjected) {
			t.Fatalf("episode %d: %+v, want dz, token %d, %v left, the injected error", episode, e, l.Token(), dangerZone)
		}
		// Once per episode: not again while the retries go on failing.
		clk.waitTimerAt(t, clk.Now().Add(100*time.Millisecond))
		for range 5 {
			sleeping(100*time.Millisecond, 100*time.Millisecond)
		}
		noDanger("twice in an episode")
		if l.Err() != nil || lost.Load() != 0 {
			t.Fatalf("lost in the danger zone, before the safe time: %v", l.Err())
		}
		if episode == 1 {
			// A successful renewal ends the episode.
			link.SetDown(false)
			n := renewed.Load()
			sleeping(100*time.Millisecond, 10*time.Second)
			if renewed.Load() != n+1 {
				t.Fatal("no renewal once the link is up again")
			}
			last = clk.Now()
		}
	}
	// The second episode ends in the loss, with no further Danger.
	clk.Advance(last.Add(27 * time.Second).Sub(clk.Now()))
	waitFor(t, func() bool { return lost.Load() == 1 })
	noDanger("after the loss")
	var le *lease.LostError
	if !errors.As(l.Err(), &le) || le.Reason != lease.NotRenewed {
		t.Fatalf("after the danger zone: %v, want lost, NotRenewed", l.Err())
	}
}

// A renewal that is still unanswered when the danger zone begins (the
// network holds it) is abandoned then, so that Danger is called on time,
// with an error that says so; the renewal is sent again.
func TestDangerRenewalUnanswered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	// Every UpdateItem (renewals, the release) is held until its caller
	// gives up; the acquiring write (PutItem) goes through.
	c := &ddblocal.RequestCounter{}
	client, _ := faults.Client(ddblocal.Endpoint(t), faults.Config{Latency: 1000 * time.Hour, LatencyP: 1, Ops: []string{"UpdateItem"}},
		c.Option(), func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	dangers := newDangerLog()
	var renewed, lost atomic.Int64
	m := tableManager(t, client, ddblocal.TableName(t), dangerOptions(clk, dangers, &renewed, &lost))
	l, err := m.Acquire(ctx, "dz")
	if err != nil {
		t.Fatal(err)
	}
	zone := clk.Now().Add(27*time.Second - dangerZone)
	clk.waitTimerAt(t, clk.Now().Add(10*time.Second))
	clk.Advance(10 * time.Second) // the renewal is sent, and held
	waitFor(t, func() bool { return c.ByOperation()["UpdateItem"] == 1 })
	clk.waitTimerAt(t, zone) // the renewal's deadline: the danger zone
	clk.Advance(zone.Sub(clk.Now()) - time.Millisecond)
	select {
	case e := <-dangers.ch:
		t.Fatalf("Danger before the zone: %+v", e)
	case <-time.After(10 * time.Millisecond):
	}
	clk.Advance(time.Millisecond)
	var e lease.DangerEvent
	select {
	case e = <-dangers.ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no Danger while the renewal was unanswered")
	}
	if e.Left != dangerZone || !errors.Is(e.Err, context.DeadlineExceeded) || !strings.Contains(e.Err.Error(), "unanswered") {
		t.Fatalf("%+v, want %v left and the unanswered renewal", e, dangerZone)
	}
	// Sent again after the usual pause.
	clk.waitTimerAt(t, zone.Add(100*time.Millisecond))
	clk.Advance(100 * time.Millisecond)
	waitFor(t, func() bool { return c.ByOperation()["UpdateItem"] == 2 })
	if l.Err() != nil || renewed.Load() != 0 || lost.Load() != 0 || len(dangers.ch) != 0 || dangers.overflow.Load() != 0 {
		t.Fatalf("lease %v, %d renewed, %d lost, %d more Danger calls", l.Err(), renewed.Load(), lost.Load(), len(dangers.ch)+int(dangers.overflow.Load()))
	}
	rctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	l.Release(rctx) // held too: it fails, and the lease expires
}
