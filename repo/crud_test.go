package repo_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

func TestCreateGetSaveDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	ctx := context.Background()

	a := mustCreate(t, accounts, Account{ID: "a1", Owner: "ann", Balance: 100})
	if a.Version != 1 {
		t.Fatalf("Create returned version %d, want 1", a.Version)
	}
	got, err := accounts.Get(ctx, repo.Key("a1"))
	if err != nil || got != a {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, a)
	}

	a.Balance = 70
	a2, err := accounts.Save(ctx, a)
	if err != nil || a2.Version != 2 || a2.Balance != 70 {
		t.Fatalf("Save = %+v, %v; want version 2, balance 70", a2, err)
	}

	// Saving the stale copy again is a conflict carrying the stored item.
	_, err = accounts.Save(ctx, a)
	var ce *repo.ConflictError[Account]
	if !errors.Is(err, repo.ErrConflict) || !errors.As(err, &ce) {
		t.Fatalf("stale Save: %v, want a *ConflictError", err)
	}
	if ce.Expected != 1 || ce.Actual != 2 || ce.Current != a2 || ce.Table != e.table {
		t.Fatalf("ConflictError = %+v, want expected 1, actual 2, current %+v", ce, a2)
	}
	if !strings.Contains(err.Error(), `{id: "a1"}`) {
		t.Fatalf("conflict message %q does not name the key", err)
	}

	// Delete with the stale version conflicts; with the current one it works.
	if err := accounts.Delete(ctx, a); !errors.Is(err, repo.ErrConflict) {
		t.Fatalf("stale Delete: %v, want ErrConflict", err)
	}
	if err := accounts.Delete(ctx, a2); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := accounts.Get(ctx, repo.Key("a1")); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if _, err := accounts.Save(ctx, a2); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("Save after Delete: %v, want ErrNotFound", err)
	}
	if err := accounts.Delete(ctx, a2); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("Delete after Delete: %v, want ErrNotFound", err)
	}
}

func TestCreateExisting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	ctx := context.Background()
	stored := mustCreate(t, accounts, Account{ID: "a1", Owner: "ann"})

	for name, call := range map[string]func() error{
		"Create": func() error { _, err := accounts.Create(ctx, Account{ID: "a1", Owner: "bob"}); return err },
		"Save":   func() error { _, err := accounts.Save(ctx, Account{ID: "a1", Owner: "bob"}); return err },
	} {
		err := call()
		var ce *repo.ConflictError[Account]
		if !errors.Is(err, repo.ErrAlreadyExists) || !errors.As(err, &ce) || ce.Current != stored {
			t.Errorf("%s of an existing item: %v, want ErrAlreadyExists with the stored item", name, err)
		}
		if errors.Is(err, repo.ErrConflict) {
			t.Errorf("%s of an existing item matches ErrConflict; it should only match ErrAlreadyExists", name)
		}
	}
	if _, err := accounts.Create(ctx, Account{ID: "a2", Version: 3}); !errors.Is(err, repo.ErrInvalidArgument) {
		t.Errorf("Create at version 3: %v, want ErrInvalidArgument", err)
	}
}

func TestDeleteKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	ctx := context.Background()
	mustCreate(t, accounts, Account{ID: "a1"})
	if err := accounts.DeleteKey(ctx, repo.Key("a1")); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	if err := accounts.DeleteKey(ctx, repo.Key("a1")); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("DeleteKey of a missing item: %v, want ErrNotFound", err)
	}
	if err := accounts.Delete(ctx, Account{ID: "a1"}); !errors.Is(err, repo.ErrInvalidArgument) {
		t.Fatalf("Delete of a version-0 item: %v, want ErrInvalidArgument", err)
	}
}

func TestOverwrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	ctx := context.Background()

	// On a missing item it creates version 1.
	a, err := accounts.Overwrite(ctx, Account{ID: "a1", Balance: 5, Version: 42})
	if err != nil || a.Version != 1 {
		t.Fatalf("Overwrite of a missing item = %+v, %v; want version 1", a, err)
	}
	stale := a
	a.Balance, a.Version = 9, 0
	a, err = accounts.Overwrite(ctx, a)
	if err != nil || a.Version != 2 || a.Balance != 9 {
		t.Fatalf("Overwrite = %+v, %v; want version 2, balance 9", a, err)
	}
	// Holders of the old copy now conflict instead of undoing it.
	if _, err := accounts.Save(ctx, stale); !errors.Is(err, repo.ErrConflict) {
		t.Fatalf("Save of a copy older than an Overwrite: %v, want ErrConflict", err)
	}
}

func TestSchemaFeatures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	entries := newRepo[Entry](t, e)
	ctx := context.Background()
	in := Entry{User: "u1", Seq: 7, Name: "n", Status: "open", Data: []byte{1, 2}, Dotted: "dot"}
	got := mustCreate(t, entries, in)
	if got.Rev != 1 {
		t.Fatalf("Rev = %d, want 1", got.Rev)
	}
	got, err := entries.Update(ctx, repo.Key("u1", 7), func(x *Entry) error {
		x.Status, x.Name, x.Dotted = "closed", "m", "dot2"
		return nil
	})
	if err != nil || got.Rev != 2 {
		t.Fatalf("Update with reserved-word attributes = %+v, %v", got, err)
	}
	// The dotted name is one top-level attribute, not a path.
	raw, err := e.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(e.table),
		Key:       map[string]types.AttributeValue{"user": &types.AttributeValueMemberS{Value: "u1"}, "seq": &types.AttributeValueMemberN{Value: "7"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := raw.Item["a.b"].(*types.AttributeValueMemberS); !ok || v.Value != "dot2" {
		t.Fatalf(`stored "a.b" = %#v, want "dot2"`, raw.Item["a.b"])
	}
	if _, ok := raw.Item["rev"]; !ok {
		t.Fatalf("version stored under %q is missing: %v", "rev", raw.Item)
	}
}

func TestUnknownAttributesSurvive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	ctx := context.Background()
	a := mustCreate(t, accounts, Account{ID: "a1", Note: "hello"})
	// Another program adds an attribute Account does not know.
	_, err := e.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(e.table), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a1"}},
		UpdateExpression:          aws.String("SET extra = :x"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":x": &types.AttributeValueMemberS{Value: "keep me"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a.Note = "" // omitempty: the attribute is removed
	if _, err := accounts.Save(ctx, a); err != nil {
		t.Fatal(err)
	}
	raw, err := e.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(e.table), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a1"}}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.Item["extra"]; !ok {
		t.Errorf("Save dropped an attribute the type does not know: %v", raw.Item)
	}
	if _, ok := raw.Item["note"]; ok {
		t.Errorf("Save kept an omitempty attribute that is now empty: %v", raw.Item)
	}
}

func TestBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	entries := mustNew[Entry](t, e.client, e.table+"-entries")
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	big := Account{ID: "big", Owner: strings.Repeat("x", versioned.MaxItemSize)}
	inc := func(a *Account) error { a.Balance++; return nil }

	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"nil fn", func() error { _, err := accounts.Update(ctx, repo.Key("a1"), nil); return err }, repo.ErrInvalidArgument},
		{"wrong key type", func() error { _, err := accounts.Get(ctx, repo.Key(42)); return err }, repo.ErrInvalidArgument},
		{"empty key", func() error { _, err := accounts.Get(ctx, repo.Key("")); return err }, repo.ErrInvalidArgument},
		{"nil key", func() error { _, err := accounts.Get(ctx, repo.Key(nil)); return err }, repo.ErrInvalidArgument},
		{"surplus range value", func() error { _, err := accounts.Get(ctx, repo.Key("a1", 3)); return err }, repo.ErrInvalidArgument},
		{"missing range value", func() error { _, err := entries.Get(ctx, repo.Key("u1")); return err }, repo.ErrInvalidArgument},
		{"range of wrong type", func() error { _, err := entries.Get(ctx, repo.Key("u1", "seven")); return err }, repo.ErrInvalidArgument},
		{"item too large (Create)", func() error { _, err := accounts.Create(ctx, big); return err }, versioned.ErrItemTooLarge},
		{"item too large (Save)", func() error { b := big; b.Version = 1; _, err := accounts.Save(ctx, b); return err }, versioned.ErrItemTooLarge},
		{"item too large (Overwrite)", func() error { _, err := accounts.Overwrite(ctx, big); return err }, versioned.ErrItemTooLarge},
		{"empty hash in item", func() error { _, err := accounts.Create(ctx, Account{}); return err }, repo.ErrInvalidArgument},
		{"cancelled ctx (Get)", func() error { _, err := accounts.Get(cancelled, repo.Key("a1")); return err }, context.Canceled},
		{"cancelled ctx (Update)", func() error { _, err := accounts.Update(cancelled, repo.Key("a1"), inc); return err }, context.Canceled},
		{"cancelled ctx (Create)", func() error { _, err := accounts.Create(cancelled, Account{ID: "a9"}); return err }, context.Canceled},
		{"bad per-call option", func() error {
			_, err := accounts.Get(ctx, repo.Key("a1"), func(o *repo.Options) { o.WriteIDs = 0 })
			return err
		}, repo.ErrInvalidArgument},
		{"bad retry policy", func() error {
			_, err := accounts.Update(ctx, repo.Key("a1"), inc, func(o *repo.Options) { o.Retry.Multiplier = 0.5 })
			return err
		}, retry.ErrInvalidPolicy},
		{"range on hash-only table", func() error {
			for _, err := range accounts.Query(ctx, "a1", func(o *repo.QueryOptions) { o.Range = repo.RangeEquals("x") }) {
				return err
			}
			return nil
		}, repo.ErrInvalidArgument},
		{"range value of wrong type", func() error {
			for _, err := range entries.Query(ctx, "u1", func(o *repo.QueryOptions) { o.Range = repo.RangeGreater("x") }) {
				return err
			}
			return nil
		}, repo.ErrInvalidArgument},
	}
	for _, c := range cases {
		e.counter.Reset()
		err := c.call()
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		if n := e.counter.Count(); n != 0 {
			t.Errorf("%s: %d requests sent, want none", c.name, n)
		}
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var nilClient *dynamodb.Client
	type noVersion struct {
		ID string `dynamo:"id,hash"`
	}
	type badTag struct {
		ID string `dynamo:"id,hahs"`
		V  int    `dynamo:"version"`
	}
	cases := []struct {
		name string
		err  func() error
		want error
	}{
		{"nil client", func() error { _, err := repo.New[Account](nil, "t1x"); return err }, repo.ErrInvalidArgument},
		{"typed nil client", func() error { _, err := repo.New[Account](nilClient, "t1x"); return err }, repo.ErrInvalidArgument},
		{"empty table", func() error { _, err := repo.New[Account](e.client, ""); return err }, repo.ErrInvalidArgument},
		{"bad table name", func() error { _, err := repo.New[Account](e.client, "a b"); return err }, repo.ErrInvalidArgument},
		{"no version", func() error { _, err := repo.New[noVersion](e.client, "t1x"); return err }, versioned.ErrSchema},
		{"bad tag", func() error { _, err := repo.New[badTag](e.client, "t1x"); return err }, versioned.ErrSchema},
		{"write-id attribute clash", func() error {
			_, err := repo.New[Account](e.client, "t1x", func(o *repo.Options) { o.WriteIDAttribute = "owner" })
			return err
		}, repo.ErrInvalidArgument},
		{"negative KeepItems", func() error {
			_, err := repo.New[Account](e.client, "t1x", func(o *repo.Options) { o.KeepItems = -1 })
			return err
		}, repo.ErrInvalidArgument},
		{"KeepItems over 1<<20", func() error {
			_, err := repo.New[Account](e.client, "t1x", func(o *repo.Options) { o.KeepItems = 1<<20 + 1 })
			return err
		}, repo.ErrInvalidArgument},
	}
	for _, c := range cases {
		if err := c.err(); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	var se *versioned.SchemaError
	_, err := repo.New[badTag](e.client, "t1x")
	if !errors.As(err, &se) || se.Field != "ID" || !strings.Contains(se.Type, "badTag") {
		t.Errorf("bad tag error %v does not name the type and field", err)
	}
	if n := e.counter.Count(); n != 0 {
		t.Errorf("New sent %d requests", n)
	}
}

func TestMissingTable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := mustNew[Account](t, e.client, e.table) // no CreateTable
	ctx := context.Background()
	inc := func(a *Account) error { a.Balance++; return nil }
	for name, err := range map[string]error{
		"Get":    func() error { _, err := accounts.Get(ctx, repo.Key("a1")); return err }(),
		"Create": func() error { _, err := accounts.Create(ctx, Account{ID: "a1"}); return err }(),
		"Update": func() error { _, err := accounts.Update(ctx, repo.Key("a1"), inc); return err }(),
	} {
		if !errors.Is(err, repo.ErrTableNotFound) || !strings.Contains(err.Error(), e.table) {
			t.Errorf("%s on a missing table: %v, want ErrTableNotFound naming %s", name, err, e.table)
		}
	}
}

func TestCreateTable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	if err := accounts.CreateTable(context.Background()); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
	entries := mustNew[Entry](t, e.client, e.table)
	if err := entries.CreateTable(context.Background()); !errors.Is(err, repo.ErrTableMismatch) {
		t.Fatalf("CreateTable over a table with another key: %v, want ErrTableMismatch", err)
	}
}

// A table whose key is not T's: a clear error naming both, not a raw
// validation message.
func TestWrongKeySchema(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	newRepo[Entry](t, e) // the table has key user+seq
	accounts := mustNew[Account](t, e.client, e.table)
	ctx := context.Background()
	inc := func(a *Account) error { a.Balance++; return nil }
	for name, err := range map[string]error{
		"Get":    func() error { _, err := accounts.Get(ctx, repo.Key("a1")); return err }(),
		"Create": func() error { _, err := accounts.Create(ctx, Account{ID: "a1"}); return err }(),
		"Update": func() error { _, err := accounts.Update(ctx, repo.Key("a1"), inc); return err }(),
	} {
		if !errors.Is(err, repo.ErrTableMismatch) || !strings.Contains(err.Error(), e.table) || !strings.Contains(err.Error(), "hash id S") {
			t.Errorf("%s on a table with another key: %v, want ErrTableMismatch naming the table and the key", name, err)
		}
	}
}

// A stored item that does not fit the type (written by other code) is a
// clear error from every read path, never a panic or a half-decoded value.
func TestBadStoredItem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	ctx := context.Background()
	_, err := e.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: map[string]types.AttributeValue{
		"id": &types.AttributeValueMemberS{Value: "bad"}, "balance": &types.AttributeValueMemberS{Value: "lots"},
		"version": &types.AttributeValueMemberN{Value: "3"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.counter.Reset()
	if a, err := accounts.Get(ctx, repo.Key("bad")); !errors.Is(err, versioned.ErrBadItem) || a != (Account{}) {
		t.Errorf("Get of a bad item = %+v, %v; want the zero value and ErrBadItem", a, err)
	}
	if _, err := accounts.Update(ctx, repo.Key("bad"), func(a *Account) error { a.Balance++; return nil }); !errors.Is(err, versioned.ErrBadItem) {
		t.Errorf("Update of a bad item: %v, want ErrBadItem", err)
	}
	if ops := e.counter.ByOperation(); ops["UpdateItem"] != 0 {
		t.Errorf("Update of a bad item wrote: %v", ops)
	}
}
