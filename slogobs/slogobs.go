// Package slogobs logs the events of repositories and lease Managers with
// log/slog: an adapter of a few lines on top of [repo.Observer] and
// [lease.Observer], so that the core depends on no logger.
//
//	logger := slog.Default()
//	accounts, err := repo.New[Account](client, "accounts", func(o *repo.Options) {
//		o.Observer = slogobs.Repo(logger)
//	})
//	locks, err := lease.New(client, "locks", func(o *lease.Options) {
//		o.Observer = slogobs.Lease(logger)
//	})
//
// Levels: every request, combined write, renewal and release at Debug; conflicts, retries
// and acquisitions at Info; failed requests (other than a failed condition
// or a cancelled transaction, which the loops handle), lost leases and
// leases in their danger zone at Warn. Lease data is never logged; keys
// are, formatted with [repo.FormatKey].
package slogobs

import (
	"context"
	"log/slog"

	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// Repo returns an observer that logs a repository's (or a transaction's)
// events to l. The functions are safe for concurrent use, as a
// *slog.Logger is.
func Repo(l *slog.Logger) repo.Observer {
	return repo.Observer{
		Conflict: func(e repo.ConflictEvent) {
			l.Info("ddbocc conflict", "table", e.Table, "op", e.Op, "key", repo.FormatKey(e.Key),
				"attempt", e.Attempt, "expected", e.Expected, "actual", e.Actual)
		},
		Retry: func(e repo.RetryEvent) {
			l.Info("ddbocc retry", "table", e.Table, "op", e.Op, "attempt", e.Attempt, "delay", e.Delay, "err", errString(e.Err))
		},
		Request: func(e repo.RequestEvent) { request(l, e) },
		Combined: func(e repo.CombinedEvent) {
			l.Debug("ddbocc combined write", "table", e.Table, "key", repo.FormatKey(e.Key), "calls", e.Calls,
				"written", e.Written, "err", errString(e.Err))
		},
	}
}

// Lease returns an observer that logs a lease Manager's events, its
// requests included, to l.
func Lease(l *slog.Logger) lease.Observer {
	return lease.Observer{
		Acquired: func(e lease.AcquiredEvent) {
			l.Info("ddbocc lease acquired", "name", e.Name, "token", e.Token, "takeover", e.Takeover, "waited", e.Waited)
		},
		Renewed: func(e lease.RenewedEvent) {
			l.Debug("ddbocc lease renewed", "name", e.Name, "token", e.Token, "version", e.Version, "latency", e.Latency)
		},
		Released: func(e lease.ReleasedEvent) {
			l.Debug("ddbocc lease released", "name", e.Name, "token", e.Token, "reserved_for", e.ReservedFor, "done", e.Done)
		},
		Lost: func(e *lease.LostError) {
			l.Warn("ddbocc lease lost", "name", e.Name, "token", e.Token, "reason", e.Reason.String(), "owner", e.Owner, "err", errString(e.Cause))
		},
		Danger: func(e lease.DangerEvent) {
			l.Warn("ddbocc lease in danger zone", "name", e.Name, "token", e.Token, "left", e.Left, "err", errString(e.Err))
		},
		Request: func(e repo.RequestEvent) { request(l, e) },
	}
}

// request logs one request: at Warn if it failed for a reason the loops do
// not expect, at Debug otherwise.
func request(l *slog.Logger, e repo.RequestEvent) {
	level := slog.LevelDebug
	switch e.Outcome {
	case repo.OutcomeThrottled, repo.OutcomeError:
		level = slog.LevelWarn
	}
	if !l.Enabled(context.Background(), level) {
		return
	}
	attrs := []slog.Attr{slog.String("op", e.Op), slog.String("table", e.Table), slog.Duration("latency", e.Latency),
		slog.Float64("capacity", e.Capacity), slog.String("outcome", e.Outcome)}
	if e.Err != nil {
		attrs = append(attrs, slog.String("err", e.Err.Error()))
	}
	l.LogAttrs(context.Background(), level, "ddbocc request", attrs...)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
