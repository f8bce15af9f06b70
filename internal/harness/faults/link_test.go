package faults_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
)

// A Link's faults happen exactly as ordered: while down, nothing is sent;
// a dropped write is stored though its caller sees an error; the reads
// after a drop fail, and then reads pass again.
func TestLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	table := ddblocal.TableName(t)
	_, err := ddblocal.Client(t).CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}}})
	if err != nil {
		t.Fatal(err)
	}
	link := faults.NewLink(nil)
	link.ReadsAfterDrop = 2
	c := ddblocal.Client(t, link.Option(), func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}
	put := func() error {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key})
		return err
	}
	get := func() error {
		_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
		return err
	}
	isStored := func() bool {
		out, err := ddblocal.Client(t).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Item) > 0
	}

	link.SetDown(true)
	if err := put(); !errors.Is(err, faults.ErrInjected) || isStored() || link.Writes() != 0 {
		t.Fatalf("put while down: %v, stored %v, %d writes sent", err, isStored(), link.Writes())
	}
	link.SetDown(false)
	link.DropWrites(1)
	if err := put(); !errors.Is(err, faults.ErrInjected) || !isStored() || link.Dropped() != 1 || link.Writes() != 1 {
		t.Fatalf("dropped put: %v, stored %v, %d dropped of %d writes", err, isStored(), link.Dropped(), link.Writes())
	}
	for i := range 2 {
		if err := get(); !errors.Is(err, faults.ErrInjected) {
			t.Fatalf("read %d after the drop: %v, want it failed", i+1, err)
		}
	}
	if err := get(); err != nil || link.ReadsToFail() != 0 {
		t.Fatalf("third read after the drop: %v (%d reads still to fail)", err, link.ReadsToFail())
	}
	if err := put(); err != nil || link.Dropped() != 1 || link.Writes() != 2 {
		t.Fatalf("put after the drop: %v, %d dropped of %d writes", err, link.Dropped(), link.Writes())
	}
}
