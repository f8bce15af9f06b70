package lease_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// rawRecord mirrors the stored lease record, so that tests can write records
// the way another (or a misbehaving) owner would.
type rawRecord struct {
	Name     string `dynamo:"name,hash"`
	Owner    string `dynamo:"owner"`
	Token    int64  `dynamo:"token"`
	Duration int64  `dynamo:"duration_ms"`
	Expires  int64  `dynamo:"expires"`
	TTL      int64  `dynamo:"ttl"`
	Version  int64  `dynamo:"version"`
}

func rawRecords(t *testing.T, table string) *repo.Repository[rawRecord] {
	t.Helper()
	r, err := repo.New[rawRecord](ddblocal.Client(t), table)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// droppingManager returns a Manager, with its lease table created, whose
// requests go through a faults.Link transport that fails failGets
// reads after each response it drops, with the SDK's own retries off.
func droppingManager(t *testing.T, failGets int64, optFns ...func(*lease.Options)) (*lease.Manager, *faults.Link) {
	t.Helper()
	d := faults.NewLink(nil)
	d.ReadsAfterDrop = failGets
	client := ddblocal.NewClient(ddblocal.Endpoint(t), d.Option(), func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	return tableManager(t, client, ddblocal.TableName(t), optFns...), d
}

// oneResolvingRead gives a call two attempts: a create whose response was
// lost is resolved by one read in the second attempt and one more when the
// call gives up (with droppingManager(t, 2, ...) both fail, and the outcome
// is unknown); a renewal or release is sent a second time on the same base
// and read once when the call gives up.
func oneResolvingRead(o *lease.Options) {
	o.Repo = append(o.Repo, func(r *repo.Options) { r.Retry.MaxAttempts = 2 })
}

// An acquiring write whose outcome is unknown (response lost, and the read
// that should tell fails too) was stored: Acquire recognises the record as
// its own at its next read and takes it again at once (one more write, not
// a lease duration's wait for its own record); TryAcquire reports the
// unknown outcome and the next TryAcquire does the same.
func TestAcquireOutcomeUnknown(t *testing.T) {
	t.Parallel()
	for _, try := range []bool{false, true} {
		t.Run(map[bool]string{false: "Acquire", true: "TryAcquire"}[try], func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var acquired []lease.AcquiredEvent
			m, d := droppingManager(t, 2, oneResolvingRead, func(o *lease.Options) {
				o.PollInterval = 10 * time.Millisecond
				o.Observer.Acquired = func(e lease.AcquiredEvent) { acquired = append(acquired, e) }
			})
			var err error
			d.DropWrites(1)
			writes0 := d.Writes()
			var l *lease.Lease
			if try {
				if _, err := m.TryAcquire(ctx, "u"); !errors.Is(err, repo.ErrOutcomeUnknown) {
					t.Fatalf("TryAcquire: %v, want ErrOutcomeUnknown", err)
				}
				// Another duration this time: the record must carry it, as
				// waiters take over by the stored duration.
				l, err = m.TryAcquire(ctx, "u", func(o *lease.AcquireOptions) { o.Duration = 5 * time.Second })
				if st, _ := m.Inspect(ctx, "u"); err == nil && st.Duration != 5*time.Second {
					t.Fatalf("record duration %v after a TryAcquire for 5s", st.Duration)
				}
			} else {
				l, err = m.Acquire(ctx, "u")
			}
			if err != nil {
				t.Fatal(err)
			}
			defer l.Release(ctx)
			if d.Dropped() != 1 || d.Writes()-writes0 != 2 || l.Token() != 2 || len(acquired) != 1 || acquired[0].Takeover {
				t.Fatalf("%d dropped, %d writes, token %d, acquisitions %+v; want 1, 2, 2 and one that is not a takeover",
					d.Dropped(), d.Writes()-writes0, l.Token(), acquired)
			}
			if err := l.Release(ctx); err != nil || !errors.Is(l.Err(), lease.ErrReleased) {
				t.Fatalf("Release: %v, Err %v", err, l.Err())
			}
		})
	}
}

// A renewal that DynamoDB stored but whose response was lost is recognised
// by its write id: the lease stays held, and the next renewal goes on from
// the stored version.
func TestRenewalResponseLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	var renewed atomic.Int64
	m, d := droppingManager(t, 0, slowBeats(clk), func(o *lease.Options) {
		o.Observer.Renewed = func(lease.RenewedEvent) { renewed.Add(1) }
	})
	l, err := m.Acquire(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	for i, drop := range []bool{true, true, false} {
		if drop {
			d.DropWrites(1)
		}
		clk.waitTimers(t, 1)
		clk.Advance(10 * time.Second)
		waitFor(t, func() bool { return renewed.Load() == int64(i+1) || l.Err() != nil })
		if err := l.Err(); err != nil {
			t.Fatalf("renewal %d (response dropped: %v): lease lost: %v", i+1, drop, err)
		}
		st, err := m.Inspect(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(i + 2); st.Version != want || st.Token != 1 || !st.Mine {
			t.Fatalf("after renewal %d: %+v, want version %d token 1", i+1, st, want)
		}
	}
	if got := d.Dropped(); got != 2 {
		t.Fatalf("%d responses dropped, want 2", got)
	}
	if err := l.Release(ctx); err != nil || !errors.Is(l.Err(), lease.ErrReleased) {
		t.Fatalf("Release: %v, Err %v", err, l.Err())
	}
}

// MaxClockSkew lets a waiter take over at once a record whose stored expiry
// is older than now minus the skew; without it, or for a younger expiry,
// the record is held.
func TestMaxClockSkew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	plain, table := setup(t)
	raw := rawRecords(t, table)
	now := time.Now()
	for name, exp := range map[string]time.Time{"old": now.Add(-time.Minute), "recent": now.Add(-5 * time.Second), "live": now.Add(time.Hour)} {
		if _, err := raw.Create(ctx, rawRecord{Name: name, Owner: "ghost", Token: 1, Duration: 2000, Expires: exp.Unix()}); err != nil {
			t.Fatal(err)
		}
	}
	var takeovers atomic.Int64
	skew := newManager(t, table, func(o *lease.Options) {
		o.MaxClockSkew = 10 * time.Second
		o.Observer.Acquired = func(e lease.AcquiredEvent) {
			if e.Takeover {
				takeovers.Add(1)
			}
		}
	})
	if _, err := plain.TryAcquire(ctx, "old"); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("without MaxClockSkew, a first look at an expired record: %v, want ErrHeld", err)
	}
	for _, name := range []string{"recent", "live"} {
		var he *lease.HeldError
		if _, err := skew.TryAcquire(ctx, name); !errors.As(err, &he) || he.Owner != "ghost" {
			t.Fatalf("%s: %v, want held by ghost", name, err)
		}
	}
	l, err := skew.TryAcquire(ctx, "old")
	if err != nil {
		t.Fatalf("expired beyond the skew: %v", err)
	}
	defer l.Release(ctx)
	if l.Token() != 2 || takeovers.Load() != 1 {
		t.Fatalf("token %d, %d takeovers; want 2 and 1", l.Token(), takeovers.Load())
	}
	// The record is kept RecordTTL (7 days) after the write, whatever its
	// holder's expiry: TTL must not collect a held record and restart its
	// tokens.
	got, err := raw.Get(ctx, repo.Key("old"))
	if err != nil || got.TTL < time.Now().Add(7*24*time.Hour-time.Minute).Unix() {
		t.Fatalf("ttl %v after the takeover (%v), want 7 days ahead", time.Unix(got.TTL, 0), err)
	}
}

// Do's fn runs with a context cancelled when the lease is lost, and Do
// returns fn's error joined with the loss, whose reason tells a theft from
// a release by someone else.
func TestDoCancelledOnLoss(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		owner  string // written into the record by "someone else"
		reason lease.Reason
	}{
		{"taken over", "thief", lease.TakenOver},
		{"released elsewhere", "", lease.ReleasedElsewhere},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clk := newFakeClock()
			m, table := setup(t, slowBeats(clk))
			raw := rawRecords(t, table)
			started := make(chan struct{})
			done := make(chan error, 1)
			go func() {
				done <- m.Do(ctx, "job", func(ctx context.Context) error {
					close(started)
					<-ctx.Done()
					return ctx.Err()
				})
			}()
			select {
			case <-started:
			case <-time.After(10 * time.Second):
				t.Fatal("fn not started")
			}
			if _, err := raw.Update(ctx, repo.Key("job"), func(r *rawRecord) error { r.Owner = tc.owner; return nil }); err != nil {
				t.Fatal(err)
			}
			clk.waitTimers(t, 1)
			clk.Advance(10 * time.Second)
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Do did not return after the loss")
			}
			var le *lease.LostError
			if !errors.Is(err, context.Canceled) || !errors.Is(err, lease.ErrLost) || !errors.As(err, &le) ||
				le.Reason != tc.reason || le.Owner != tc.owner || le.Name != "job" || le.Token != 1 {
				t.Fatalf("Do: %v (%+v)", err, le)
			}
			// Do's Release did not touch the record it no longer held.
			st, err := m.Inspect(ctx, "job")
			if err != nil || st.Owner != tc.owner || st.Version != 2 {
				t.Fatalf("record after Do: %+v %v", st, err)
			}
		})
	}
}

// A local Release hands the stored record to the next local waiter: the
// hand-over costs the release write and the acquiring write, no read.
func TestLocalHandoverRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &ddblocal.RequestCounter{}
	m, _ := countedManager(t, c)
	first, err := m.Acquire(ctx, "h")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *lease.Lease, 1)
	go func() {
		l, err := m.Acquire(ctx, "h")
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	time.Sleep(50 * time.Millisecond) // the waiter is queued locally, sending nothing
	c.Reset()
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	var second *lease.Lease
	select {
	case second = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("local waiter not handed the lease")
	}
	if second == nil {
		t.FailNow()
	}
	defer second.Release(ctx)
	ops := c.ByOperation()
	if c.Count() != 2 || ops["UpdateItem"] != 2 {
		t.Fatalf("hand-over sent %v, want 2 UpdateItem", ops)
	}
	if second.Token() != first.Token()+2 {
		t.Fatalf("token %d after %d (release is one version)", second.Token(), first.Token())
	}
}

// A lease table whose TTL is on another attribute is refused: TTL there
// could collect held records and restart their tokens.
func TestCreateTableTTLMismatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	table := ddblocal.TableName(t)
	if err := rawRecords(t, table).CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := ddblocal.Client(t).UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expires"), Enabled: aws.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := newManager(t, table).CreateTable(ctx); !errors.Is(err, repo.ErrTableMismatch) || !strings.Contains(err.Error(), `"expires"`) {
		t.Fatalf("CreateTable over TTL on expires: %v", err)
	}
}

// A renewal whose outcome is unknown (responses lost, resolving read failed)
// but which was stored leaves the record one version ahead of what the
// holder knows: the next renewal, or Release, recognises the record as its
// own (same owner and token) and goes on from it instead of reporting a
// takeover by itself.
func TestRenewalOutcomeUnknown(t *testing.T) {
	t.Parallel()
	for _, release := range []bool{false, true} {
		t.Run(map[bool]string{false: "renew again", true: "release"}[release], func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clk := newFakeClock()
			var renewed atomic.Int64
			m, d := droppingManager(t, 1, oneResolvingRead, slowBeats(clk), func(o *lease.Options) {
				o.Observer.Renewed = func(lease.RenewedEvent) { renewed.Add(1) }
			})
			l, err := m.Acquire(ctx, "u")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Release(ctx)
			// Three responses lost: the renewal (stored) and its sendings
			// again on the same base, at once and in the second attempt
			// (refused: the first landed); then the resolving read fails.
			d.DropWrites(3)
			clk.waitTimers(t, 1)
			clk.Advance(10 * time.Second)
			// The renewal is stored, its outcome unknown; the heartbeat waits
			// to retry.
			waitFor(t, func() bool { return d.Dropped() == 3 && d.ReadsToFail() == 0 && clk.pending() == 1 })
			if release {
				if err := l.Release(ctx); err != nil || !errors.Is(l.Err(), lease.ErrReleased) {
					t.Fatalf("Release after a renewal of unknown outcome: %v (%v)", err, l.Err())
				}
				if st, err := m.Inspect(ctx, "u"); err != nil || st.Held || st.Version != 3 {
					t.Fatalf("after Release: %+v %v", st, err)
				}
				return
			}
			for renewed.Load() == 0 && l.Err() == nil {
				clk.waitTimers(t, 1)
				clk.Advance(100 * time.Millisecond)
				time.Sleep(time.Millisecond)
			}
			if err := l.Err(); err != nil {
				t.Fatalf("lease lost after a renewal of unknown outcome: %v", err)
			}
			if st, err := m.Inspect(ctx, "u"); err != nil || !st.Mine || st.Version != 3 || st.Token != 1 {
				t.Fatalf("after the renewals: %+v %v", st, err)
			}
		})
	}
}

// A Release whose outcome is unknown (response lost, resolving read failed)
// reads the record once more: stored and free, it reports the release.
func TestReleaseOutcomeUnknown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, d := droppingManager(t, 1, oneResolvingRead)
	l, err := m.Acquire(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	d.DropWrites(1)
	if err := l.Release(ctx); err != nil || !errors.Is(l.Err(), lease.ErrReleased) {
		t.Fatalf("Release: %v, Err %v; want nil, ErrReleased", err, l.Err())
	}
	if st, err := m.Inspect(ctx, "r"); err != nil || st.Held || st.Version != 2 || d.Dropped() != 1 {
		t.Fatalf("record %+v (%v), %d dropped; want free at version 2 after one dropped response", st, err, d.Dropped())
	}
}
