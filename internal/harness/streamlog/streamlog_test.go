package streamlog_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/streamlog"
)

func TestMain(m *testing.M) { ddblocal.RunTests(m) }

func s(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }

func n(v int) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.Itoa(v)}
}

// attr returns the string or number attribute name of img ("" if none).
func attr(img map[string]types.AttributeValue, name string) string {
	switch v := img[name].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	}
	return ""
}

func newTable(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	client, table := ddblocal.Client(t), ddblocal.TableName(t)
	if err := streamlog.CreateTable(context.Background(), client, table); err != nil {
		t.Fatal(err)
	}
	return client, table
}

// An insert, a modify and a remove come back as three records with their
// keys and images, in order.
func TestReadInsertModifyRemove(t *testing.T) {
	t.Parallel()
	client, table := newTable(t)
	ctx := context.Background()
	key := map[string]types.AttributeValue{"id": s("a")}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
		Item: map[string]types.AttributeValue{"id": s("a"), "n": n(1), "m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"1": s("x")}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key,
		UpdateExpression: aws.String("SET n = n + :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key}); err != nil {
		t.Fatal(err)
	}
	recs, err := streamlog.Read(ctx, streamlog.NewClient(ddblocal.Endpoint(t)), table)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s %s old=%s new=%s", r.EventName, attr(r.Keys, "id"), attr(r.OldImage, "n"), attr(r.NewImage, "n")))
	}
	want := []string{"INSERT a old= new=1", "MODIFY a old=1 new=2", "REMOVE a old=2 new="}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records %q, want %q", got, want)
	}
	if m, ok := recs[0].NewImage["m"].(*types.AttributeValueMemberM); !ok || attr(m.Value, "1") != "x" {
		t.Fatalf("INSERT image %v: the map attribute did not come through", recs[0].NewImage)
	}
}

// Many writes from many goroutines: every one is in the stream (several
// GetRecords pages), and each item's records are in the order written.
func TestReadManyWrites(t *testing.T) {
	t.Parallel()
	client, table := newTable(t)
	ctx := context.Background()
	const items, each = 8, 150
	var wg sync.WaitGroup
	for i := 0; i < items; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
					Item: map[string]types.AttributeValue{"id": s(strconv.Itoa(i)), "n": n(j)}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	recs, err := streamlog.Read(ctx, streamlog.NewClient(ddblocal.Endpoint(t)), table)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != items*each {
		t.Fatalf("%d records, want %d", len(recs), items*each)
	}
	next := map[string]int{}
	for _, r := range recs {
		id := attr(r.Keys, "id")
		if got := attr(r.NewImage, "n"); got != strconv.Itoa(next[id]) {
			t.Fatalf("item %s: record %s with n=%s, want n=%d", id, r.EventName, got, next[id])
		}
		next[id]++
	}
}

// ReadUntil stops at its marker although another writer goes on writing,
// and returns only the records kept.
func TestReadUntil(t *testing.T) {
	t.Parallel()
	client, table := newTable(t)
	ctx := context.Background()
	put := func(id string) {
		t.Helper()
		if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
			Item: map[string]types.AttributeValue{"id": s(id)}}); err != nil {
			t.Error(err)
		}
	}
	for _, id := range []string{"mine-1", "other", "mine-2", "marker"} {
		put(id)
	}
	done, noise := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(noise)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
				put(fmt.Sprintf("noise-%d", i))
			}
		}
	}()
	recs, err := streamlog.ReadUntil(ctx, streamlog.NewClient(ddblocal.Endpoint(t)), table,
		func(r streamlog.Record) bool { return attr(r.Keys, "id") == "marker" },
		func(r streamlog.Record) bool { return attr(r.Keys, "id") != "other" })
	close(done)
	<-noise
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, attr(r.Keys, "id"))
	}
	if fmt.Sprint(got) != "[mine-1 mine-2 marker]" {
		t.Fatalf("ReadUntil returned %v, want [mine-1 mine-2 marker]", got)
	}
}
