package otelmetrics_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ddbocc/ddbocc/dynamolocal"
	"github.com/ddbocc/ddbocc/otelmetrics"
	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/slogobs"
)

// A repository whose events are both logged (slog, warnings only here) and
// counted (OpenTelemetry metrics; a ManualReader stands in for an
// exporter).
func Example() {
	ctx := context.Background()
	local, err := dynamolocal.Shared() // the test binary's DynamoDB Local (TestMain)
	if err != nil {
		panic(err)
	}
	client := local.Client() // in an application: dynamodb.NewFromConfig(cfg)
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(ctx)

	metrics, err := otelmetrics.Repo(provider)
	if err != nil {
		panic(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	accounts, err := repo.New[account](client, "example-observed", func(o *repo.Options) {
		o.Observer = repo.Observers(slogobs.Repo(logger), metrics)
	})
	if err != nil {
		panic(err)
	}
	if err := accounts.CreateTable(ctx); err != nil {
		panic(err)
	}
	_ = accounts.DeleteKey(ctx, repo.Key("a")) // a clean start when run again
	if _, err := accounts.Create(ctx, account{ID: "a", Balance: 1}); err != nil {
		panic(err)
	}
	for range 3 {
		if _, err := accounts.Update(ctx, repo.Key("a"), func(a *account) error { a.Balance++; return nil }); err != nil {
			panic(err)
		}
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == "db.client.operation.duration" {
			fmt.Println(m.Name, "unit", m.Unit)
		}
	}
	// Output:
	// db.client.operation.duration unit s
}
