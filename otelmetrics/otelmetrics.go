// Package otelmetrics records the events of ddbocc repositories and lease
// Managers as OpenTelemetry metrics. It is a module of its own, so that the
// core module does not depend on OpenTelemetry.
//
//	ob, err := otelmetrics.Repo(otel.GetMeterProvider())
//	accounts, err := repo.New[Account](client, "accounts", func(o *repo.Options) { o.Observer = ob })
//
// Instruments (meter "github.com/ddbocc/ddbocc"):
//
//   - db.client.operation.duration (histogram, s): every request to
//     DynamoDB, with the attributes of OpenTelemetry's database client
//     conventions: db.system.name "aws.dynamodb", db.operation.name (the
//     DynamoDB operation), db.collection.name (the table), and error.type
//     (the outcome: condition_failed, transaction_canceled, throttled,
//     canceled, error) when it did not succeed.
//   - ddbocc.consumed_capacity (counter, {capacity_unit}): capacity units
//     the requests consumed, by db.operation.name and db.collection.name.
//   - ddbocc.conflicts (counter, {conflict}): version conflicts, by
//     db.collection.name and ddbocc.operation (Save, Update, Transact.Save...).
//   - ddbocc.retries (counter, {retry}): retries of the optimistic loops.
//   - ddbocc.combined.calls (histogram, {call}): how many Updates of one
//     key each combined write carried.
//   - ddbocc.lease.acquisitions (counter, {acquisition}), with
//     ddbocc.lease.takeover; ddbocc.lease.wait.duration (histogram, s);
//     ddbocc.lease.renewals (counter) and ddbocc.lease.renewal.duration
//     (histogram, s); ddbocc.lease.releases (counter), with
//     ddbocc.lease.reserved (released for a waiter elsewhere);
//     ddbocc.lease.losses (counter), with ddbocc.lease.reason; and
//     ddbocc.lease.danger (counter): leases that entered their danger zone.
//
// Lease names are not attributes (their number is unbounded); tables are.
package otelmetrics

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// MeterName is the name of the meter the instruments belong to.
const MeterName = "github.com/ddbocc/ddbocc"

// Attribute keys.
const (
	keySystem     = attribute.Key("db.system.name")
	keyOperation  = attribute.Key("db.operation.name")
	keyCollection = attribute.Key("db.collection.name")
	keyErrorType  = attribute.Key("error.type")
	keyOp         = attribute.Key("ddbocc.operation")
	keyTakeover   = attribute.Key("ddbocc.lease.takeover")
	keyReserved   = attribute.Key("ddbocc.lease.reserved")
	keyReason     = attribute.Key("ddbocc.lease.reason")
)

// requests are the instruments of requests, shared by Repo and Lease.
type requests struct {
	duration metric.Float64Histogram
	capacity metric.Float64Counter
}

func newRequests(m metric.Meter) (requests, error) {
	var r requests
	var err error
	if r.duration, err = m.Float64Histogram("db.client.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of requests to DynamoDB."),
		metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10)); err != nil {
		return r, err
	}
	r.capacity, err = m.Float64Counter("ddbocc.consumed_capacity", metric.WithUnit("{capacity_unit}"),
		metric.WithDescription("Capacity units consumed by requests to DynamoDB."))
	return r, err
}

func (r requests) record(e repo.RequestEvent) {
	ctx := context.Background()
	attrs := []attribute.KeyValue{keySystem.String("aws.dynamodb"), keyOperation.String(e.Op), keyCollection.String(e.Table)}
	if e.Outcome != repo.OutcomeOK {
		attrs = append(attrs, keyErrorType.String(e.Outcome))
	}
	r.duration.Record(ctx, e.Latency.Seconds(), metric.WithAttributes(attrs...))
	if e.Capacity > 0 {
		r.capacity.Add(ctx, e.Capacity, metric.WithAttributes(keyOperation.String(e.Op), keyCollection.String(e.Table)))
	}
}

// Repo returns an observer that records a repository's (or a
// transaction's) events on meters of mp. Its functions are safe for
// concurrent use.
func Repo(mp metric.MeterProvider) (repo.Observer, error) {
	m := mp.Meter(MeterName)
	req, err := newRequests(m)
	if err != nil {
		return repo.Observer{}, err
	}
	conflicts, err := m.Int64Counter("ddbocc.conflicts", metric.WithUnit("{conflict}"),
		metric.WithDescription("Version conflicts met by conditional writes."))
	if err != nil {
		return repo.Observer{}, err
	}
	retries, err := m.Int64Counter("ddbocc.retries", metric.WithUnit("{retry}"),
		metric.WithDescription("Retries of the optimistic loops, for conflicts and transient errors."))
	if err != nil {
		return repo.Observer{}, err
	}
	combined, err := m.Int64Histogram("ddbocc.combined.calls", metric.WithUnit("{call}"),
		metric.WithDescription("Updates of one key written as one combined write."),
		metric.WithExplicitBucketBoundaries(2, 4, 8, 16, 32, 64))
	if err != nil {
		return repo.Observer{}, err
	}
	return repo.Observer{
		Combined: func(e repo.CombinedEvent) {
			combined.Record(context.Background(), int64(e.Calls), metric.WithAttributes(keyCollection.String(e.Table)))
		},
		Conflict: func(e repo.ConflictEvent) {
			conflicts.Add(context.Background(), 1, metric.WithAttributes(keyCollection.String(e.Table), keyOp.String(e.Op)))
		},
		Retry: func(e repo.RetryEvent) {
			retries.Add(context.Background(), 1, metric.WithAttributes(keyCollection.String(e.Table), keyOp.String(e.Op)))
		},
		Request: req.record,
	}, nil
}

// Lease returns an observer that records a lease Manager's events, its
// requests included, on meters of mp.
func Lease(mp metric.MeterProvider) (lease.Observer, error) {
	m := mp.Meter(MeterName)
	req, err := newRequests(m)
	if err != nil {
		return lease.Observer{}, err
	}
	var (
		acq, renewals, releases, losses, danger metric.Int64Counter
		wait, renewal                           metric.Float64Histogram
	)
	counters := []struct {
		c          *metric.Int64Counter
		name, unit string
		desc       string
	}{
		{&acq, "ddbocc.lease.acquisitions", "{acquisition}", "Leases acquired."},
		{&renewals, "ddbocc.lease.renewals", "{renewal}", "Successful lease renewals."},
		{&releases, "ddbocc.lease.releases", "{release}", "Records freed by a release."},
		{&losses, "ddbocc.lease.losses", "{loss}", "Leases lost before their release."},
		{&danger, "ddbocc.lease.danger", "{lease}", "Leases that entered their danger zone."},
	}
	for _, c := range counters {
		if *c.c, err = m.Int64Counter(c.name, metric.WithUnit(c.unit), metric.WithDescription(c.desc)); err != nil {
			return lease.Observer{}, err
		}
	}
	if wait, err = m.Float64Histogram("ddbocc.lease.wait.duration", metric.WithUnit("s"),
		metric.WithDescription("Time from an acquire call to the acquisition.")); err != nil {
		return lease.Observer{}, err
	}
	if renewal, err = m.Float64Histogram("ddbocc.lease.renewal.duration", metric.WithUnit("s"),
		metric.WithDescription("Latency of successful renewals.")); err != nil {
		return lease.Observer{}, err
	}
	bg := context.Background()
	return lease.Observer{
		Acquired: func(e lease.AcquiredEvent) {
			acq.Add(bg, 1, metric.WithAttributes(keyTakeover.Bool(e.Takeover)))
			wait.Record(bg, e.Waited.Seconds())
		},
		Renewed: func(e lease.RenewedEvent) {
			renewals.Add(bg, 1)
			renewal.Record(bg, e.Latency.Seconds())
		},
		Released: func(e lease.ReleasedEvent) {
			releases.Add(bg, 1, metric.WithAttributes(keyReserved.Bool(e.ReservedFor != "")))
		},
		Lost: func(e *lease.LostError) {
			losses.Add(bg, 1, metric.WithAttributes(keyReason.String(e.Reason.String())))
		},
		Danger:  func(lease.DangerEvent) { danger.Add(bg, 1) },
		Request: req.record,
	}, nil
}
