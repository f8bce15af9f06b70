package repo_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

// BatchGet and SaveAll refuse bad input before any request: the error
// matches its sentinel, names the offending index where there is one, and
// the counter shows no request.
func TestBadInputBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	entries := mustTable[Entry](t, e.client, e.table+"-entries")
	e.counter.Reset()
	ok := context.Background()
	cancelled, cancel := context.WithCancel(ok)
	cancel()
	good := []repo.ItemKey{repo.Key("a0"), repo.Key("a1"), repo.Key("a2")}
	with := func(i int, k repo.ItemKey) []repo.ItemKey {
		keys := append([]repo.ItemKey(nil), good...)
		return append(keys[:i], append([]repo.ItemKey{k}, keys[i:]...)...)
	}
	batchGet := func(ctx context.Context, keys []repo.ItemKey, optFns ...func(*repo.BatchGetOptions)) func() error {
		return func() error { _, err := accounts.BatchGet(ctx, keys, optFns...); return err }
	}
	saveAll := func(ctx context.Context, items []Account, optFns ...func(*repo.BulkOptions)) func() error {
		return func() error {
			res, err := accounts.SaveAll(ctx, items, optFns...)
			if err != nil && res != nil {
				return errors.New("results with a bad-input error")
			}
			return err
		}
	}
	unbounded := retry.Policy{InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, Multiplier: 2}
	newItems := []Account{{ID: "n0"}, {ID: "n1"}, {ID: "n2"}}
	for _, c := range []struct {
		name string
		call func() error
		want error
		says string // a part of the message
	}{
		{"BatchGet/nil key", batchGet(ok, with(2, repo.Key(nil))), repo.ErrInvalidArgument, "key 2"},
		{"BatchGet/int key", batchGet(ok, with(1, repo.Key(7))), repo.ErrInvalidArgument, "key 1"},
		{"BatchGet/empty key", batchGet(ok, with(3, repo.Key(""))), repo.ErrInvalidArgument, "key 3"},
		{"BatchGet/zero ItemKey", batchGet(ok, with(0, repo.ItemKey{})), repo.ErrInvalidArgument, "key 0"},
		{"BatchGet/surplus range value", batchGet(ok, with(1, repo.Key("a", 1))), repo.ErrInvalidArgument, "key 1"},
		{"BatchGet/missing range value", func() error {
			_, err := entries.BatchGet(ok, []repo.ItemKey{repo.Key("u", 1), repo.Key("u")})
			return err
		}, versioned.ErrInvalidKey, "key 1"},
		{"BatchGet/negative concurrency", batchGet(ok, good, func(o *repo.BatchGetOptions) { o.Concurrency = -1 }), repo.ErrInvalidArgument, "Concurrency"},
		{"BatchGet/unbounded retry", batchGet(ok, good, func(o *repo.BatchGetOptions) { o.Retry = unbounded }), retry.ErrInvalidPolicy, "Retry"},
		{"BatchGet/cancelled ctx", batchGet(cancelled, good), context.Canceled, ""},
		{"BatchGet/cancelled ctx, no keys", batchGet(cancelled, nil), context.Canceled, ""},

		{"SaveAll/duplicate items", saveAll(ok, append(newItems, Account{ID: "n1", Version: 3})), repo.ErrInvalidArgument, "items 1 and 3"},
		{"SaveAll/empty key", saveAll(ok, append(newItems, Account{})), repo.ErrInvalidArgument, "item 3"},
		{"SaveAll/too large", saveAll(ok, append([]Account{{ID: "big", Owner: strings.Repeat("x", versioned.MaxItemSize)}}, newItems...)), versioned.ErrItemTooLarge, "item 0"},
		{"SaveAll/negative version", saveAll(ok, append(newItems, Account{ID: "neg", Version: -1})), repo.ErrInvalidArgument, "item 3"},
		{"SaveAll/version overflow", func() error {
			_, err := entries.SaveAll(ok, []Entry{{User: "u", Seq: 1}, {User: "u", Seq: 2, Rev: math.MaxInt32}})
			return err
		}, versioned.ErrVersionOverflow, "item 1"},
		{"SaveAll/negative concurrency", saveAll(ok, newItems, func(o *repo.BulkOptions) { o.Concurrency = -2 }), repo.ErrInvalidArgument, "Concurrency"},
		{"SaveAll/bad write options", saveAll(ok, newItems, func(o *repo.BulkOptions) {
			o.WriteOptions = append(o.WriteOptions, func(o *repo.Options) { o.WriteIDs = 0 })
		}), repo.ErrInvalidArgument, "WriteIDs"},
		{"SaveAll/cancelled ctx", saveAll(cancelled, newItems), context.Canceled, ""},
	} {
		err := c.call()
		t.Logf("%s: %v", c.name, err)
		if !errors.Is(err, c.want) || (c.want != context.Canceled && !errors.Is(err, repo.ErrInvalidArgument)) {
			t.Errorf("%s: %v, want an error matching %v and ErrInvalidArgument", c.name, err, c.want)
		} else if !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %q does not say %q", c.name, err, c.says)
		}
	}
	if n := e.counter.Count(); n != 0 {
		t.Fatalf("%d requests sent (%v), want none", n, e.counter.ByOperation())
	}

	// No keys, no items: empty results, no request.
	for _, keys := range [][]repo.ItemKey{nil, {}} {
		res, err := accounts.BatchGet(ok, keys)
		if err != nil || len(res.Items) != 0 || len(res.Found) != 0 || res.Missing() != nil {
			t.Errorf("BatchGet(%v) = %+v, %v; want an empty result", keys, res, err)
		}
	}
	for _, items := range [][]Account{nil, {}} {
		res, err := accounts.SaveAll(ok, items)
		if err != nil || len(res) != 0 {
			t.Errorf("SaveAll(%v) = %+v, %v; want no results", items, res, err)
		}
	}
	if n := e.counter.Count(); n != 0 {
		t.Fatalf("%d requests sent for empty input (%v), want none", n, e.counter.ByOperation())
	}
}
