package repo_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/repo"
)

func TestMain(m *testing.M) { ddblocal.RunTests(m) }

type Account struct {
	ID      string `dynamo:"id,hash"`
	Owner   string `dynamo:"owner"`
	Balance int64  `dynamo:"balance"`
	Note    string `dynamo:"note,omitempty"`
	Version int64  `dynamo:"version"`
}

// Entry has a range key and reserved words as attribute names.
type Entry struct {
	User   string `dynamo:"user,hash"`
	Seq    int    `dynamo:"seq,range"`
	Name   string `dynamo:"name"`
	Status string `dynamo:"status"`
	Data   []byte `dynamo:"data"`
	Dotted string `dynamo:"a.b"`
	Rev    int32  `dynamo:"rev,version"`
}

// env is one test's table and clients.
type env struct {
	client  *dynamodb.Client
	counter *ddblocal.RequestCounter
	table   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := &ddblocal.RequestCounter{}
	return &env{client: ddblocal.Client(t, c.Option()), counter: c, table: ddblocal.TableName(t)}
}

// newRepo builds a repository of T on a fresh table of its own.
func newRepo[T any](t *testing.T, e *env, optFns ...func(*repo.Options)) *repo.Repository[T] {
	t.Helper()
	r, err := repo.New[T](e.client, e.table, optFns...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := r.CreateTable(context.Background()); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	e.counter.Reset()
	return r
}

func mustCreate[T any](t *testing.T, r *repo.Repository[T], item T) T {
	t.Helper()
	got, err := r.Create(context.Background(), item)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return got
}

// competitor is a second repository on e's table: another process, as far
// as local queueing goes.
func competitor[T any](t *testing.T, e *env) *repo.Repository[T] {
	t.Helper()
	r, err := repo.New[T](e.client, e.table)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
