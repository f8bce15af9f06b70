package lease_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

func TestMain(m *testing.M) { ddblocal.RunTests(m) }

func newManager(t *testing.T, table string, optFns ...func(*lease.Options)) *lease.Manager {
	t.Helper()
	return managerOn(t, ddblocal.Client(t), table, optFns...)
}

// managerOn is lease.New through client, failing t on error.
func managerOn(t *testing.T, client lease.API, table string, optFns ...func(*lease.Options)) *lease.Manager {
	t.Helper()
	m, err := lease.New(client, table, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tableManager is managerOn on a table that it creates.
func tableManager(t *testing.T, client lease.API, table string, optFns ...func(*lease.Options)) *lease.Manager {
	t.Helper()
	m := managerOn(t, client, table, optFns...)
	if err := m.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

func setup(t *testing.T, optFns ...func(*lease.Options)) (*lease.Manager, string) {
	t.Helper()
	table := ddblocal.TableName(t)
	m := newManager(t, table, optFns...)
	if err := m.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.CreateTable(context.Background()); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
	return m, table
}

func TestAcquireRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, table := setup(t, func(o *lease.Options) { o.Duration = 2 * time.Second; o.Data = []byte("a") })
	b := newManager(t, table)

	l, err := a.Acquire(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	if l.Token() != 1 {
		t.Errorf("token %d, want 1", l.Token())
	}
	_, err = b.TryAcquire(ctx, "x")
	var he *lease.HeldError
	if !errors.Is(err, lease.ErrHeld) || !errors.As(err, &he) || he.Owner != a.Owner() || he.Token != 1 || string(he.Data) != "a" {
		t.Fatalf("TryAcquire of held: %v %+v", err, he)
	}
	st, err := b.Inspect(ctx, "x")
	if err != nil || !st.Held || st.Owner != a.Owner() || st.Token != 1 {
		t.Fatalf("Inspect: %+v %v", st, err)
	}
	if err := l.Release(ctx); err != nil || !errors.Is(l.Err(), lease.ErrReleased) {
		t.Fatalf("Release: %v, Err %v", err, l.Err())
	}
	released, _ := b.Inspect(ctx, "x")
	if err := l.Release(ctx); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if st, _ := b.Inspect(ctx, "x"); st.Held || st.Version != released.Version {
		t.Fatalf("second Release wrote: %+v after %+v", st, released)
	}
	select {
	case <-l.Context().Done():
	default:
		t.Fatal("Context not done after Release")
	}
	if l.Context().Err() == nil || !errors.Is(l.Err(), lease.ErrReleased) {
		t.Fatalf("after release: ctx %v err %v", l.Context().Err(), l.Err())
	}
	l2, err := b.TryAcquire(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	if l2.Token() <= l.Token() {
		t.Errorf("token %d after %d", l2.Token(), l.Token())
	}
	// The old lease cannot release b's.
	if err := l.Release(ctx); err != nil || !errors.Is(l.Err(), lease.ErrReleased) {
		t.Fatalf("stale Release: %v, Err %v", err, l.Err())
	}
	if st, _ := b.Inspect(ctx, "x"); st.Owner != b.Owner() {
		t.Fatalf("b's lease released by a: %+v", st)
	}
	l2.Release(ctx)
}

func TestBadOptions(t *testing.T) {
	t.Parallel()
	c := ddblocal.Client(t)
	for name, f := range map[string]func(*lease.Options){
		"zero duration":   func(o *lease.Options) { o.Duration = -1 },
		"heartbeat>=dur":  func(o *lease.Options) { o.Duration = time.Second; o.HeartbeatInterval = time.Second },
		"negative margin": func(o *lease.Options) { o.SafetyMargin = -1 },
		"margin too large": func(o *lease.Options) {
			o.Duration = 3 * time.Second
			o.HeartbeatInterval = time.Second
			o.SafetyMargin = 2 * time.Second
		},
		"poll > max":            func(o *lease.Options) { o.PollInterval = time.Second; o.MaxPollInterval = time.Millisecond },
		"zero poll":             func(o *lease.Options) { o.PollInterval = 0 },
		"negative skew":         func(o *lease.Options) { o.MaxClockSkew = -1 },
		"negative record TTL":   func(o *lease.Options) { o.RecordTTL = -1 },
		"record TTL < duration": func(o *lease.Options) { o.RecordTTL = time.Second },
		"empty owner":           func(o *lease.Options) { o.Owner = "" },
		"nil clock":             func(o *lease.Options) { o.Clock = nil },
		"repo guards": func(o *lease.Options) {
			o.Repo = append(o.Repo, repo.Guard(repo.Condition{Table: "t", Name: "g"}))
		},
	} {
		_, err := lease.New(c, "t", f)
		if !errors.Is(err, lease.ErrInvalidArgument) || !strings.HasPrefix(err.Error(), "lease: invalid argument: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := lease.New(nil, "t"); !errors.Is(err, lease.ErrInvalidArgument) {
		t.Errorf("nil client: %v", err)
	}
	if _, err := lease.New((*dynamodb.Client)(nil), "t"); !errors.Is(err, lease.ErrInvalidArgument) {
		t.Errorf("typed nil client: %v", err)
	}
	if _, err := lease.New(c, ""); !errors.Is(err, lease.ErrInvalidArgument) {
		t.Errorf("empty table name: %v", err)
	}
	// The defaults derived from Duration follow the Duration the functions set.
	m, err := lease.New(c, "leases", func(o *lease.Options) { o.Duration = 30 * time.Second; o.PollInterval = time.Second })
	if err != nil {
		t.Fatalf("derived defaults (HeartbeatInterval 10s, SafetyMargin 3s, MaxPollInterval 1s): %v", err)
	}
	if _, err := m.TryAcquire(context.Background(), "x", func(o *lease.AcquireOptions) { o.Duration = 0 }); !errors.Is(err, lease.ErrInvalidArgument) {
		t.Errorf("AcquireOptions.Duration 0: %v", err)
	}
}

func TestLocalQueueAndTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, _ := setup(t, func(o *lease.Options) { o.Duration = 2 * time.Second })
	const n, each = 4, 5
	tokens := make(chan int64, n*each)
	errc := make(chan error, n)
	inside := make(chan struct{}, 1)
	for range n {
		go func() {
			for range each {
				l, err := m.Acquire(ctx, "q")
				if err != nil {
					errc <- err
					return
				}
				select {
				case inside <- struct{}{}:
				default:
					errc <- errors.New("two holders at once")
					return
				}
				tokens <- l.Token()
				<-inside
				if err := l.Release(ctx); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range n {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	close(tokens)
	var last int64
	for tk := range tokens {
		if tk <= last {
			t.Fatalf("token %d after %d", tk, last)
		}
		last = tk
	}
}

func TestDo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, _ := setup(t)
	ran := false
	if err := m.Do(ctx, "job", func(ctx context.Context) error {
		l, ok := lease.FromContext(ctx)
		if !ok || l.Name() != "job" || l.Err() != nil {
			t.Errorf("FromContext in Do: %v %v", l, ok)
		}
		ran = true
		return nil
	}); err != nil || !ran {
		t.Fatal(err, ran)
	}
	// fn's context also ends with the caller's.
	cctx, cancel := context.WithCancel(ctx)
	err := m.Do(cctx, "job", func(ctx context.Context) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, lease.ErrLost) {
		t.Fatalf("Do with the caller's ctx cancelled: %v", err)
	}
	if st, _ := m.Inspect(ctx, "job"); st.Held {
		t.Fatalf("held after a cancelled Do: %+v", st)
	}
	if st, _ := m.Inspect(ctx, "job"); st.Held {
		t.Fatalf("held after Do: %+v", st)
	}
	want := errors.New("boom")
	if err := m.Do(ctx, "job", func(ctx context.Context) error { return want }); !errors.Is(err, want) {
		t.Fatal(err)
	}
	if err := m.Do(ctx, "job", nil); err == nil {
		t.Fatal("nil fn accepted")
	}
}
