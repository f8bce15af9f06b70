package lease

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/ddbocc/ddbocc/repo"
)

// Options configure a [Manager]. Pass functions that change them to [New].
type Options struct {
	// Duration is how long a lease lasts without renewal, and how long a
	// waiter must see a held record unchanged before taking it over.
	// Default 10s.
	Duration time.Duration

	// HeartbeatInterval is the time between renewals of a held lease. It
	// must be less than Duration. Default Duration/3.
	HeartbeatInterval time.Duration

	// SafetyMargin is subtracted from a renewal's send time plus Duration to
	// get the safe time, after which a holder that could not renew declares
	// its lease lost. It covers clock-rate differences between hosts and
	// the time to notice. Default Duration/10. It must be >= 0 and less
	// than Duration-HeartbeatInterval.
	SafetyMargin time.Duration

	// PollInterval is a waiter's first delay between reads of a held
	// record; delays double (with jitter) up to MaxPollInterval. Only one
	// goroutine per name and Manager polls; the others queue locally.
	// Defaults 50ms and 250ms.
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

	// Clock is the time source (tests inject a fake). Default: the real
	// clock.
	Clock Clock

	// Observer is told of acquisitions, renewals and losses. Default none.
	Observer Observer

	// Repo configures the repository of lease records (retry policy,
	// observer). Its Guards must be empty.
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
// Functions are called synchronously from the acquiring goroutine or the
// lease's heartbeat goroutine: they must be quick and safe for concurrent
// use.
type Observer struct {
	Acquired func(AcquiredEvent)
	Renewed  func(RenewedEvent)
	Lost     func(*LostError)
}

// AcquiredEvent describes one acquisition.
type AcquiredEvent struct {
	Name     string
	Token    int64
	Takeover bool          // the record was held by another owner that stopped renewing
	Waited   time.Duration // from the call to the acquisition
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
	defaultMaxPoll   = 250 * time.Millisecond
	defaultRecordTTL = 7 * 24 * time.Hour
)

func (o *Options) fill() {
	if o.Duration == 0 {
		o.Duration = defaultDuration
	}
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = o.Duration / 3
	}
	if o.SafetyMargin == 0 {
		o.SafetyMargin = o.Duration / 10
	}
	if o.PollInterval == 0 {
		o.PollInterval = defaultPoll
	}
	if o.MaxPollInterval == 0 {
		o.MaxPollInterval = max(defaultMaxPoll, o.PollInterval)
	}
	if o.Owner == "" {
		o.Owner = defaultOwner()
	}
	if o.RecordTTL == 0 {
		o.RecordTTL = defaultRecordTTL
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
}

func (o *Options) validate() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: "+f, append([]any{ErrInvalidOption}, a...)...) }
	switch {
	case o.Duration <= 0:
		return bad("Duration %v must be > 0", o.Duration)
	case o.HeartbeatInterval <= 0:
		return bad("HeartbeatInterval %v must be > 0", o.HeartbeatInterval)
	case o.HeartbeatInterval >= o.Duration:
		return bad("HeartbeatInterval %v must be < Duration %v", o.HeartbeatInterval, o.Duration)
	case o.SafetyMargin < 0 || o.SafetyMargin >= o.Duration-o.HeartbeatInterval:
		return bad("SafetyMargin %v must be >= 0 and < Duration-HeartbeatInterval (%v)", o.SafetyMargin, o.Duration-o.HeartbeatInterval)
	case o.PollInterval < 0 || o.MaxPollInterval < o.PollInterval:
		return bad("PollInterval %v must be > 0 and <= MaxPollInterval %v", o.PollInterval, o.MaxPollInterval)
	case o.MaxClockSkew < 0:
		return bad("MaxClockSkew %v must be >= 0", o.MaxClockSkew)
	case o.RecordTTL <= o.Duration:
		return bad("RecordTTL %v must be > Duration %v", o.RecordTTL, o.Duration)
	}
	return nil
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
