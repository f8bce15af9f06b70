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

// mustNew is repo.New through client, failing tb on error. It sends
// nothing.
func mustNew[T any](tb testing.TB, client *dynamodb.Client, table string, optFns ...func(*repo.Options)) *repo.Repository[T] {
	tb.Helper()
	r, err := repo.New[T](client, table, optFns...)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return r
}

// mustTable is [mustNew] on a table that it creates.
func mustTable[T any](tb testing.TB, client *dynamodb.Client, table string, optFns ...func(*repo.Options)) *repo.Repository[T] {
	tb.Helper()
	r := mustNew[T](tb, client, table, optFns...)
	if err := r.CreateTable(context.Background()); err != nil {
		tb.Fatalf("CreateTable: %v", err)
	}
	return r
}

// newRepo builds a repository of T on a fresh table of its own.
func newRepo[T any](t *testing.T, e *env, optFns ...func(*repo.Options)) *repo.Repository[T] {
	t.Helper()
	r := mustTable[T](t, e.client, e.table, optFns...)
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
	return mustNew[T](t, e.client, e.table)
}
