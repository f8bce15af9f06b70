package repo_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
)

// The fault suite: invariants that must hold while the network between the
// repository and DynamoDB Local drops responses of applied writes, throttles,
// answers 500 and resets connections (internal/harness/faults). Sizes are small in
// `make test`; DDBOCC_STRESS=1 (`make stress`) runs the long ones. Every test
// logs its seed; DDBOCC_SEED=n replays it (the assignment of faults to
// requests still depends on scheduling when goroutines run concurrently).

// faultyClient is a client for the test binary's DynamoDB Local whose
// requests go through a fault injector, with the SDK's retries fast.
func faultyClient(t *testing.T, cfg faults.Config) (*dynamodb.Client, *faults.Transport) {
	t.Helper()
	return faults.Client(ddblocal.Endpoint(t), cfg, faults.FastRetries)
}

// scripted is [faultyClient] where the next requests of operation op meet
// fs, one each and in order; every other request goes through.
func scripted(t *testing.T, op string, fs ...faults.Fault) (*dynamodb.Client, *faults.Transport) {
	t.Helper()
	client, tr := faultyClient(t, faults.Config{Ops: []string{op}})
	tr.Script(fs...)
	return client, tr
}

// patient is a retry policy that does not give up while the suite runs on
// a loaded machine: the tests are about correctness, not speed.
func patient(o *repo.Options) {
	o.Retry = retry.Policy{InitialInterval: time.Millisecond, MaxInterval: 20 * time.Millisecond, Multiplier: 2, MaxElapsedTime: 5 * time.Minute}
}

func patientTx(o *repo.TxOptions) {
	o.Retry = retry.Policy{InitialInterval: time.Millisecond, MaxInterval: 20 * time.Millisecond, Multiplier: 2, MaxElapsedTime: 5 * time.Minute}
}

// The ambiguous-response test of issue 5: 20% of all responses of the
// client are dropped after DynamoDB Local applied the request, while 8
// goroutines increment one item. The counter must end at the number of
// increments that returned nil plus at most the number that returned
// ErrOutcomeUnknown, with no other error. With the write ids switched off
// (a naive loop), the same test must see double applies: that shows it
// catches them.
func TestFaultCounterIncrements(t *testing.T) {
	t.Parallel()
	seed := faults.Seed(t)
	workers, each := 8, faults.Sized(80, 200)
	for i, c := range []struct {
		name     string
		queue    bool
		writeIDs bool
	}{
		{"queued", true, true},
		{"contended", false, true},
		{"queued without write ids", true, false},
		{"contended without write ids", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			setup := newRepo[Account](t, e)
			mustCreate(t, setup, Account{ID: "hot"})
			cfg := faults.Config{Seed: seed + uint64(i), Drop: 0.2}
			client, tr := faultyClient(t, cfg)
			r := mustNew[Account](t, client, e.table, patient, func(o *repo.Options) {
				o.DisableLocalQueue = !c.queue
				if !c.writeIDs {
					repo.SetUnsafeNoWriteIDs(o)
				}
			})
			ctx := context.Background()
			var (
				mu           sync.Mutex
				ok, unknown  int
				others       []error
				seen         = map[int64]bool{}
				versionTwice int
				wg           sync.WaitGroup
				start        = time.Now()
			)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := 0; j < each; j++ {
						a, err := r.Update(ctx, repo.Key("hot"), func(a *Account) error { a.Balance++; return nil })
						mu.Lock()
						switch {
						case err == nil:
							ok++
							if seen[a.Version] {
								versionTwice++
							}
							seen[a.Version] = true
						case errors.Is(err, repo.ErrOutcomeUnknown):
							unknown++
						default:
							others = append(others, err)
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			got, err := setup.Get(ctx, repo.Key("hot"))
			if err != nil {
				t.Fatal(err)
			}
			n := workers * each
			t.Logf("%s; %v", cfg, tr.Stats())
			t.Logf("%d increments in %v: %d nil, %d ErrOutcomeUnknown (%.2f%%), %d other errors; counter %d",
				n, time.Since(start).Round(time.Millisecond), ok, unknown, 100*float64(unknown)/float64(n), len(others), got.Balance)
			if !c.writeIDs {
				if got.Balance <= int64(ok+unknown) {
					t.Fatalf("without write ids the counter is %d, not above %d nil + %d unknown: the test did not catch double applies",
						got.Balance, ok, unknown)
				}
				t.Logf("without write ids: %d double applies detected", got.Balance-int64(ok+unknown))
				return
			}
			for _, err := range others {
				t.Errorf("Update: %v", err)
			}
			if versionTwice > 0 {
				t.Errorf("%d versions returned twice", versionTwice)
			}
			if got.Balance < int64(ok) || got.Balance > int64(ok+unknown) {
				t.Fatalf("counter %d, want %d nil-returning increments plus at most %d unknown ones", got.Balance, ok, unknown)
			}
		})
	}
}

// Transfers between four accounts, with their ledger entries, through drops,
// throttles, 500s and resets: the total is conserved, every nil-returning
// transfer is in the ledger once, every unknown one at most once, every
// refused one not at all, and each account's balance is exactly what the
// ledger says.
func TestFaultTransfers(t *testing.T) {
	t.Parallel()
	seed := faults.Seed(t)
	const initial = 1000
	accts := []string{"a0", "a1", "a2", "a3"}
	b := newBank(t, map[string]int64{"a0": initial, "a1": initial, "a2": initial, "a3": initial})
	cfg := faults.Config{Seed: seed, Drop: 0.1, Throttle: 0.05, Error500: 0.05, Reset: 0.05, Latency: 5 * time.Millisecond, LatencyP: 0.1}
	client, tr := faultyClient(t, cfg)
	fb := b.through(t, client, patient)
	type attempt struct {
		id, from, to string
		amount       int64
		err          error
	}
	workers, each := 4, faults.Sized(40, 250)
	results := make([][]attempt, workers)
	ctx := context.Background()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for j := 0; j < each; j++ {
				a := attempt{id: fmt.Sprintf("t%d-%d", w, j), amount: 1 + rng.Int64N(300)}
				f := rng.IntN(len(accts))
				a.from, a.to = accts[f], accts[(f+1+rng.IntN(len(accts)-1))%len(accts)]
				a.err = repo.Transact(ctx, client, fb.transfer(a.id, a.from, a.to, a.amount), patientTx)
				results[w] = append(results[w], a)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	balance := map[string]int64{}
	for _, id := range accts {
		balance[id] = initial
	}
	var ok, unknown, refused, unknownApplied int
	for _, rs := range results {
		for _, a := range rs {
			entry, err := b.ledger.Get(ctx, repo.Key(a.id))
			inLedger := err == nil
			if err != nil && !errors.Is(err, repo.ErrNotFound) {
				t.Fatal(err)
			}
			switch {
			case a.err == nil:
				ok++
				if !inLedger {
					t.Errorf("transfer %s returned nil but is not in the ledger", a.id)
				}
			case errors.Is(a.err, repo.ErrOutcomeUnknown):
				unknown++
				if inLedger {
					unknownApplied++
				}
			case errors.Is(a.err, errInsufficient):
				refused++
				if inLedger {
					t.Errorf("transfer %s was refused but is in the ledger", a.id)
				}
			default:
				t.Errorf("transfer %s: %v (in ledger: %v)", a.id, a.err, inLedger)
			}
			if inLedger {
				if entry.From != a.from || entry.To != a.to || entry.Amount != a.amount || entry.Version != 1 {
					t.Errorf("ledger entry %+v, want %+v at version 1", entry, a)
				}
				balance[a.from] -= a.amount
				balance[a.to] += a.amount
			}
		}
	}
	total := int64(0)
	for _, id := range accts {
		got, err := b.accounts.Get(ctx, repo.Key(id))
		if err != nil {
			t.Fatal(err)
		}
		total += got.Balance
		if got.Balance != balance[id] {
			t.Errorf("account %s holds %d, the ledger says %d: a transfer was applied twice or without its entry", id, got.Balance, balance[id])
		}
	}
	t.Logf("%s; %v", cfg, tr.Stats())
	t.Logf("%d transfers in %v: %d nil, %d refused (funds), %d ErrOutcomeUnknown (%d of them applied); total %d",
		workers*each, elapsed.Round(time.Millisecond), ok, refused, unknown, unknownApplied, total)
	if total != initial*int64(len(accts)) {
		t.Fatalf("total %d, want %d", total, initial*len(accts))
	}
}

// Creates and Deletes through faults. Unique keys: a nil Create stored
// exactly its item at version 1, an unknown one at most that, and nothing
// else is possible (no one else writes the key); a nil Delete removed it.
// Contended keys: several goroutines Create the same key at once; at most
// one gets nil, and the stored item is that one's (or, if none got nil, an
// unknown one's).
func TestFaultCreateDelete(t *testing.T) {
	t.Parallel()
	seed := faults.Seed(t)
	cfg := faults.Config{Seed: seed, Drop: 0.15, Throttle: 0.05, Error500: 0.05, Reset: 0.05}

	t.Run("unique keys", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		setup := newRepo[Account](t, e)
		client, tr := faultyClient(t, cfg)
		r := mustNew[Account](t, client, e.table, patient)
		ctx := context.Background()
		workers, each := 4, faults.Sized(40, 250)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var created, createUnknown, deleted, deleteUnknown int
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < each; j++ {
					id := fmt.Sprintf("u%d-%d", w, j)
					a, err := r.Create(ctx, Account{ID: id, Owner: id, Balance: int64(j)})
					got, gerr := setup.Get(ctx, repo.Key(id))
					switch {
					case err == nil:
						if a.Version != 1 || gerr != nil || got != a {
							t.Errorf("Create %s returned %+v, nil; stored %+v, %v", id, a, got, gerr)
							continue
						}
					case errors.Is(err, repo.ErrOutcomeUnknown):
						mu.Lock()
						createUnknown++
						mu.Unlock()
						if gerr != nil {
							continue // not stored: fine
						}
						if got.Owner != id || got.Version != 1 {
							t.Errorf("Create %s unknown; stored %+v", id, got)
						}
						a = got
					default:
						t.Errorf("Create %s: %v", id, err)
						continue
					}
					mu.Lock()
					created++
					mu.Unlock()
					err = r.Delete(ctx, a)
					_, gerr = setup.Get(ctx, repo.Key(id))
					switch {
					case err == nil:
						if !errors.Is(gerr, repo.ErrNotFound) {
							t.Errorf("Delete %s returned nil, Get: %v", id, gerr)
						}
						mu.Lock()
						deleted++
						mu.Unlock()
					case errors.Is(err, repo.ErrOutcomeUnknown):
						mu.Lock()
						deleteUnknown++
						mu.Unlock()
					default:
						t.Errorf("Delete %s: %v", id, err)
					}
				}
			}()
		}
		wg.Wait()
		t.Logf("%s; %v", cfg, tr.Stats())
		t.Logf("%d creates: %d stored (%d of them unknown); %d deletes nil, %d unknown", workers*each, created, createUnknown, deleted, deleteUnknown)
	})

	t.Run("contended creates", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		setup := newRepo[Account](t, e)
		c := cfg
		c.Seed++
		client, tr := faultyClient(t, c)
		r := mustNew[Account](t, client, e.table, patient)
		ctx := context.Background()
		rounds, racers := faults.Sized(40, 300), 4
		var winners, unknowns int
		for round := 0; round < rounds; round++ {
			id := fmt.Sprintf("race%d", round)
			errs := make([]error, racers)
			startc := make(chan struct{})
			var wg sync.WaitGroup
			for g := 0; g < racers; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-startc
					_, errs[g] = r.Create(ctx, Account{ID: id, Owner: fmt.Sprint(g)})
				}()
			}
			close(startc)
			wg.Wait()
			got, gerr := setup.Get(ctx, repo.Key(id))
			nils := 0
			for g, err := range errs {
				switch {
				case err == nil:
					nils++
					winners++
					if gerr != nil || got.Owner != fmt.Sprint(g) {
						t.Errorf("round %d: Create by %d returned nil, stored %+v, %v", round, g, got, gerr)
					}
				case errors.Is(err, repo.ErrOutcomeUnknown):
					unknowns++
				case errors.Is(err, repo.ErrAlreadyExists):
					if gerr != nil || got.Owner == fmt.Sprint(g) {
						t.Errorf("round %d: Create by %d: %v, stored %+v, %v", round, g, err, got, gerr)
					}
				default:
					t.Errorf("round %d: Create by %d: %v", round, g, err)
				}
			}
			if nils > 1 {
				t.Errorf("round %d: %d Creates of one key returned nil: %v", round, nils, errs)
			}
			if gerr == nil && nils == 0 {
				if owner, _ := strconv.Atoi(got.Owner); !errors.Is(errs[owner], repo.ErrOutcomeUnknown) {
					t.Errorf("round %d: stored %+v, but its Create returned %v", round, got, errs[owner])
				}
			}
		}
		t.Logf("%s; %v", c, tr.Stats())
		t.Logf("%d rounds of %d racers: %d winners, %d unknown", rounds, racers, winners, unknowns)
	})
}

// A read inside a transaction that fails with a transient error (here: all
// three of the SDK's attempts of a GetItem throttled) is retried under
// TxOptions.Retry, as Update retries its read: nothing was written, and
// throttling is what the policy is for. (Found by TestFaultTransfers.)
func TestFaultTransactRetriesTransientRead(t *testing.T) {
	t.Parallel()
	b := newBank(t, map[string]int64{"a1": 100, "a2": 0})
	throttled := []faults.Fault{faults.Throttle, faults.Throttle, faults.Throttle}
	client, tr := scripted(t, "GetItem", throttled...)
	fb := b.through(t, client)
	ctx := context.Background()
	err := repo.Transact(ctx, client, fb.transfer("e1", "a1", "a2", 30), patientTx)
	if err != nil {
		t.Errorf("Transact after one throttled read (3 SDK attempts): %v; want it retried under TxOptions.Retry", err)
	}
	// Update does retry the same failure.
	tr.Script(throttled...)
	if _, err := fb.accounts.Update(ctx, repo.Key("a2"), func(a *Account) error { a.Note = "x"; return nil }, patient); err != nil {
		t.Errorf("Update after one throttled read: %v", err)
	}
}

// The SDK's own retries of a TransactWriteItems (on for commits) can hide a
// lost response: the first attempt is applied and its response dropped, the
// SDK's next two attempts are throttled, and the call fails with a throttle,
// which looks like "nothing written". Transact must then re-send the same
// request (same token) or say ErrOutcomeUnknown; running fn again applies
// the transfer twice. Found by TestFaultTransfers (a transfer whose ledger
// entry was stored came back as a TxError matching ErrAlreadyExists).
func TestFaultTransactLostCommitThenThrottled(t *testing.T) {
	t.Parallel()
	b := newBank(t, map[string]int64{"a1": 100, "a2": 0})
	client, _ := scripted(t, "TransactWriteItems", faults.Drop, faults.Throttle, faults.Throttle)
	ctx := context.Background()
	calls := 0
	err := repo.Transact(ctx, client, func(tx *repo.Tx) error {
		calls++
		items, _, err := b.accounts.TxGetMany(tx, repo.Key("a1"), repo.Key("a2"))
		if err != nil {
			return err
		}
		items[0].Balance -= 30
		items[1].Balance += 30
		if err := b.accounts.TxSave(tx, &items[0]); err != nil {
			return err
		}
		return b.accounts.TxSave(tx, &items[1])
	}, patientTx)
	a1, _ := b.accounts.Get(ctx, repo.Key("a1"))
	a2, _ := b.accounts.Get(ctx, repo.Key("a2"))
	if (err != nil && !errors.Is(err, repo.ErrOutcomeUnknown)) || a1.Balance != 70 || a2.Balance != 30 {
		t.Fatalf("Transact: %v after %d runs of fn; a1 %d, a2 %d; want the transfer of 30 applied once (70, 30)",
			err, calls, a1.Balance, a2.Balance)
	}
}

// The same for a guarded write, which goes out as a TransactWriteItems with
// the SDK's retries on: the Update's first attempt is applied and its
// response lost, the SDK's retries are throttled, and the loop re-applies fn
// to the item it read before, fails its condition on its own write, and
// applies fn a second time on top of it.
func TestFaultGuardedUpdateLostThenThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := newRepo[Account](t, e)
	le, _ := newLock(t, "me", 1)
	mustCreate(t, setup, Account{ID: "a1", Balance: 100})
	client, _ := scripted(t, "TransactWriteItems", faults.Drop, faults.Throttle, faults.Throttle)
	accounts := mustNew[Account](t, client, e.table, patient)
	ctx := context.Background()
	calls := 0
	a, err := accounts.Update(ctx, repo.Key("a1"), func(a *Account) error { calls++; a.Balance += 10; return nil },
		repo.Guard(heldBy(le.table, "me", 1)))
	got, _ := setup.Get(ctx, repo.Key("a1"))
	if (err != nil && !errors.Is(err, repo.ErrOutcomeUnknown)) || got.Balance != 110 {
		t.Fatalf("guarded Update: %+v, %v after %d runs of fn; stored balance %d; want 110 (applied once)", a, err, calls, got.Balance)
	}
}

// A Delete by version whose response is lost after it was applied, and a
// Create of the same key by someone else before the Delete looks again: the
// Delete finds "version 1" stored and, knowing no write id of the item it
// deleted, takes it for its own item still there and deletes it again. The
// new item is lost although its Create returned nil and nothing else
// deleted it.
func TestFaultDeleteLostThenRecreated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := newRepo[Account](t, e)
	ctx := context.Background()
	old := mustCreate(t, setup, Account{ID: "a1", Balance: 1})
	client, tr := scripted(t, "DeleteItem", faults.Drop)
	tr.AfterFault = func(string, faults.Decision) {
		if _, cerr := setup.Create(ctx, Account{ID: "a1", Balance: 2}); cerr != nil {
			t.Errorf("re-create: %v", cerr)
		}
	}
	deleter := mustNew[Account](t, client, e.table, patient)
	err := deleter.Delete(ctx, old)
	got, gerr := setup.Get(ctx, repo.Key("a1"))
	if gerr != nil || got.Balance != 2 {
		t.Fatalf("Delete of version 1 after a lost response and a re-create: %v; then Get: %+v, %v; "+
			"want the re-created item (balance 2) kept, and nil or ErrOutcomeUnknown", err, got, gerr)
	}
	if err != nil && !errors.Is(err, repo.ErrOutcomeUnknown) {
		t.Fatalf("Delete: %v, want nil (its delete was applied) or ErrOutcomeUnknown", err)
	}
}

// A Create whose response is lost after it was stored; before it looks,
// another writer deletes the item and creates it anew. The Create finds an
// item that is not its own and reports ErrAlreadyExists, as documented ("our
// write did not take effect") — but it did take effect: the item it stored
// was read and deleted by others. No linearization explains a history in
// which someone read and deleted an item that nobody created. The outcome
// cannot be told from the item, so it is ErrOutcomeUnknown (as for a lost
// Create that finds no item). Found by TestLinearizability.
func TestFaultCreateLostThenRecreated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := newRepo[Account](t, e)
	ctx := context.Background()
	client, tr := scripted(t, "PutItem", faults.Drop)
	tr.AfterFault = func(string, faults.Decision) {
		if err := setup.DeleteKey(ctx, repo.Key("a1")); err != nil {
			t.Errorf("delete: %v", err)
		}
		if _, err := setup.Create(ctx, Account{ID: "a1", Balance: 2}); err != nil {
			t.Errorf("re-create: %v", err)
		}
	}
	creator := mustNew[Account](t, client, e.table, patient)
	_, err := creator.Create(ctx, Account{ID: "a1", Balance: 1})
	if err != nil && !errors.Is(err, repo.ErrOutcomeUnknown) {
		t.Fatalf("Create whose item was stored, then deleted and created anew by others: %v; "+
			"want ErrOutcomeUnknown (or nil): it did take effect", err)
	}
}
