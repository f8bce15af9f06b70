// Command transfer moves random amounts between accounts from many
// goroutines, each transfer one transaction (two account updates and a
// ledger entry), then checks the invariants: the total is unchanged, and
// every transfer that returned nil is in the ledger exactly once (and no
// other is). It prints commits, conflicts and DynamoDB requests per commit.
//
//	go run ./examples/transfer [-workers 16] [-accounts 8] [-duration 5s]
//
// It starts DynamoDB Local, or uses the one at $DYNAMODB_ENDPOINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/demo"
	"github.com/ddbocc/ddbocc/repo"
)

// Account is a versioned account.
type Account struct {
	ID      string `dynamo:"id,hash"`
	Balance int64  `dynamo:"balance"`
	Version int64  `dynamo:"version"`
}

// Entry is one committed transfer.
type Entry struct {
	ID      string `dynamo:"id,hash"`
	From    string `dynamo:"from"`
	To      string `dynamo:"to"`
	Amount  int64  `dynamo:"amount"`
	Version int64  `dynamo:"version"`
}

var errInsufficient = errors.New("insufficient funds")

func main() {
	workers := flag.Int("workers", 16, "goroutines making transfers")
	naccounts := flag.Int("accounts", 8, "accounts")
	duration := flag.Duration("duration", 5*time.Second, "how long to run")
	flag.Parse()
	var requests ddblocal.RequestCounter
	demo.Run(func(ctx context.Context, client *dynamodb.Client) error {
		return run(ctx, client, &requests, *workers, *naccounts, *duration)
	}, requests.Option())
}

func run(ctx context.Context, client *dynamodb.Client, requests *ddblocal.RequestCounter, workers, naccounts int, duration time.Duration) error {
	suffix := fmt.Sprint(time.Now().UnixNano())
	accounts, err := repo.New[Account](client, "transfer-accounts-"+suffix)
	if err != nil {
		return err
	}
	ledger, err := repo.New[Entry](client, "transfer-ledger-"+suffix)
	if err != nil {
		return err
	}
	for _, t := range []func(context.Context) error{accounts.CreateTable, ledger.CreateTable} {
		if err := t(ctx); err != nil {
			return err
		}
	}
	const initial = 1000
	for i := 0; i < naccounts; i++ {
		if _, err := accounts.Create(ctx, Account{ID: fmt.Sprint("acct-", i), Balance: initial}); err != nil {
			return err
		}
	}

	var conflicts atomic.Int64
	countConflicts := func(o *repo.TxOptions) {
		o.Observer.Conflict = func(repo.ConflictEvent) { conflicts.Add(1) }
		o.Retry.MaxElapsedTime = time.Minute
	}
	var mu sync.Mutex
	committed := map[string]Entry{}
	var refused, failed atomic.Int64
	requests.Reset()
	start := time.Now()
	deadline := start.Add(duration)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(deadline); n++ {
				from, to := rand.IntN(naccounts), rand.IntN(naccounts-1)
				if to >= from {
					to++
				}
				e := Entry{ID: fmt.Sprintf("w%d-%d", w, n), From: fmt.Sprint("acct-", from), To: fmt.Sprint("acct-", to), Amount: rand.Int64N(200) + 1}
				err := repo.Transact(ctx, client, func(tx *repo.Tx) error {
					src, dst, err := pair(tx, accounts, e.From, e.To)
					if err != nil {
						return err
					}
					if src.Balance < e.Amount {
						return errInsufficient
					}
					src.Balance -= e.Amount
					dst.Balance += e.Amount
					if err := accounts.TxSave(tx, &src); err != nil {
						return err
					}
					if err := accounts.TxSave(tx, &dst); err != nil {
						return err
					}
					entry := e
					return ledger.TxCreate(tx, &entry)
				}, countConflicts)
				switch {
				case err == nil:
					mu.Lock()
					committed[e.ID] = e
					mu.Unlock()
				case errors.Is(err, errInsufficient):
					refused.Add(1)
				default:
					failed.Add(1)
					fmt.Println("transfer failed:", err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	reqs := requests.Count()

	// Invariants.
	total := int64(0)
	for i := 0; i < naccounts; i++ {
		a, err := accounts.Get(ctx, repo.Key(fmt.Sprint("acct-", i)))
		if err != nil {
			return err
		}
		total += a.Balance
	}
	stored := map[string]bool{}
	pages := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{TableName: aws.String(ledger.Table()), ConsistentRead: aws.Bool(true)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, item := range page.Items {
			var e Entry
			if err := ledger.Schema().Unmarshal(item, &e); err != nil {
				return err
			}
			if stored[e.ID] {
				return fmt.Errorf("ledger entry %s stored twice", e.ID)
			}
			stored[e.ID] = true
			if c, ok := committed[e.ID]; !ok || c.Amount != e.Amount {
				return fmt.Errorf("ledger entry %+v was not returned as committed", e)
			}
		}
	}
	n := int64(len(committed))
	fmt.Printf("workers %d, accounts %d, %v\n", workers, naccounts, elapsed.Round(time.Millisecond))
	fmt.Printf("commits %d (%.0f/s), refused for funds %d, failed %d, conflicts %d\n", n, float64(n)/elapsed.Seconds(), refused.Load(), failed.Load(), conflicts.Load())
	fmt.Printf("requests %d: %.2f per commit\n", reqs, float64(reqs)/float64(max(n, 1)))
	fmt.Printf("total %d (want %d), ledger entries %d (want %d)\n", total, initial*int64(naccounts), len(stored), n)
	if total != initial*int64(naccounts) || int64(len(stored)) != n || failed.Load() != 0 {
		return fmt.Errorf("invariant broken")
	}
	fmt.Println("OK: money conserved, every committed transfer in the ledger exactly once")
	return nil
}

// pair reads two accounts through the transaction in one consistent
// snapshot.
func pair(tx *repo.Tx, accounts *repo.Repository[Account], from, to string) (Account, Account, error) {
	items, found, err := accounts.TxGetMany(tx, repo.Key(from), repo.Key(to))
	if err != nil {
		return Account{}, Account{}, err
	}
	if !found[0] || !found[1] {
		return Account{}, Account{}, fmt.Errorf("account missing")
	}
	return items[0], items[1], nil
}
