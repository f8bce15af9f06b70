package lease

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
)

// Options configure a [Manager]. [New] starts from the defaults given
// below, applies the functions passed to it, fills in the fields whose
// default derives from other fields (those still zero), and validates the
// result: a bad value is an error matching [ErrInvalidArgument].
type Options struct {
	// Duration is how long a lease lasts without renewal, and how long a
	// waiter must see a held record unchanged before taking it over.
	// Default 10s.
	Duration time.Duration

	// HeartbeatInterval is the time between renewals of a held lease. It
	// must be less than Duration. Zero (the default) means Duration/3.
	HeartbeatInterval time.Duration

	// SafetyMargin is subtracted from a renewal's send time plus Duration to
	// get the safe time, after which a holder that could not renew declares
	// its lease lost. It covers clock-rate differences between hosts and
	// the time to notice. It must be >= 0 and less than
	// Duration-HeartbeatInterval. Zero (the default) means Duration/10.
	SafetyMargin time.Duration

	// PollInterval is a waiter's first delay between reads of a held
	// record; delays double (with jitter) up to MaxPollInterval. Only one
	// goroutine per name and Manager polls; the others queue locally.
	// A holder whose holds of the name last about the same stores a
	// forecast of its release in the record, and a waiter then polls every
	// 250ms until the forecast band and densely inside it, for no more
	// polls in all than every MaxPollInterval (docs/leases.md, "Polls
	// paced by the holder's forecast"). PollInterval defaults to 50ms and
	// must be > 0; MaxPollInterval must be >= PollInterval, and zero (the
	// default) means the larger of 100ms and PollInterval.
	PollInterval    time.Duration
	MaxPollInterval time.Duration

	// Owner identifies this Manager in lease records. Default
	// "host-pid-random". Two Managers must never share an Owner.
	Owner string

	// Data is stored with every lease this Manager acquires (per call:
	// [AcquireOptions].Data). Default none.
	Data []byte

	// MaxClockSkew, if > 0, lets Acquire and TryAcquire take over at once a
	// held record whose stored expiry (the holder's wall clock) is older
	// than now minus MaxClockSkew, instead of watching it for a full
	// Duration. Only safe if host clocks agree within MaxClockSkew. Default
	// 0: off.
	MaxClockSkew time.Duration

	// RecordTTL is how long a record is kept after its last write (acquire,
	// renewal or release) before the table's TTL may collect it, so that
	// names no longer used go away. A collected name starts its tokens
	// again at 1. It must be more than Duration; default 7 days.
	RecordTTL time.Duration

	// Clock is the time source, for both the durations measured on the
	// monotonic clock (heartbeats, safe times, takeovers) and the wall
	// times stored in records (expiry, TTL). Tests inject a fake one.
	// Default [retry.SystemClock].
	Clock retry.Clock

	// Observer is told of acquisitions, renewals and losses. Default none.
	Observer Observer

	// Repo configures the repository of lease records (retry policy,
	// observer). It must not add Guards: lease writes are not guarded.
	Repo []func(*repo.Options)
}

// AcquireOptions override a Manager's options for one acquisition.
type AcquireOptions struct {
	// Duration of this lease; default Options.Duration. The heartbeat
	// interval and margin scale with it.
	Duration time.Duration
	// Data stored with this lease; default Options.Data.
	Data []byte
}

// Observer receives events of a Manager's leases. Each field may be nil.
// Functions are called synchronously from the acquiring goroutine, the
// lease's heartbeat goroutine or the goroutine releasing it: they must be
// quick and safe for concurrent use.
type Observer struct {
	Acquired func(AcquiredEvent)
	Renewed  func(RenewedEvent)
	Lost     func(*LostError)
	// Released is told when a Release (or ReleaseDone, ReleaseDoneWith)
	// of this Manager has freed a record.
	Released func(ReleasedEvent)
	// Request is told of every request the Manager sends (acquiring,
	// renewing, releasing, polling, marking, listing), with its latency,
	// consumed capacity and outcome: see [repo.ObservedClient].
	Request func(repo.RequestEvent)

	// Danger is told when a held lease enters its danger zone: no renewal
	// has succeeded for so long that the lease is lost unless one succeeds
	// within the zone's length Z, the last part before the safe time. Z is
	// one HeartbeatInterval, about the time the holder had between
	// renewals, to stop its work in good order; but at most half of
	// Duration-SafetyMargin-HeartbeatInterval, the time a due renewal has
	// to succeed before the safe time, so that the zone begins only after
	// the heartbeat has failed for at least half of that time, never while
	// a renewal is merely late (the three scale with an
	// AcquireOptions.Duration). With the defaults, Z is 2.8 s: the danger
	// zone starts 6.2 s after the last renewal was sent, 2.8 s after the
	// next one was due.
	//
	// It is called from the lease's heartbeat goroutine, once per episode:
	// a successful renewal ends the episode, and a later streak of failed
	// renewals gets a call of its own. A
	// renewal still unanswered when the zone begins is abandoned and sent
	// again (its outcome, if it landed, is recognised), so that Danger is
	// called on time. A lease that goes from safe to past its safe time at
	// once (a process paused that long) is reported lost, without Danger.
	// It must be quick: the heartbeat waits for it; so it must not call
	// [Lease.Release] or [Manager.Close], which wait for the heartbeat
	// (start them on another goroutine).
	Danger func(DangerEvent)
}

// Observers returns an Observer that tells each of obs, in order, of every
// event: to log with one adapter and count with another.
func Observers(obs ...Observer) Observer {
	var out Observer
	for _, ob := range obs {
		out.Acquired = repo.Chain(out.Acquired, ob.Acquired)
		out.Renewed = repo.Chain(out.Renewed, ob.Renewed)
		out.Lost = repo.Chain(out.Lost, ob.Lost)
		out.Released = repo.Chain(out.Released, ob.Released)
		out.Request = repo.Chain(out.Request, ob.Request)
		out.Danger = repo.Chain(out.Danger, ob.Danger)
	}
	return out
}

// DangerEvent describes a lease in its danger zone (see Observer.Danger).
type DangerEvent struct {
	Name  string
	Token int64
	// Left is the time until the safe time, when the holder declares the
	// lease lost (NotRenewed) unless a renewal succeeds first.
	Left time.Duration
	// Err is the last renewal error since the last successful renewal;
	// nil if no renewal has failed yet (the heartbeat ran late).
	Err error
}

// AcquiredEvent describes one acquisition.
type AcquiredEvent struct {
	Name     string
	Token    int64
	Takeover bool          // the record was held by another owner that stopped renewing
	Waited   time.Duration // from the call to the acquisition
}

// ReleasedEvent describes a record freed by a release.
type ReleasedEvent struct {
	Name  string
	Token int64
	// ReservedFor is the owner, in another process, that the record was
	// released for (fair turns: see [Manager.Acquire]), or "".
	ReservedFor string
	// Done: the release stored the lease's completion mark (ReleaseDone,
	// ReleaseDoneWith).
	Done bool
}

// RenewedEvent describes one successful renewal.
type RenewedEvent struct {
	Name    string
	Token   int64
	Version int64
	Latency time.Duration
}

const (
	defaultDuration  = 10 * time.Second
	defaultPoll      = 50 * time.Millisecond
	defaultMaxPoll   = 100 * time.Millisecond
	defaultRecordTTL = 7 * 24 * time.Hour
)

func defaultOptions() Options {
	return Options{Duration: defaultDuration, PollInterval: defaultPoll, Owner: defaultOwner(),
		RecordTTL: defaultRecordTTL, Clock: retry.SystemClock()}
}

// derive fills in the fields whose defaults derive from other fields.
func (o *Options) derive() {
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = o.Duration / 3
	}
	if o.SafetyMargin == 0 {
		o.SafetyMargin = o.Duration / 10
	}
	if o.MaxPollInterval == 0 {
		o.MaxPollInterval = max(defaultMaxPoll, o.PollInterval)
	}
}

func (o *Options) validate() error {
	switch {
	case o.Duration <= 0:
		return invalid("Options.Duration is %v, want > 0", o.Duration)
	case o.HeartbeatInterval <= 0 || o.HeartbeatInterval >= o.Duration:
		return invalid("Options.HeartbeatInterval is %v, want > 0 and < Duration (%v)", o.HeartbeatInterval, o.Duration)
	case o.SafetyMargin < 0 || o.SafetyMargin >= o.Duration-o.HeartbeatInterval:
		return invalid("Options.SafetyMargin is %v, want >= 0 and < Duration-HeartbeatInterval (%v)", o.SafetyMargin, o.Duration-o.HeartbeatInterval)
	case o.PollInterval <= 0 || o.MaxPollInterval < o.PollInterval:
		return invalid("Options.PollInterval is %v, want > 0 and <= MaxPollInterval (%v)", o.PollInterval, o.MaxPollInterval)
	case o.Owner == "":
		return invalid("Options.Owner is empty")
	case o.MaxClockSkew < 0:
		return invalid("Options.MaxClockSkew is %v, want >= 0", o.MaxClockSkew)
	case o.RecordTTL <= o.Duration:
		return invalid("Options.RecordTTL is %v, want > Duration (%v)", o.RecordTTL, o.Duration)
	case o.Clock == nil:
		return invalid("Options.Clock is nil")
	}
	var ro repo.Options
	for _, f := range o.Repo {
		if f != nil {
			f(&ro)
		}
	}
	if len(ro.Guards) > 0 {
		return invalid("Options.Repo adds %d Guards, want none: lease writes are not guarded", len(ro.Guards))
	}
	return nil
}

// acquireOptions returns the options of one Acquire or TryAcquire: the
// Manager's, then fns.
func (o *Options) acquireOptions(fns []func(*AcquireOptions)) (AcquireOptions, error) {
	ao := AcquireOptions{Duration: o.Duration, Data: o.Data}
	for _, f := range fns {
		f(&ao)
	}
	if ao.Duration <= 0 {
		return ao, invalid("AcquireOptions.Duration is %v, want > 0", ao.Duration)
	}
	return ao, nil
}

// timing is the heartbeat timing of a lease of duration d: the Manager's
// interval and margin, scaled from Options.Duration to d.
func (o *Options) timing(d time.Duration) timing {
	scale := func(x time.Duration) time.Duration {
		return time.Duration(float64(x) * float64(d) / float64(o.Duration))
	}
	return timing{duration: d, interval: scale(o.HeartbeatInterval), margin: scale(o.SafetyMargin)}
}

func defaultOwner() string {
	h, _ := os.Hostname()
	if h == "" {
		h = "host"
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", h, os.Getpid(), hex.EncodeToString(b[:]))
}
