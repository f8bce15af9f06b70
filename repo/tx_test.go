package repo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

type LedgerEntry struct {
	ID      string `dynamo:"id,hash"`
	From    string `dynamo:"from"`
	To      string `dynamo:"to"`
	Amount  int64  `dynamo:"amount"`
	Version int64  `dynamo:"version"`
}

var errInsufficient = errors.New("insufficient funds")

// bank is two repositories on two tables sharing one client.
type bank struct {
	e        *env
	accounts *repo.Repository[Account]
	ledger   *repo.Repository[LedgerEntry]
}

func newBank(t *testing.T, balances map[string]int64) *bank {
	t.Helper()
	e := newEnv(t)
	b := &bank{e: e, accounts: newRepo[Account](t, e), ledger: mustTable[LedgerEntry](t, e.client, e.table+"-ledger")}
	for id, bal := range balances {
		mustCreate(t, b.accounts, Account{ID: id, Balance: bal})
	}
	e.counter.Reset()
	return b
}

// through is b on the same tables through client (and optFns), which may
// inject faults.
func (b *bank) through(t *testing.T, client *dynamodb.Client, optFns ...func(*repo.Options)) *bank {
	t.Helper()
	return &bank{
		e:        b.e,
		accounts: mustNew[Account](t, client, b.accounts.Table(), optFns...),
		ledger:   mustNew[LedgerEntry](t, client, b.ledger.Table(), optFns...),
	}
}

// pair reads the accounts x and y through tx, one TxGet each.
func (b *bank) pair(tx *repo.Tx, x, y string) (Account, Account, error) {
	a, err := b.accounts.TxGet(tx, repo.Key(x))
	if err != nil {
		return Account{}, Account{}, err
	}
	c, err := b.accounts.TxGet(tx, repo.Key(y))
	return a, c, err
}

func (b *bank) transfer(id, from, to string, amount int64) func(*repo.Tx) error {
	return func(tx *repo.Tx) error {
		f, t, err := b.pair(tx, from, to)
		if err != nil {
			return err
		}
		if f.Balance < amount {
			return errInsufficient
		}
		f.Balance -= amount
		t.Balance += amount
		if err := b.accounts.TxSave(tx, &f); err != nil {
			return err
		}
		if err := b.accounts.TxSave(tx, &t); err != nil {
			return err
		}
		return b.ledger.TxCreate(tx, &LedgerEntry{ID: id, From: from, To: to, Amount: amount})
	}
}

func TestTransactTransfer(t *testing.T) {
	t.Parallel()
	b := newBank(t, map[string]int64{"a1": 100, "a2": 0})
	ctx := context.Background()

	var from, to Account
	var entry LedgerEntry
	err := repo.Transact(ctx, b.e.client, func(tx *repo.Tx) error {
		var err error
		if from, err = b.accounts.TxGet(tx, repo.Key("a1")); err != nil {
			return err
		}
		if to, err = b.accounts.TxGet(tx, repo.Key("a2")); err != nil {
			return err
		}
		from.Balance -= 30
		to.Balance += 30
		entry = LedgerEntry{ID: "e1", From: "a1", To: "a2", Amount: 30}
		if err := b.accounts.TxSave(tx, &from); err != nil {
			return err
		}
		if err := b.accounts.TxSave(tx, &to); err != nil {
			return err
		}
		return b.ledger.TxCreate(tx, &entry)
	})
	if err != nil {
		t.Fatalf("Transact: %v", err)
	}
	// The values the caller holds carry the new versions.
	if from.Version != 2 || to.Version != 2 || entry.Version != 1 {
		t.Fatalf("versions after commit: from %d, to %d, entry %d; want 2, 2, 1", from.Version, to.Version, entry.Version)
	}
	for id, want := range map[string]int64{"a1": 70, "a2": 30} {
		got, _ := b.accounts.Get(ctx, repo.Key(id))
		if got.Balance != want || got.Version != 2 {
			t.Errorf("%s = %+v, want balance %d at version 2", id, got, want)
		}
	}
	if got, err := b.ledger.Get(ctx, repo.Key("e1")); err != nil || got != entry {
		t.Errorf("ledger entry %+v, %v; want %+v", got, err, entry)
	}
	// 2 reads and one commit.
	if ops := b.e.counter.ByOperation(); ops["GetItem"] != 2+3 || ops["TransactWriteItems"] != 1 {
		t.Errorf("requests %v, want 2 GetItem (+3 checks) and 1 TransactWriteItems", ops)
	}

	// An error from fn: nothing written, returned as is, no retry.
	b.e.counter.Reset()
	calls := 0
	err = repo.Transact(ctx, b.e.client, func(tx *repo.Tx) error {
		calls++
		return b.transfer("e2", "a2", "a1", 1000)(tx)
	})
	if !errors.Is(err, errInsufficient) || calls != 1 {
		t.Fatalf("Transact with a failing fn: %v after %d calls, want errInsufficient after 1", err, calls)
	}
	if ops := b.e.counter.ByOperation(); ops["TransactWriteItems"] != 0 {
		t.Fatalf("a failing fn committed: %v", ops)
	}
}

// Write skew: two transactions each read A and B and write one of them. The
// one that commits second must fail its check of the item it only read,
// and run again on the new state.
func TestTransactWriteSkew(t *testing.T) {
	t.Parallel()
	// On-call rule: at least one of the two doctors stays on call.
	b := newBank(t, map[string]int64{"alice": 1, "bob": 1})
	ctx := context.Background()
	offCall := func(me, other string, before func()) func(*repo.Tx) error {
		return func(tx *repo.Tx) error {
			m, o, err := b.pair(tx, me, other)
			if err != nil {
				return err
			}
			if before != nil {
				before()
			}
			if m.Balance+o.Balance < 2 {
				return errInsufficient // the other one already left
			}
			m.Balance = 0
			return b.accounts.TxSave(tx, &m)
		}
	}
	calls := 0
	err := repo.Transact(ctx, b.e.client, offCall("alice", "bob", func() {
		calls++
		if calls == 1 { // bob leaves while alice's transaction is open
			if err := repo.Transact(ctx, b.e.client, offCall("bob", "alice", nil)); err != nil {
				t.Fatalf("bob's transaction: %v", err)
			}
		}
	}))
	if !errors.Is(err, errInsufficient) || calls != 2 {
		t.Fatalf("alice's transaction: %v after %d runs; want errInsufficient on the second run", err, calls)
	}
	a, _ := b.accounts.Get(ctx, repo.Key("alice"))
	bb, _ := b.accounts.Get(ctx, repo.Key("bob"))
	if a.Balance+bb.Balance != 1 {
		t.Fatalf("alice %d + bob %d on call: write skew", a.Balance, bb.Balance)
	}
}

// The second attempt reads the item the cancellation returned instead of
// reading it again.
func TestTransactReusesCancellationItems(t *testing.T) {
	t.Parallel()
	b := newBank(t, map[string]int64{"a1": 100, "a2": 100})
	ctx := context.Background()
	var conflicts []repo.ConflictEvent
	calls := 0
	err := repo.Transact(ctx, b.e.client, func(tx *repo.Tx) error {
		calls++
		if err := b.transfer("e1", "a1", "a2", 10)(tx); err != nil {
			return err
		}
		if calls == 1 { // a competitor moves a2 on after our reads
			if _, err := b.accounts.Update(ctx, repo.Key("a2"), func(a *Account) error { a.Balance += 5; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	}, func(o *repo.TxOptions) {
		o.Observer.Conflict = func(ev repo.ConflictEvent) { conflicts = append(conflicts, ev) }
	})
	if err != nil || calls != 2 {
		t.Fatalf("Transact: %v after %d runs, want success on the second", err, calls)
	}
	if len(conflicts) != 1 || conflicts[0].Expected != 1 || conflicts[0].Actual != 2 || conflicts[0].Op != "Transact.Save" {
		t.Fatalf("conflict events %+v, want one on a2: expected 1, actual 2", conflicts)
	}
	// Reads: 2 on the first run, 1 on the second (a2 came with the
	// cancellation), 1 by the competitor.
	if ops := b.e.counter.ByOperation(); ops["GetItem"] != 4 {
		t.Fatalf("requests %v, want 4 GetItem", ops)
	}
	a2, _ := b.accounts.Get(ctx, repo.Key("a2"))
	if a2.Balance != 115 {
		t.Fatalf("a2 = %d, want 115", a2.Balance)
	}
}

// Mixed cancellation reasons map to the caller's operations, in order.
func TestTransactCancellationMapping(t *testing.T) {
	t.Parallel()
	b := newBank(t, map[string]int64{"a1": 100, "a2": 100, "a3": 7})
	le, _ := newLock(t, "someone-else", 9)
	ctx := context.Background()
	mustCreate(t, b.ledger, LedgerEntry{ID: "dup", Amount: 1})
	a3, _ := b.accounts.Get(ctx, repo.Key("a3"))
	if _, err := b.accounts.Update(ctx, repo.Key("a3"), func(a *Account) error { a.Balance = 8; return nil }); err != nil {
		t.Fatal(err)
	}

	calls := 0
	err := repo.Transact(ctx, b.e.client, func(tx *repo.Tx) error {
		calls++
		a1, err := b.accounts.TxGet(tx, repo.Key("a1")) // 0: read, unchanged: fine
		if err != nil {
			return err
		}
		a1.Balance--
		if err := b.accounts.TxSave(tx, &a1); err != nil { // still 0: now a Save
			return err
		}
		stale := a3
		stale.Balance = 0
		if err := b.accounts.TxSave(tx, &stale); err != nil { // 1: version conflict
			return err
		}
		if err := b.ledger.TxCreate(tx, &LedgerEntry{ID: "dup"}); err != nil { // 2: exists
			return err
		}
		return tx.Check(heldBy(le.table, "me", 9)) // 3: guard fails
	})
	var te *repo.TxError
	if !errors.As(err, &te) {
		t.Fatalf("Transact: %v, want a *TxError", err)
	}
	if calls != 1 {
		t.Fatalf("fn ran %d times: a guard or create failure must not re-run it", calls)
	}
	for _, target := range []error{repo.ErrConflict, repo.ErrAlreadyExists, repo.ErrGuardFailed, errLost} {
		if !errors.Is(err, target) {
			t.Errorf("errors.Is(err, %v) = false", target)
		}
	}
	want := []struct {
		index int
		op    string
		code  string
	}{{1, "Save", "ConditionalCheckFailed"}, {2, "Create", "ConditionalCheckFailed"}, {3, "Guard", "ConditionalCheckFailed"}}
	if len(te.Failures) != len(want) {
		t.Fatalf("failures %+v, want %d", te.Failures, len(want))
	}
	for i, w := range want {
		f := te.Failures[i]
		if f.Index != w.index || f.Op != w.op || f.Code != w.code {
			t.Errorf("failure %d = {%d %s %s}, want %+v", i, f.Index, f.Op, f.Code, w)
		}
	}
	if f := te.Failures[0]; f.Expected != 1 || f.Actual != 2 || f.Table != b.e.table {
		t.Errorf("save failure %+v, want expected 1, actual 2 on %s", f, b.e.table)
	}
	if cur, ok := repo.TxCurrent[Account](te, 0); !ok || cur.Balance != 8 {
		t.Errorf("current a3 = %+v, %v; want balance 8", cur, ok)
	}
	if cur, ok := repo.TxCurrent[LedgerEntry](te, 1); !ok || cur.Amount != 1 {
		t.Errorf("current ledger dup = %+v, %v", cur, ok)
	}
	if !strings.Contains(err.Error(), "expected version 1, found 2") {
		t.Errorf("message %q", err)
	}
	a1, _ := b.accounts.Get(ctx, repo.Key("a1"))
	if a1.Balance != 100 {
		t.Errorf("a cancelled transaction wrote a1: %+v", a1)
	}
}

// tokenRecorder records the ClientRequestToken of every TransactWriteItems
// it sends on.
type tokenRecorder struct {
	mu     sync.Mutex
	tokens []string
}

func (r *tokenRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if faults.Operation(req) == "TransactWriteItems" {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		var in struct{ ClientRequestToken string }
		_ = json.Unmarshal(body, &in)
		r.mu.Lock()
		r.tokens = append(r.tokens, in.ClientRequestToken)
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestTransactReplayIsIdempotent(t *testing.T) {
	t.Parallel()
	b := newBank(t, map[string]int64{"a1": 100, "a2": 0})
	rec := &tokenRecorder{}
	tr := faults.New(faults.Config{Ops: []string{"TransactWriteItems"}}, rec)
	tr.Script(faults.Drop) // the first commit is applied, its response lost
	client := ddblocal.Client(t, tr.Option())
	ctx := context.Background()
	calls := 0
	fn := b.transfer("e1", "a1", "a2", 30)
	err := repo.Transact(ctx, client, func(tx *repo.Tx) error { calls++; return fn(tx) }, func(o *repo.TxOptions) {
		o.Retry = retry.Policy{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond, Multiplier: 2, MaxAttempts: 5}
	})
	if err != nil || calls != 1 {
		t.Fatalf("Transact after a lost commit response: %v after %d runs, want success after 1", err, calls)
	}
	if len(rec.tokens) < 2 || rec.tokens[0] == "" || rec.tokens[0] != rec.tokens[1] {
		t.Fatalf("tokens sent %q: want the replay to carry the first token", rec.tokens)
	}
	a1, _ := b.accounts.Get(ctx, repo.Key("a1"))
	a2, _ := b.accounts.Get(ctx, repo.Key("a2"))
	if a1.Balance != 70 || a2.Balance != 30 || a1.Version != 2 {
		t.Fatalf("a1 %+v, a2 %+v: the transfer must be applied exactly once", a1, a2)
	}

	// A new attempt after a conflict uses a new token.
	rec.mu.Lock()
	rec.tokens = nil
	rec.mu.Unlock()
	calls = 0
	err = repo.Transact(ctx, client, func(tx *repo.Tx) error {
		calls++
		if err := b.transfer("e2", "a1", "a2", 1)(tx); err != nil {
			return err
		}
		if calls == 1 {
			_, err := b.accounts.Update(ctx, repo.Key("a1"), func(a *Account) error { a.Balance++; return nil })
			return err
		}
		return nil
	})
	if err != nil || len(rec.tokens) != 2 || rec.tokens[0] == rec.tokens[1] {
		t.Fatalf("re-run after a conflict: %v, tokens %q; want two distinct tokens", err, rec.tokens)
	}
}

func TestTransactOperations(t *testing.T) {
	t.Parallel()
	b := newBank(t, map[string]int64{"a1": 10, "a2": 20, "a3": 30})
	ctx := context.Background()
	a1, _ := b.accounts.Get(ctx, repo.Key("a1"))
	a2, _ := b.accounts.Get(ctx, repo.Key("a2"))
	a3, _ := b.accounts.Get(ctx, repo.Key("a3"))
	over := Account{ID: "a4", Balance: 44, Version: 99}
	err := repo.Transact(ctx, b.e.client, func(tx *repo.Tx) error {
		if err := b.accounts.TxCheck(tx, a1); err != nil {
			return err
		}
		a2.Balance = 999 // a bump changes the version only
		if err := b.accounts.TxBump(tx, &a2); err != nil {
			return err
		}
		if err := b.accounts.TxDelete(tx, a3); err != nil {
			return err
		}
		return b.accounts.TxOverwrite(tx, &over)
	})
	if err != nil {
		t.Fatalf("Transact: %v", err)
	}
	if got, _ := b.accounts.Get(ctx, repo.Key("a1")); got != a1 {
		t.Errorf("checked a1 changed: %+v", got)
	}
	if got, _ := b.accounts.Get(ctx, repo.Key("a2")); got.Version != 2 || got.Balance != 20 || a2.Version != 2 {
		t.Errorf("bumped a2 stored %+v, caller holds version %d; want balance 20 at version 2", got, a2.Version)
	}
	if _, err := b.accounts.Get(ctx, repo.Key("a3")); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("deleted a3: %v", err)
	}
	if got, _ := b.accounts.Get(ctx, repo.Key("a4")); got.Balance != 44 || got.Version != 1 {
		t.Errorf("overwritten a4 = %+v, want balance 44 at version 1", got)
	}

	// A check of a stale item fails the commit and, after re-runs that
	// change nothing, the policy gives up with a conflict.
	stale := a1
	stale.Version = 7
	err = repo.Transact(ctx, b.e.client, func(tx *repo.Tx) error {
		if err := b.accounts.TxCheck(tx, stale); err != nil {
			return err
		}
		x, _ := b.accounts.Get(ctx, repo.Key("a2"))
		return b.accounts.TxSave(tx, &x)
	}, func(o *repo.TxOptions) {
		o.Retry = retry.Policy{InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, Multiplier: 1, MaxAttempts: 3}
	})
	if !errors.Is(err, repo.ErrConflict) || !errors.Is(err, retry.ErrExhausted) || !strings.Contains(err.Error(), "3 attempts") {
		t.Fatalf("stale check: %v, want ErrConflict after 3 attempts", err)
	}
}

func TestTransactGetMany(t *testing.T) {
	t.Parallel()
	b := newBank(t, map[string]int64{"a1": 1, "a2": 2})
	ctx := context.Background()
	var items []Account
	var found []bool
	err := repo.Transact(ctx, b.e.client, func(tx *repo.Tx) error {
		var err error
		items, found, err = b.accounts.TxGetMany(tx, repo.Key("a1"), repo.Key("nope"), repo.Key("a2"))
		if err != nil {
			return err
		}
		// Reads through the transaction are repeatable.
		again, err := b.accounts.TxGet(tx, repo.Key("a2"))
		if err != nil || again != items[2] {
			t.Errorf("TxGet after TxGetMany = %+v, %v", again, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !found[0] || found[1] || !found[2] || items[0].Balance != 1 || items[2].Balance != 2 {
		t.Fatalf("TxGetMany = %+v, %v", items, found)
	}
	if ops := b.e.counter.ByOperation(); ops["TransactGetItems"] != 1 || ops["GetItem"] != 0 || ops["TransactWriteItems"] != 0 {
		t.Fatalf("requests %v: want one TransactGetItems and no commit for a read-only transaction", ops)
	}
}

func TestTransactLimits(t *testing.T) {
	t.Parallel()
	b := newBank(t, map[string]int64{"a1": 1})
	ctx := context.Background()
	a1, _ := b.accounts.Get(ctx, repo.Key("a1"))
	big := strings.Repeat("x", 350*1024)
	cases := []struct {
		name string
		fn   func(*repo.Tx) error
		want error
	}{
		{"101 operations", func(tx *repo.Tx) error {
			for i := 0; i <= repo.MaxTxOps; i++ {
				if err := b.ledger.TxCreate(tx, &LedgerEntry{ID: strings.Repeat("e", 1) + string(rune('a'+i%26)) + string(rune('a'+i/26))}); err != nil {
					return err
				}
			}
			return nil
		}, repo.ErrInvalidArgument},
		{"same item twice", func(tx *repo.Tx) error {
			x, y := a1, a1
			_ = b.accounts.TxSave(tx, &x)
			return b.accounts.TxSave(tx, &y)
		}, repo.ErrInvalidArgument},
		{"ignored staging error still stops the commit", func(tx *repo.Tx) error {
			x, y := a1, a1
			_ = b.accounts.TxSave(tx, &x)
			_ = b.accounts.TxDelete(tx, y)
			return nil
		}, repo.ErrInvalidArgument},
		{"over 4 MB", func(tx *repo.Tx) error {
			for i := 0; i < 12; i++ {
				if err := b.ledger.TxCreate(tx, &LedgerEntry{ID: "big" + string(rune('a'+i)), From: big}); err != nil {
					return err
				}
			}
			return nil
		}, repo.ErrInvalidArgument},
		{"item over 400 KB", func(tx *repo.Tx) error {
			return b.ledger.TxCreate(tx, &LedgerEntry{ID: "huge", From: big + big})
		}, versioned.ErrItemTooLarge},
		{"create with a version", func(tx *repo.Tx) error { return b.ledger.TxCreate(tx, &LedgerEntry{ID: "v", Version: 3}) }, repo.ErrInvalidArgument},
		{"save of a never-stored item", func(tx *repo.Tx) error { return b.accounts.TxSave(tx, &Account{ID: "new"}) }, repo.ErrInvalidArgument},
		{"nil item", func(tx *repo.Tx) error { return b.accounts.TxSave(tx, nil) }, repo.ErrInvalidArgument},
		{"bad key", func(tx *repo.Tx) error { _, err := b.accounts.TxGet(tx, repo.Key(3)); return err }, repo.ErrInvalidArgument},
		{"read after write", func(tx *repo.Tx) error {
			x := a1
			_ = b.accounts.TxSave(tx, &x)
			_, err := b.accounts.TxGet(tx, repo.Key("a1"))
			return err
		}, repo.ErrInvalidArgument},
	}
	for _, c := range cases {
		b.e.counter.Reset()
		err := repo.Transact(ctx, b.e.client, c.fn)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if ops := b.e.counter.ByOperation(); ops["TransactWriteItems"] != 0 {
			t.Errorf("%s: a commit was sent", c.name)
		}
	}
	if err := repo.Transact(ctx, b.e.client, nil); !errors.Is(err, repo.ErrInvalidArgument) {
		t.Errorf("nil fn: %v", err)
	}
	if err := repo.Transact(ctx, nil, func(*repo.Tx) error { return nil }); !errors.Is(err, repo.ErrInvalidArgument) {
		t.Errorf("nil client: %v", err)
	}
	b.e.counter.Reset()
	if err := repo.Transact(ctx, b.e.client, func(*repo.Tx) error { return nil }); err != nil || b.e.counter.Count() != 0 {
		t.Errorf("empty transaction: %v with %d requests, want a no-op", err, b.e.counter.Count())
	}
}
