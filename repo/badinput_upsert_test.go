package repo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/versioned"
)

// TestBadInputUpsert: Upsert and the adopting Save and Delete refuse input
// that is wrong by itself with a clear error, before sending any request.
func TestBadInputUpsert(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	entries := mustNew[Entry](t, e.client, e.table+"-entries")
	ok := context.Background()
	cancelled, cancel := context.WithCancel(ok)
	cancel()
	expired, cancel2 := context.WithDeadline(ok, time.Now().Add(-time.Second))
	defer cancel2()
	inc := func(a *Account) error { a.Balance++; return nil }
	huge := Account{ID: "big", Owner: strings.Repeat("x", versioned.MaxItemSize)}

	cases := []bad{
		{"Upsert/nil fn", func() error { _, err := accounts.Upsert(ok, repo.Key("a1"), nil); return err }, repo.ErrInvalidArgument},
		{"Upsert/cancelled ctx", func() error { _, err := accounts.Upsert(cancelled, repo.Key("a1"), inc); return err }, context.Canceled},
		{"Upsert/expired ctx", func() error { _, err := accounts.Upsert(expired, repo.Key("a1"), inc); return err }, context.DeadlineExceeded},
		{"Upsert/missing range value", func() error {
			_, err := entries.Upsert(ok, repo.Key("u1"), func(*Entry) error { return nil })
			return err
		}, repo.ErrInvalidArgument},
		{"Upsert/bad write-id bound", func() error {
			_, err := accounts.Upsert(ok, repo.Key("a1"), inc, func(o *repo.Options) { o.WriteIDs = 65 })
			return err
		}, repo.ErrInvalidArgument},
		{"Save adopting/empty hash", func() error { _, err := accounts.Save(ok, Account{}, repo.Adopting); return err }, repo.ErrInvalidArgument},
		{"Save adopting/too large", func() error { _, err := accounts.Save(ok, huge, repo.Adopting); return err }, versioned.ErrItemTooLarge},
		{"Save adopting/cancelled ctx", func() error { _, err := accounts.Save(cancelled, Account{ID: "a1"}, repo.Adopting); return err }, context.Canceled},
		{"Delete adopting/empty hash", func() error { return accounts.Delete(ok, Account{}, repo.Adopting) }, repo.ErrInvalidArgument},
		{"Delete adopting/cancelled ctx", func() error { return accounts.Delete(cancelled, Account{ID: "a1"}, repo.Adopting) }, context.Canceled},
	}
	for _, k := range []struct {
		name string
		key  repo.ItemKey
	}{
		{"int for a string key", repo.Key(7)}, {"empty string key", repo.Key("")}, {"nil key", repo.Key(nil)},
		{"surplus range value", repo.Key("a1", 1)}, {"[]byte for a string key", repo.Key([]byte("a1"))},
		{"struct key", repo.Key(struct{}{})},
	} {
		cases = append(cases, bad{"Upsert/" + k.name, func() error { _, err := accounts.Upsert(ok, k.key, inc); return err }, repo.ErrInvalidArgument})
	}
	refused(t, e, cases)
}
