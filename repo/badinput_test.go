package repo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/versioned"
)

// TestBadInputSweep calls every public operation with every kind of
// malformed input that the input alone makes wrong, and checks for a clear
// error (matching a sentinel) and that no request was sent.
func TestBadInputSweep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	entries := mustNew[Entry](t, e.client, e.table+"-entries")
	ok := context.Background()
	cancelled, cancel := context.WithCancel(ok)
	cancel()
	expired, cancel2 := context.WithDeadline(ok, time.Now().Add(-time.Second))
	defer cancel2()
	stored := Account{ID: "a1", Version: 1}
	inc := func(a *Account) error { a.Balance++; return nil }
	huge := Account{ID: "big", Version: 1, Owner: strings.Repeat("x", versioned.MaxItemSize)}
	badGuard := repo.Guard(repo.Condition{Table: "ok-table", Name: "no key"})

	// ops calls one operation with a context; each returns its error.
	ops := map[string]func(ctx context.Context) error{
		"Get":         func(ctx context.Context) error { _, err := accounts.Get(ctx, repo.Key("a1")); return err },
		"Create":      func(ctx context.Context) error { _, err := accounts.Create(ctx, Account{ID: "n1"}); return err },
		"Save":        func(ctx context.Context) error { _, err := accounts.Save(ctx, stored); return err },
		"Update":      func(ctx context.Context) error { _, err := accounts.Update(ctx, repo.Key("a1"), inc); return err },
		"Delete":      func(ctx context.Context) error { return accounts.Delete(ctx, stored) },
		"DeleteKey":   func(ctx context.Context) error { return accounts.DeleteKey(ctx, repo.Key("a1")) },
		"Overwrite":   func(ctx context.Context) error { _, err := accounts.Overwrite(ctx, stored); return err },
		"CreateTable": func(ctx context.Context) error { return accounts.CreateTable(ctx) },
		"Query": func(ctx context.Context) error {
			for _, err := range accounts.Query(ctx, "a1") {
				return err
			}
			return nil
		},
		"Transact": func(ctx context.Context) error {
			return repo.Transact(ctx, e.client, func(tx *repo.Tx) error { return accounts.TxSave(tx, &stored) })
		},
	}
	var cases []bad
	for name, op := range ops {
		cases = append(cases,
			bad{name + "/cancelled ctx", func() error { return op(cancelled) }, context.Canceled},
			bad{name + "/expired ctx", func() error { return op(expired) }, context.DeadlineExceeded})
	}
	for _, k := range []struct {
		name string
		key  repo.ItemKey
	}{
		{"int for a string key", repo.Key(7)}, {"empty string key", repo.Key("")}, {"nil key", repo.Key(nil)},
		{"surplus range value", repo.Key("a1", 1)}, {"[]byte for a string key", repo.Key([]byte("a1"))},
		{"struct key", repo.Key(struct{}{})},
	} {
		cases = append(cases,
			bad{"Get/" + k.name, func() error { _, err := accounts.Get(ok, k.key); return err }, repo.ErrInvalidArgument},
			bad{"Update/" + k.name, func() error { _, err := accounts.Update(ok, k.key, inc); return err }, repo.ErrInvalidArgument},
			bad{"DeleteKey/" + k.name, func() error { return accounts.DeleteKey(ok, k.key) }, repo.ErrInvalidArgument},
			bad{"TxGet/" + k.name, func() error {
				return repo.Transact(ok, e.client, func(tx *repo.Tx) error { _, err := accounts.TxGet(tx, k.key); return err })
			}, repo.ErrInvalidArgument},
			bad{"TxGetMany/" + k.name, func() error {
				return repo.Transact(ok, e.client, func(tx *repo.Tx) error { _, _, err := accounts.TxGetMany(tx, k.key); return err })
			}, repo.ErrInvalidArgument})
	}
	cases = append(cases,
		bad{"Get/missing range value", func() error { _, err := entries.Get(ok, repo.Key("u1")); return err }, repo.ErrInvalidArgument},
		bad{"Get/range of wrong type", func() error { _, err := entries.Get(ok, repo.Key("u1", "x")); return err }, repo.ErrInvalidArgument},
		bad{"Query/hash of wrong type", func() error {
			for _, err := range accounts.Query(ok, 1) {
				return err
			}
			return nil
		}, repo.ErrInvalidArgument},
		bad{"Query/negative page size", func() error {
			for _, err := range accounts.Query(ok, "a1", func(o *repo.QueryOptions) { o.PageSize = -1 }) {
				return err
			}
			return nil
		}, repo.ErrInvalidArgument},
		bad{"Query/unbounded retry policy", func() error {
			for _, err := range accounts.Query(ok, "a1", func(o *repo.QueryOptions) { o.Retry.MaxAttempts, o.Retry.MaxElapsedTime = 0, 0 }) {
				return err
			}
			return nil
		}, repo.ErrInvalidArgument},
		bad{"Query/range value of wrong type", func() error {
			for _, err := range entries.Query(ok, "u1", func(o *repo.QueryOptions) { o.Range = repo.RangeGreater(true) }) {
				return err
			}
			return nil
		}, repo.ErrInvalidArgument},
		bad{"Query/range on a type without a range key", func() error {
			for _, err := range accounts.Query(ok, "a1", func(o *repo.QueryOptions) { o.Range = repo.RangeEquals("x") }) {
				return err
			}
			return nil
		}, repo.ErrInvalidArgument},
		bad{"Update/nil fn", func() error { _, err := accounts.Update(ok, repo.Key("a1"), nil); return err }, repo.ErrInvalidArgument},
		bad{"Create/empty hash", func() error { _, err := accounts.Create(ok, Account{}); return err }, repo.ErrInvalidArgument},
		bad{"Create/non-zero version", func() error { _, err := accounts.Create(ok, Account{ID: "x", Version: 2}); return err }, repo.ErrInvalidArgument},
		bad{"Create/too large", func() error { h := huge; h.Version = 0; _, err := accounts.Create(ok, h); return err }, versioned.ErrItemTooLarge},
		bad{"Save/too large", func() error { _, err := accounts.Save(ok, huge); return err }, versioned.ErrItemTooLarge},
		bad{"Save/empty hash", func() error { _, err := accounts.Save(ok, Account{Version: 1}); return err }, repo.ErrInvalidArgument},
		bad{"Overwrite/too large", func() error { _, err := accounts.Overwrite(ok, huge); return err }, versioned.ErrItemTooLarge},
		bad{"Overwrite/guarded", func() error {
			g := repo.Guard(repo.Condition{Table: "ok-table", Name: "a lease",
				Key:  map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "l"}},
				Cond: expression.Name("owner").Equal(expression.Value("me"))})
			_, err := accounts.Overwrite(ok, stored, g)
			return err
		}, repo.ErrInvalidArgument},
		bad{"Delete/version 0", func() error { return accounts.Delete(ok, Account{ID: "a1"}) }, repo.ErrInvalidArgument},
		bad{"Delete/empty hash", func() error { return accounts.Delete(ok, Account{Version: 1}) }, repo.ErrInvalidArgument},
		bad{"Save/bad guard", func() error { _, err := accounts.Save(ok, stored, badGuard); return err }, repo.ErrInvalidArgument},
		bad{"Update/bad write-id bound", func() error {
			_, err := accounts.Update(ok, repo.Key("a1"), inc, func(o *repo.Options) { o.WriteIDs = 65 })
			return err
		}, repo.ErrInvalidArgument},
		bad{"Update/empty write-id attribute", func() error {
			_, err := accounts.Update(ok, repo.Key("a1"), inc, func(o *repo.Options) { o.WriteIDAttribute = "" })
			return err
		}, repo.ErrInvalidArgument},
		bad{"Transact/nil fn", func() error { return repo.Transact(ok, e.client, nil) }, repo.ErrInvalidArgument},
		bad{"Transact/nil client", func() error { return repo.Transact(ok, nil, func(*repo.Tx) error { return nil }) }, repo.ErrInvalidArgument},
		bad{"Transact/bad policy", func() error {
			return repo.Transact(ok, e.client, func(*repo.Tx) error { return nil }, func(o *repo.TxOptions) { o.Retry.InitialInterval = 0 })
		}, repo.ErrInvalidArgument},
		bad{"TxSave/nil", func() error {
			return repo.Transact(ok, e.client, func(tx *repo.Tx) error { return accounts.TxSave(tx, nil) })
		}, repo.ErrInvalidArgument},
		bad{"TxBump/version 0", func() error {
			return repo.Transact(ok, e.client, func(tx *repo.Tx) error { return accounts.TxBump(tx, &Account{ID: "a1"}) })
		}, repo.ErrInvalidArgument},
		bad{"TxDelete/version 0", func() error {
			return repo.Transact(ok, e.client, func(tx *repo.Tx) error { return accounts.TxDelete(tx, Account{ID: "a1"}) })
		}, repo.ErrInvalidArgument},
		bad{"TxOverwrite/too large", func() error {
			return repo.Transact(ok, e.client, func(tx *repo.Tx) error { h := huge; return accounts.TxOverwrite(tx, &h) })
		}, versioned.ErrItemTooLarge},
		bad{"TxGetMany/101 keys", func() error {
			keys := make([]repo.ItemKey, 101)
			for i := range keys {
				keys[i] = repo.Key("k")
			}
			return repo.Transact(ok, e.client, func(tx *repo.Tx) error { _, _, err := accounts.TxGetMany(tx, keys...); return err })
		}, repo.ErrInvalidArgument},
		bad{"Tx.Check/no condition", func() error {
			return repo.Transact(ok, e.client, func(tx *repo.Tx) error {
				return tx.Check(repo.Condition{Table: "ok-table", Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "x"}}})
			})
		}, repo.ErrInvalidArgument},
		bad{"Tx.Check/bad table", func() error {
			return repo.Transact(ok, e.client, func(tx *repo.Tx) error { return tx.Check(repo.Condition{Table: "x"}) })
		}, repo.ErrInvalidArgument},
	)
	refused(t, e, cases)
	t.Logf("%d malformed inputs checked", len(cases))
}

// bad is a call with malformed input and the sentinel its error must match.
type bad struct {
	name string
	call func() error
	want error
}

// refused runs every case and checks that it fails with its sentinel, in
// a message that says where it comes from, before any request is sent.
func refused(t *testing.T, e *env, cases []bad) {
	t.Helper()
	for _, c := range cases {
		e.counter.Reset()
		err := c.call()
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		} else if msg := err.Error(); !strings.HasPrefix(msg, "repo: ") && !strings.HasPrefix(msg, "versioned: ") {
			t.Errorf("%s: message %q does not say where it comes from", c.name, msg)
		}
		if n := e.counter.Count(); n != 0 {
			t.Errorf("%s: %d requests sent, want none", c.name, n)
		}
	}
}
