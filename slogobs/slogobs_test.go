package slogobs_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/slogobs"
)

func TestMain(m *testing.M) { ddblocal.RunTests(m) }

type account struct {
	ID      string `dynamo:"id,hash"`
	Balance int64  `dynamo:"balance"`
	Version int64  `dynamo:"version"`
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// records parses the JSON lines written so far.
func (s *syncBuffer) records(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func find(recs []map[string]any, msg string, match func(map[string]any) bool) map[string]any {
	for _, r := range recs {
		if r["msg"] == msg && (match == nil || match(r)) {
			return r
		}
	}
	return nil
}

// TestRepoAndLease: a repository and a lease Manager with slogobs
// observers log their requests (Debug), a conflict (Info), an acquisition
// (Info) and a lost lease (Warn), with the events' data, and never the
// lease's data.
func TestRepoAndLease(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client := ddblocal.Client(t)
	table := ddblocal.TableName(t)
	ctx := context.Background()

	accounts, err := repo.New[account](client, table, func(o *repo.Options) { o.Observer = slogobs.Repo(logger); o.KeepItems = 0 })
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
	if _, err := other.Update(ctx, repo.Key("a"), func(a *account) error { a.Balance = 7; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Save(ctx, a); !errors.Is(err, repo.ErrConflict) {
		t.Fatalf("Save: %v", err)
	}
	if _, err := accounts.Update(ctx, repo.Key("a"), func(a *account) error { a.Balance++; return nil }); err != nil {
		t.Fatal(err)
	}

	locks, err := lease.New(client, table+"-locks", func(o *lease.Options) {
		o.Observer = slogobs.Lease(logger)
		o.Data = []byte("secret-payload")
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := locks.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := locks.Acquire(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}

	recs := buf.records(t)
	req := find(recs, "ddbocc request", func(r map[string]any) bool { return r["op"] == "UpdateItem" && r["outcome"] == "condition_failed" })
	if req == nil || req["level"] != "DEBUG" || req["table"] != table {
		t.Fatalf("no Debug record of the refused UpdateItem: %v", req)
	}
	if c := find(recs, "ddbocc conflict", nil); c == nil || c["level"] != "INFO" || c["expected"] != 1.0 || c["actual"] != 2.0 {
		t.Fatalf("conflict record: %v", c)
	}
	if acq := find(recs, "ddbocc lease acquired", nil); acq == nil || acq["name"] != "job" || acq["token"] != 1.0 {
		t.Fatalf("acquired record: %v", acq)
	}
	if rel := find(recs, "ddbocc lease released", nil); rel == nil {
		t.Fatal("no released record")
	}
	if find(recs, "ddbocc request", func(r map[string]any) bool { return r["table"] == table+"-locks" }) == nil {
		t.Fatal("no request record of the lease Manager")
	}
	buf.mu.Lock()
	leaked := strings.Contains(buf.b.String(), "secret-payload")
	buf.mu.Unlock()
	if leaked {
		t.Fatal("lease data logged")
	}
	// A failed request is a Warn.
	var warn syncBuffer
	wl := slog.New(slog.NewJSONHandler(&warn, nil))
	missing, _ := repo.New[account](client, table+"-missing", func(o *repo.Options) { o.Observer = slogobs.Repo(wl) })
	if _, err := missing.Get(ctx, repo.Key("a")); !errors.Is(err, repo.ErrTableNotFound) {
		t.Fatalf("Get on a missing table: %v", err)
	}
	if r := find(warn.records(t), "ddbocc request", nil); r == nil || r["level"] != "WARN" || r["outcome"] != "error" {
		t.Fatalf("failed request record: %v", r)
	}
	if os.Getenv("SLOGOBS_SHOW") != "" {
		t.Log(buf.b.String())
	}
}
