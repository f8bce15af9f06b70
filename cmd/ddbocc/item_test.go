package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/repo"
)

type account struct {
	ID      string   `dynamo:"id,hash"`
	Owner   string   `dynamo:"owner"`
	Balance int64    `dynamo:"balance"`
	Tags    []string `dynamo:"tags,omitempty"`
	Version int64    `dynamo:"version"`
}

// item show prints the version, the write ids (as repo stored them) and
// the other attributes of an item written by repo.Repository.
func TestItemShow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	table := ddblocal.TableName(t)
	accounts, err := repo.New[account](ddblocal.Client(t), table)
	if err != nil {
		t.Fatal(err)
	}
	if err := accounts.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Create(ctx, account{ID: "acc-1", Owner: "ann", Balance: 10, Tags: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := accounts.Update(ctx, repo.Key("acc-1"), func(a *account) error { a.Balance += 5; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	// The write ids as stored, to compare with what the CLI decodes.
	raw, err := ddblocal.Client(t).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "acc-1"}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	stored := raw.Item[defaultWriteIDAttr].(*types.AttributeValueMemberM).Value
	idOf := func(v int64) string {
		s, _ := stored[strconv.FormatInt(v, 10)].(*types.AttributeValueMemberS)
		if s == nil {
			return ""
		}
		return s.Value
	}
	if idOf(3) == "" {
		t.Fatalf("no write id stored under version 3: %v", stored)
	}

	out := mustRun(t, "item", "show", "--table", table, "acc-1")
	for _, want := range []string{"key:", `id = "acc-1" (S)`, "version:", `3 (attribute "version")`,
		"write ids:", "version 3", idOf(3), "version 1", idOf(1), "owner", `"ann"`, "balance", "20", "tags", `["a","b"]`} {
		if !strings.Contains(out, want) {
			t.Errorf("item show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "_ddbocc_w  ") {
		t.Errorf("the write id attribute is listed among the attributes:\n%s", out)
	}

	out = mustRun(t, "--output", "json", "item", "show", "--table", table, "acc-1")
	var v struct {
		Table    string                    `json:"table"`
		Key      map[string]any            `json:"key"`
		Version  *int64                    `json:"version"`
		WriteIDs *writeIDs                 `json:"write_ids"`
		Attrs    map[string]map[string]any `json:"attributes"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("item show json: %v\n%s", err, out)
	}
	if v.Table != table || v.Version == nil || *v.Version != 3 || v.WriteIDs == nil || v.WriteIDs.Attribute != defaultWriteIDAttr {
		t.Fatalf("item show json: %+v\n%s", v, out)
	}
	ids := map[int64]string{}
	for _, e := range v.WriteIDs.Versions {
		ids[e.Version] = e.ID
	}
	for ver := int64(1); ver <= 3; ver++ {
		if id := idOf(ver); id != "" && ids[ver] != id {
			t.Errorf("write id of version %d: %q, stored %q", ver, ids[ver], id)
		}
	}
	if v.Attrs["owner"]["S"] != "ann" || v.Attrs["balance"]["N"] != "20" || v.Attrs["id"]["S"] != "acc-1" {
		t.Errorf("attributes %v", v.Attrs)
	}
	if _, ok := v.Attrs["version"]; ok {
		t.Errorf("the version is listed among the attributes: %v", v.Attrs)
	}

	code, _, errs := local(t, "item", "show", "--table", table, "nobody")
	if code != 1 || !strings.Contains(errs, "no item") || !strings.Contains(errs, `"nobody"`) {
		t.Errorf("missing item: exit %d, %s", code, errs)
	}
	code, _, errs = local(t, "item", "show", "--table", table, "acc-1", "extra")
	if code != 2 || !strings.Contains(errs, "has key id (S)") {
		t.Errorf("range key on a hash-only table: exit %d, %s", code, errs)
	}
}

// Keys of type N and B, a range key, an item without version or write ids.
func TestItemShowKeyTypes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := ddblocal.Client(t)
	table := ddblocal.TableName(t)
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("b"), AttributeType: types.ScalarAttributeTypeB},
			{AttributeName: aws.String("n"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("b"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("n"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	key := []byte{0, 1, 2, 0xff}
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"b":    &types.AttributeValueMemberB{Value: key},
		"n":    &types.AttributeValueMemberN{Value: "-1.5"},
		"note": &types.AttributeValueMemberS{Value: "plain"},
		"rev":  &types.AttributeValueMemberN{Value: "7"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(key)
	out := mustRun(t, "item", "show", "--table", table, "--version-attr", "rev", "--", b64, "-1.5")
	for _, want := range []string{"base64:" + b64, "n = -1.5 (N)", `7 (attribute "rev")`, "write ids:", "none", "note", `"plain"`} {
		if !strings.Contains(out, want) {
			t.Errorf("item show lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(t, "item", "show", "--table", table, "--output", "json", "--", b64, "-1.5")
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil || v["version"] != nil || v["write_ids"] != nil {
		t.Errorf("item without version or write ids, json: %v %v", v, err)
	}
	for _, bad := range [][]string{
		{b64},               // the range key is missing
		{b64, "x1"},         // not a number
		{"!!!", "1"},        // not base64
		{b64, "1", "extra"}, // too many
	} {
		code, _, errs := local(t, append([]string{"item", "show", "--table", table, "--"}, bad...)...)
		if code != 2 || !strings.Contains(errs, "Usage:") {
			t.Errorf("item show %q: exit %d, %s", bad, code, errs)
		}
	}
}
