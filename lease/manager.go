package lease

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/turns"
	"github.com/ddbocc/ddbocc/repo"
)

// API is the part of the DynamoDB client a [Manager] uses: the repository's
// calls and the two TTL calls of [Manager.CreateTable]. A *dynamodb.Client
// satisfies it.
type API interface {
	repo.API
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
}

// Manager acquires leases stored in one table. It is safe for concurrent
// use; share one per table and process, so that its goroutines waiting for
// the same name queue locally.
type Manager struct {
	client API
	table  string
	opts   Options
	recs   *repo.Repository[record]

	mu      sync.Mutex
	watched map[string]watch   // held records seen by a waiter: version and when first seen
	unsure  map[string][]int64 // tokens of acquiring writes whose outcome is unknown, per name

	// queue is the local queue per name: one goroutine at a time waits for
	// or holds a name; a Release hands the record it stored to the next.
	queue turns.Set[*record]
}

// watch is a held record as first seen by this process.
type watch struct {
	version int64
	since   time.Time // monotonic, taken after the read returned
}

// New returns a Manager of the leases in table. It validates the options
// (errors match [ErrInvalidOption]) and sends no request. It does not block.
func New(client API, table string, optFns ...func(*Options)) (*Manager, error) {
	var o Options
	for _, f := range optFns {
		f(&o)
	}
	o.fill()
	if err := o.validate(); err != nil {
		return nil, err
	}
	if client == nil {
		return nil, fmt.Errorf("%w: nil client", ErrInvalidOption)
	}
	r, err := repo.New[record](client, table, o.Repo...)
	if err != nil {
		return nil, err
	}
	return &Manager{client: client, table: table, opts: o, recs: r,
		watched: map[string]watch{}, unsure: map[string][]int64{}}, nil
}

// Owner returns the owner id this Manager writes into records. Safe for
// concurrent use.
func (m *Manager) Owner() string { return m.opts.Owner }

// Table returns the lease table's name.
func (m *Manager) Table() string { return m.table }

// CreateTable creates the lease table (on-demand billing) if it does not
// exist, waits until it is active, and enables TTL on the "ttl" attribute
// (see Options.RecordTTL). It is idempotent and blocks until done or ctx is done. Safe for
// concurrent use.
func (m *Manager) CreateTable(ctx context.Context) error {
	if err := m.recs.CreateTable(ctx); err != nil {
		return err
	}
	d, err := m.client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(m.table)})
	if err != nil {
		return fmt.Errorf("lease: describe TTL of %s: %w", m.table, err)
	}
	if t := d.TimeToLiveDescription; t != nil && (t.TimeToLiveStatus == types.TimeToLiveStatusEnabled || t.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		if a := aws.ToString(t.AttributeName); a != attrTTL {
			// Another attribute would let TTL delete held records and
			// restart their tokens.
			return fmt.Errorf("%w: lease table %s has TTL on attribute %q, want %q", repo.ErrTableMismatch, m.table, a, attrTTL)
		}
		return nil
	}
	_, err = m.client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(m.table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrTTL), Enabled: aws.Bool(true)},
	})
	if err != nil {
		// A concurrent CreateTable may have enabled it first.
		if d, err2 := m.client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(m.table)}); err2 == nil &&
			d.TimeToLiveDescription != nil && d.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusDisabled {
			return nil
		}
		return fmt.Errorf("lease: enable TTL on %s: %w", m.table, err)
	}
	return nil
}

// acquireOptions checks ctx and returns the options of one Acquire or
// TryAcquire.
func (m *Manager) acquireOptions(ctx context.Context, fns []func(*AcquireOptions)) (AcquireOptions, error) {
	if ctx == nil {
		panic("lease: nil context")
	}
	ao := AcquireOptions{Duration: m.opts.Duration, Data: m.opts.Data}
	for _, f := range fns {
		f(&ao)
	}
	if ao.Duration <= 0 {
		return ao, fmt.Errorf("%w: AcquireOptions.Duration %v must be > 0", ErrInvalidOption, ao.Duration)
	}
	return ao, nil
}

// TryAcquire makes one attempt to acquire name. A missing or free record is
// taken; a record held by another owner is taken over only if this Manager
// has already watched its version stay unchanged for a full lease duration
// (or, with Options.MaxClockSkew, its stored expiry is long past).
// Otherwise it returns an error matching [ErrHeld], a [*HeldError] naming
// the holder. A name held by another goroutine of this Manager is also
// ErrHeld. If the acquiring write's outcome is unknown, the error matches
// repo.ErrOutcomeUnknown; the next TryAcquire or Acquire of the name
// through this Manager recognises the record if it was stored and takes it
// again at once. TryAcquire blocks for one or two requests; cancelling ctx stops
// it. Safe for concurrent use.
func (m *Manager) TryAcquire(ctx context.Context, name string, optFns ...func(*AcquireOptions)) (*Lease, error) {
	ao, err := m.acquireOptions(ctx, optFns)
	if err != nil {
		return nil, err
	}
	start := m.opts.Clock.Now()
	turn, ok := m.queue.Try(name)
	if !ok {
		return nil, &HeldError{Name: name, Owner: m.opts.Owner}
	}
	l, _, err := m.attempt(ctx, name, ao, start, turn)
	if err != nil {
		turn.End(nil)
		return nil, err
	}
	return l, nil
}

// Acquire blocks until it holds name or ctx is done (then it returns
// ctx's error). Goroutines of one Manager waiting for the same name queue
// locally: one polls DynamoDB, and a local release hands the name over at
// once. A record held by another owner is taken over after this Manager has
// seen it unchanged for a full lease duration on its own monotonic clock.
//
// An acquiring write whose outcome is unknown (its response was lost and
// the read that should have told failed too) is not an error: the next
// read recognises the record, if it was stored, as this Manager's (this
// owner, the token it tried to write) and takes it again at once instead
// of waiting a lease duration for its own record. Errors other than
// the record being held (DynamoDB unreachable beyond the Repo retry
// policy, a missing table) are returned. Safe for concurrent use.
func (m *Manager) Acquire(ctx context.Context, name string, optFns ...func(*AcquireOptions)) (*Lease, error) {
	ao, err := m.acquireOptions(ctx, optFns)
	if err != nil {
		return nil, err
	}
	start := m.opts.Clock.Now()
	turn, err := m.queue.Wait(ctx, name)
	if err != nil {
		return nil, err
	}
	poll := m.opts.PollInterval
	for {
		l, wait, err := m.attempt(ctx, name, ao, start, turn)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, ErrHeld) && !errors.Is(err, repo.ErrConflict) && !errors.Is(err, repo.ErrAlreadyExists) && !errors.Is(err, repo.ErrOutcomeUnknown) {
			turn.End(nil)
			return nil, err
		}
		d := jitter(poll)
		if wait > 0 && wait < d {
			d = wait
		}
		poll = min(2*poll, m.opts.MaxPollInterval)
		if !sleep(m.opts.Clock, d, ctx.Done()) {
			turn.End(nil)
			return nil, ctx.Err()
		}
	}
}

// jitter returns a duration uniformly in [d/2, d].
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// unsureStored reports whether cur was stored by one of this Manager's
// acquiring writes of name whose outcome was unknown (m.unsure holds their
// tokens). Such a write leaves the record with this Manager's owner and
// Token and Version both the token; no other write leaves that state (a
// lease of this Manager lost earlier has a smaller token). It forgets the
// tokens that cur shows can no longer be stored (the version moved past
// them). The caller has the turn on name.
func (m *Manager) unsureStored(name string, cur record) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := m.unsure[name][:0]
	found := false
	for _, token := range m.unsure[name] {
		switch {
		case cur.Owner == m.opts.Owner && cur.Token == token && cur.Version == token:
			found = true
		case token > cur.Version:
			kept = append(kept, token)
		}
	}
	if found || len(kept) == 0 {
		delete(m.unsure, name)
	} else {
		m.unsure[name] = kept
	}
	return found
}

// attempt reads name's record (or starts from the one a local Release
// handed over) and takes it if it may. A record stored by an earlier
// acquiring write of this Manager whose outcome was unknown is taken up as
// it is. On ErrHeld it also returns how long until the record would be
// stale (0 if unknown). turn is the caller's turn on name.
func (m *Manager) attempt(ctx context.Context, name string, ao AcquireOptions, start time.Time, turn *turns.Turn[*record]) (*Lease, time.Duration, error) {
	clk := m.opts.Clock
	var cur record
	if f := turn.Take(); f != nil {
		cur = *f
	} else {
		var err error
		cur, err = m.recs.Get(ctx, repo.Key(name))
		if errors.Is(err, repo.ErrNotFound) {
			cur, err = record{Name: name}, nil
		}
		if err != nil {
			return nil, 0, err
		}
	}
	// A record stored by one of this Manager's acquiring writes whose
	// outcome was unknown is held by no one: no lease was handed out for
	// it. It is taken again at once with a fresh write, so that the new
	// lease's token, duration and data are this call's and its safe time
	// starts now.
	unheld := m.unsureStored(name, cur)
	for try := 0; ; try++ {
		seen := clk.Now() // after the read returned
		takeover := false
		if cur.Owner != "" && !unheld {
			stale, wait := m.stale(name, cur, seen)
			if !stale {
				return nil, wait, heldBy(cur)
			}
			takeover = true
		}
		next := cur
		next.Owner = m.opts.Owner
		next.Token = cur.Version + 1
		next.Duration = ao.Duration.Milliseconds()
		next.Data = ao.Data
		sent := clk.Now()
		next.Expires = expires(time.Now(), ao.Duration)
		stored, err := m.save(ctx, next)
		var ce *repo.ConflictError[record]
		if errors.As(err, &ce) {
			if ce.Current.Owner == "" && try == 0 {
				// Released (or its version moved) since we read it: take the
				// record the failed write returned.
				cur = ce.Current
				continue
			}
			// Someone else wrote first: report them as the holder.
			return nil, 0, heldBy(ce.Current)
		}
		if errors.Is(err, repo.ErrNotFound) && try == 0 {
			// Deleted since we read it (TTL, or by hand): create it.
			cur = record{Name: name}
			continue
		}
		if errors.Is(err, repo.ErrOutcomeUnknown) {
			m.mu.Lock()
			m.unsure[name] = append(m.unsure[name], next.Token)
			m.mu.Unlock()
			return nil, 0, err
		}
		if err != nil {
			return nil, 0, err
		}
		if stored.Token != stored.Version {
			// Cannot happen: Save stores Version+1.
			return nil, 0, fmt.Errorf("lease: %q stored token %d at version %d", name, stored.Token, stored.Version)
		}
		return m.acquired(stored, ao, sent, start, takeover, turn), 0, nil
	}
}

// acquired starts the lease of stored record rec, whose acquiring write was
// sent at sent, and tells the observer. The lease keeps turn until it ends.
func (m *Manager) acquired(rec record, ao AcquireOptions, sent, start time.Time, takeover bool, turn *turns.Turn[*record]) *Lease {
	m.mu.Lock()
	delete(m.watched, rec.Name)
	m.mu.Unlock()
	l := m.newLease(rec, ao, sent, turn)
	if f := m.opts.Observer.Acquired; f != nil {
		f(AcquiredEvent{Name: rec.Name, Token: rec.Token, Takeover: takeover, Waited: m.opts.Clock.Now().Sub(start)})
	}
	return l
}

func heldBy(r record) *HeldError {
	return &HeldError{Name: r.Name, Owner: r.Owner, Token: r.Token, Expires: time.Unix(r.Expires, 0), Data: r.Data}
}

// stale says whether held record cur, read at seen, may be taken over, and
// if not, how long until it might be.
func (m *Manager) stale(name string, cur record, seen time.Time) (bool, time.Duration) {
	dur := time.Duration(cur.Duration) * time.Millisecond
	if m.opts.MaxClockSkew > 0 && time.Unix(cur.Expires, 0).Before(time.Now().Add(-m.opts.MaxClockSkew)) {
		return true, 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.watched[name]
	if !ok || w.version != cur.Version {
		m.watched[name] = watch{version: cur.Version, since: seen}
		return false, dur
	}
	if el := seen.Sub(w.since); el < dur {
		return false, dur - el
	}
	return true, 0
}

// save stores rec on condition of its version (repo's Save), with its TTL
// attribute set RecordTTL from now: every write of a record goes through
// it, so TTL never collects a record written less than RecordTTL ago.
func (m *Manager) save(ctx context.Context, rec record) (record, error) {
	rec.TTL = time.Now().Add(m.opts.RecordTTL).Unix()
	return m.recs.Save(ctx, rec)
}

func expires(now time.Time, d time.Duration) int64 {
	return now.Add(d + time.Second - 1).Unix()
}

// Do acquires name (blocking like [Manager.Acquire]), runs fn with a
// context that is cancelled if the lease is lost (or ctx is done), and
// releases the lease. fn gets the lease itself, to guard its writes, from
// [FromContext]. It returns fn's error, joined with the [*LostError] if the
// lease was lost while fn ran. A nil fn is an error. Safe for concurrent
// use.
func (m *Manager) Do(ctx context.Context, name string, fn func(ctx context.Context) error, optFns ...func(*AcquireOptions)) error {
	if fn == nil {
		return fmt.Errorf("%w: nil fn", ErrInvalidOption)
	}
	l, err := m.Acquire(ctx, name, optFns...)
	if err != nil {
		return err
	}
	// fn's ctx ends with the caller's ctx or the lease, whichever first.
	fctx, cancel := context.WithCancel(context.WithValue(ctx, leaseKey{}, l))
	stop := context.AfterFunc(l.Context(), cancel)
	ferr := fn(fctx)
	stop()
	cancel()
	_, rerr := l.Release(context.WithoutCancel(ctx))
	if lerr := l.lostErr(); lerr != nil {
		return errors.Join(ferr, lerr)
	}
	if ferr != nil {
		return ferr
	}
	return rerr
}

// Status is a lease record as read by [Manager.Inspect].
type Status struct {
	Name    string
	Held    bool   // an owner is recorded (it may have stopped renewing)
	Owner   string // "" when free
	Mine    bool   // Owner is this Manager
	Token   int64
	Version int64
	// Duration is the holder's lease duration.
	Duration time.Duration
	// Expires is the holder's estimate of its expiry, from its wall clock:
	// informative only, never used for takeover (unless MaxClockSkew).
	Expires time.Time
	Data    []byte
	Exists  bool // a record is stored
}

// Inspect reads name's record with a strongly consistent read. It blocks
// for one request; cancelling ctx stops it. Safe for concurrent use.
func (m *Manager) Inspect(ctx context.Context, name string) (Status, error) {
	cur, err := m.recs.Get(ctx, repo.Key(name))
	if errors.Is(err, repo.ErrNotFound) {
		return Status{Name: name}, nil
	}
	if err != nil {
		return Status{}, err
	}
	return Status{Name: name, Held: cur.Owner != "", Owner: cur.Owner, Mine: cur.Owner == m.opts.Owner,
		Token: cur.Token, Version: cur.Version, Duration: time.Duration(cur.Duration) * time.Millisecond,
		Expires: time.Unix(cur.Expires, 0), Data: cur.Data, Exists: true}, nil
}
