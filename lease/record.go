package lease

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/ddbocc/ddbocc/internal/wait"
	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

// record is the stored form of a lease, one item per name.
type record struct {
	Name     string `dynamo:"name,hash"`
	Owner    string `dynamo:"owner"`       // "" when free
	Token    int64  `dynamo:"token"`       // version stored by the acquiring write: the fencing token
	Duration int64  `dynamo:"duration_ms"` // the holder's lease duration
	Expires  int64  `dynamo:"expires"`     // epoch seconds: the holder's estimate of its expiry (free: when released); for people and MaxClockSkew
	TTL      int64  `dynamo:"ttl"`         // epoch seconds: RecordTTL after the last write; the table's TTL attribute
	Data     []byte `dynamo:"data,omitempty"`
	// Stamp is a random id of the write that stored the record. A record
	// deleted and created anew starts again at version 1: with the version,
	// the stamp tells it from the one a waiter watched.
	Stamp string `dynamo:"stamp,omitempty"`
	// The completion mark of the name's work ([Lease.ReleaseDone],
	// [Manager.Once]): the owner and token of the lease that stored it, and
	// when (epoch milliseconds, that Manager's clock). Stored by a release
	// write; every later write copies it, as it copies the whole record.
	DoneBy    string `dynamo:"done_by,omitempty"`
	DoneToken int64  `dynamo:"done_token,omitempty"`
	DoneAt    int64  `dynamo:"done_at_ms,omitempty"`
	// A free record may be reserved for the waiter of another process
	// (fair.go): others take it only once they have seen it unchanged for
	// ReservedMs.
	ReservedFor string `dynamo:"reserved_for,omitempty"`
	ReservedMs  int64  `dynamo:"reserved_ms,omitempty"`
	// The holder's forecast (pace.go): when its acquiring write was sent
	// (epoch milliseconds, its wall clock), and between which offsets from
	// then (milliseconds) it expects to release; zero without one. Waiters
	// pace their polls by it.
	Since       int64 `dynamo:"since_ms,omitempty"`
	ReleaseFrom int64 `dynamo:"release_from_ms,omitempty"`
	ReleaseTo   int64 `dynamo:"release_to_ms,omitempty"`
	Version     int64 `dynamo:"version"` // bumped by every acquire, heartbeat and release
}

// reservedElse reports whether r is free but reserved for an owner other
// than me.
func (r record) reservedElse(me string) bool {
	return r.Owner == "" && r.ReservedFor != "" && r.ReservedFor != me
}

// holdFor is how long a waiter must see r unchanged before taking it over:
// the holder's duration, or the reservation's.
func (r record) holdFor() time.Duration {
	if r.Owner == "" {
		return time.Duration(r.ReservedMs) * time.Millisecond
	}
	return r.duration()
}

// taken is r as an acquiring write of owner for the given duration and
// data stores it (its version is the token): held, no longer reserved,
// without a forecast (the caller adds its own: expecting).
func (r record) taken(owner string, d time.Duration, data []byte) record {
	r.Owner, r.Token = owner, r.Version+1
	r.Duration, r.Data = d.Milliseconds(), data
	r.ReservedFor, r.ReservedMs = "", 0
	r.Since, r.ReleaseFrom, r.ReleaseTo = 0, 0, 0
	return r
}

// released is r as a release at now stores it: free, without data,
// reserved for no one, without a forecast.
func (r record) released(now time.Time) record {
	r.Owner, r.Data, r.Expires = "", nil, now.Unix()
	r.ReservedFor, r.ReservedMs = "", 0
	r.Since, r.ReleaseFrom, r.ReleaseTo = 0, 0, 0
	return r
}

// Attribute names of the record, for conditions built by hand.
const (
	attrName  = "name"
	attrOwner = "owner"
	attrToken = "token"
	attrTTL   = "ttl"
)

// duration is the holder's lease duration.
func (r record) duration() time.Duration { return time.Duration(r.Duration) * time.Millisecond }

// done reports whether r carries a completion mark.
func (r record) done() bool { return r.DoneBy != "" }

// doneAt is when r's completion mark was stored; zero without one.
func (r record) doneAt() time.Time {
	if !r.done() {
		return time.Time{}
	}
	return time.UnixMilli(r.DoneAt)
}

// expires is the expiry written into a record by a holder of a lease of
// duration d whose write is sent at now: rounded up to whole seconds.
func expires(now time.Time, d time.Duration) int64 {
	return now.Add(d + time.Second - 1).Unix()
}

// store is what a Manager and its leases need of each other: the lease
// table's records, the owner id written into them, the clock and the
// observer. A Manager and every lease it hands out share one; a lease
// knows nothing else of its Manager.
type store struct {
	recs      *repo.Repository[record]
	client    repo.API          // for the waiter slot (fair.go), which is no field of record
	schema    *versioned.Schema // record's, to decode what the waiter slot's writes return
	table     string
	owner     string
	recordTTL time.Duration
	clock     retry.Clock
	observer  Observer
	holds     holdStats // the Manager's holds per name, for forecasts (pace.go)
}

// sending is rec as an acquiring write for duration d sent at sent stores
// it: its expiry, and the Manager's forecast of its hold.
func (s *store) sending(rec record, sent time.Time, d time.Duration) record {
	rec.Expires = expires(sent, d)
	return rec.expecting(sent, s.holds.of(rec.Name))
}

// get reads name's record; a missing record is a free one at version 0.
func (s *store) get(ctx context.Context, name string) (record, error) {
	cur, err := s.recs.Get(ctx, repo.Key(name))
	if errors.Is(err, repo.ErrNotFound) {
		return record{Name: name}, nil
	}
	return cur, err
}

// save stores rec on condition of its version (repo's Save), with its TTL
// attribute set RecordTTL from now and a fresh stamp: every write of a
// record goes through it, so TTL never collects a record written less than
// RecordTTL ago, and no two writes store the same stamp.
func (s *store) save(ctx context.Context, rec record) (record, error) {
	return s.recs.Save(ctx, s.stamped(rec))
}

// stamped is rec as a write stores it: its TTL attribute set RecordTTL
// from now and a fresh stamp. Every write of a record goes through it.
func (s *store) stamped(rec record) record {
	rec.TTL = s.clock.Now().Add(s.recordTTL).Unix()
	rec.Stamp = rand.Text()
	return rec
}

// within returns a context that is also cancelled, with cause
// context.DeadlineExceeded, once d has passed on the store's clock, and the
// function that releases its timer.
func (s *store) within(ctx context.Context, d time.Duration) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := s.clock.AfterFunc(d, func() { cancel(context.DeadlineExceeded) })
	return ctx, func() {
		stop()
		cancel(context.Canceled)
	}
}

// sleep waits d on the store's clock, or until ctx is done: it then
// returns ctx's error.
func (s *store) sleep(ctx context.Context, d time.Duration) error {
	return wait.Sleep(ctx, s.clock.AfterFunc, d)
}
