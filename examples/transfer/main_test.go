package main

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
)

func TestMain(m *testing.M) { ddblocal.RunTests(m) }

// TestRun runs the example briefly: it returns an error if its invariant
// is broken.
func TestRun(t *testing.T) {
	var requests ddblocal.RequestCounter
	client := ddblocal.Client(t, requests.Option())
	if err := run(context.Background(), client, &requests, 4, 3, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

// TestTransfer runs the example's transfers, then checks what run checks
// (money conserved, no transfer failed) and what it leaves to this test:
// every transfer that returned nil is in the ledger exactly once, with its
// amount, and no other transfer is.
func TestTransfer(t *testing.T) {
	const workers, naccounts = 8, 4
	ctx := context.Background()
	client := ddblocal.Client(t)
	b, err := openBank(ctx, client, naccounts)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := b.transferFor(ctx, workers, 2*time.Second)
	t.Logf("%v: %d committed, %d refused for funds, %d failed, %d conflicts",
		elapsed.Round(time.Millisecond), len(b.committed), b.refused, b.failed, b.conflicts)
	total, err := b.total(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if total != initial*naccounts {
		t.Errorf("total %d, want %d", total, initial*naccounts)
	}
	if b.failed != 0 {
		t.Errorf("%d transfers failed", b.failed)
	}
	if len(b.committed) == 0 {
		t.Errorf("no transfer committed")
	}
	checkLedger(ctx, t, b)
}

// checkLedger checks that the ledger holds each of b's committed transfers
// once, with its amount, and no other entry.
func checkLedger(ctx context.Context, t *testing.T, b *bank) {
	t.Helper()
	stored := map[string]bool{}
	pages := dynamodb.NewScanPaginator(b.client, &dynamodb.ScanInput{TableName: aws.String(b.ledger.Table()), ConsistentRead: aws.Bool(true)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			var e Entry
			if err := b.ledger.Schema().Unmarshal(item, &e); err != nil {
				t.Fatal(err)
			}
			if stored[e.ID] {
				t.Errorf("ledger entry %s stored twice", e.ID)
			}
			stored[e.ID] = true
			if c, ok := b.committed[e.ID]; !ok || c.Amount != e.Amount {
				t.Errorf("ledger entry %+v was not returned as committed", e)
			}
		}
	}
	if len(stored) != len(b.committed) {
		t.Errorf("ledger entries %d, want %d (one per committed transfer)", len(stored), len(b.committed))
	}
}
