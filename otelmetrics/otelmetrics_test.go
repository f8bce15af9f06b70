package otelmetrics_test

import (
	"context"
	"errors"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/otelmetrics"
	"github.com/ddbocc/ddbocc/repo"
)

func TestMain(m *testing.M) { ddblocal.RunTests(m) }

type account struct {
	ID      string `dynamo:"id,hash"`
	Balance int64  `dynamo:"balance"`
	Version int64  `dynamo:"version"`
}

// collect reads every metric of reader, by name.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelmetrics.MeterName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// histCount is the count of h's data point whose attributes include the
// given string values.
func histCount(t *testing.T, m metricdata.Metrics, want map[string]string, without ...string) uint64 {
	t.Helper()
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is a %T, want a float64 histogram", m.Name, m.Data)
	}
	var n uint64
next:
	for _, dp := range h.DataPoints {
		for k, v := range want {
			got, ok := dp.Attributes.Value(attributeKey(k))
			if !ok || got.AsString() != v {
				continue next
			}
		}
		for _, k := range without {
			if dp.Attributes.HasValue(attributeKey(k)) {
				continue next
			}
		}
		n += dp.Count
	}
	return n
}

func intSum(t *testing.T, m metricdata.Metrics) int64 {
	t.Helper()
	s, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is a %T, want an int64 sum", m.Name, m.Data)
	}
	var n int64
	for _, dp := range s.DataPoints {
		n += dp.Value
	}
	return n
}

// TestRepoMetrics: a repository observed through otelmetrics.Repo records
// its requests (with the database client conventions' attributes), the
// capacity they consumed, a conflict and the retries of an Update.
func TestRepoMetrics(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	ob, err := otelmetrics.Repo(mp)
	if err != nil {
		t.Fatal(err)
	}
	client := ddblocal.Client(t)
	table := ddblocal.TableName(t)
	ctx := context.Background()
	accounts, err := repo.New[account](client, table, func(o *repo.Options) { o.Observer = ob; o.KeepItems = 0 })
	if err != nil {
		t.Fatal(err)
	}
	if err := accounts.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := accounts.Create(ctx, account{ID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := repo.New[account](client, table)
	if _, err := other.Update(ctx, repo.Key("a"), func(a *account) error { a.Balance = 3; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Save(ctx, a); !errors.Is(err, repo.ErrConflict) {
		t.Fatalf("Save: %v", err)
	}

	ms := collect(t, reader)
	dur := ms["db.client.operation.duration"]
	if dur.Unit != "s" {
		t.Errorf("duration unit %q", dur.Unit)
	}
	base := map[string]string{"db.system.name": "aws.dynamodb", "db.collection.name": table}
	put := map[string]string{"db.operation.name": "PutItem"}
	for k, v := range base {
		put[k] = v
	}
	if n := histCount(t, dur, put, "error.type"); n != 1 {
		t.Errorf("%d successful PutItem recorded, want 1", n)
	}
	refused := map[string]string{"db.operation.name": "UpdateItem", "error.type": "condition_failed"}
	for k, v := range base {
		refused[k] = v
	}
	if n := histCount(t, dur, refused); n != 1 {
		t.Errorf("%d refused UpdateItem recorded, want 1", n)
	}
	if s, ok := ms["ddbocc.consumed_capacity"].Data.(metricdata.Sum[float64]); !ok || len(s.DataPoints) == 0 || s.DataPoints[0].Value <= 0 {
		t.Errorf("consumed capacity: %+v", ms["ddbocc.consumed_capacity"].Data)
	}
	if n := intSum(t, ms["ddbocc.conflicts"]); n != 1 {
		t.Errorf("%d conflicts, want 1", n)
	}
}

// TestLeaseMetrics: a lease Manager observed through otelmetrics.Lease
// records an acquisition, its wait, a release and its requests.
func TestLeaseMetrics(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	ob, err := otelmetrics.Lease(mp)
	if err != nil {
		t.Fatal(err)
	}
	table := ddblocal.TableName(t)
	m, err := lease.New(ddblocal.Client(t), table, func(o *lease.Options) { o.Observer = ob })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := m.Acquire(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	ms := collect(t, reader)
	if n := intSum(t, ms["ddbocc.lease.acquisitions"]); n != 1 {
		t.Errorf("%d acquisitions, want 1", n)
	}
	if n := intSum(t, ms["ddbocc.lease.releases"]); n != 1 {
		t.Errorf("%d releases, want 1", n)
	}
	if h, ok := ms["ddbocc.lease.wait.duration"].Data.(metricdata.Histogram[float64]); !ok || len(h.DataPoints) != 1 || h.DataPoints[0].Count != 1 {
		t.Errorf("wait duration: %+v", ms["ddbocc.lease.wait.duration"].Data)
	}
	if n := histCount(t, ms["db.client.operation.duration"], map[string]string{"db.collection.name": table, "db.operation.name": "UpdateItem"}); n != 1 {
		t.Errorf("%d UpdateItem (the release) recorded, want 1", n)
	}
}
