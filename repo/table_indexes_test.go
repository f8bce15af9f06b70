package repo_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/repo"
)

// tblMember declares two global indexes (keys_only, and include with a
// range key shared with a local index), a local index and a time ttl.
type tblMember struct {
	Org     string    `dynamo:"org,hash"`
	ID      string    `dynamo:"id,range"`
	Email   string    `dynamo:"email,omitempty,index=byEmail:hash:keys_only"`
	Team    string    `dynamo:"team,omitempty,index=byTeam:hash:include"`
	Joined  int64     `dynamo:"joined,index=byTeam:range,lindex=byJoined:range"`
	Name    string    `dynamo:"name,project=byTeam"`
	Role    string    `dynamo:"role,project=byTeam"`
	Expires time.Time `dynamo:"expires,ttl"`
	Version int64     `dynamo:"version"`
}

// tblMemberOther has tblMember's key but other indexes: byEmail projects
// ALL, byTeam is gone, byName is new, byJoined has another key type.
type tblMemberOther struct {
	Org     string `dynamo:"org,hash"`
	ID      string `dynamo:"id,range"`
	Email   string `dynamo:"email,omitempty,index=byEmail:hash"`
	Name    string `dynamo:"name,omitempty,index=byName:hash"`
	Joined  string `dynamo:"joined,lindex=byJoined:range"`
	Version int64  `dynamo:"version"`
}

// tblSession has an int64 ttl of epoch seconds.
type tblSession struct {
	ID      string `dynamo:"id,hash"`
	User    string `dynamo:"user,index=byUser:hash"`
	Exp     int64  `dynamo:"exp,ttl"`
	Version int64  `dynamo:"version"`
}

// tblSessionOtherTTL is tblSession with its ttl on another attribute.
type tblSessionOtherTTL struct {
	ID      string    `dynamo:"id,hash"`
	User    string    `dynamo:"user,index=byUser:hash"`
	Until   time.Time `dynamo:"until,ttl"`
	Version int64     `dynamo:"version"`
}

func describe(t *testing.T, c *dynamodb.Client, table string) *types.TableDescription {
	t.Helper()
	out, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	return out.Table
}

// keyOf renders a key schema with the attribute types of d: "org S, id S".
func keyOf(d *types.TableDescription, ks []types.KeySchemaElement) string {
	typ := map[string]types.ScalarAttributeType{}
	for _, a := range d.AttributeDefinitions {
		typ[*a.AttributeName] = a.AttributeType
	}
	var parts []string
	for _, k := range ks {
		parts = append(parts, string(k.KeyType)+" "+*k.AttributeName+" "+string(typ[*k.AttributeName]))
	}
	return strings.Join(parts, ", ")
}

func projOf(p *types.Projection) string {
	return string(p.ProjectionType) + strings.Join(p.NonKeyAttributes, ",")
}

func ttlOf(t *testing.T, c *dynamodb.Client, table string) (types.TimeToLiveStatus, string) {
	t.Helper()
	out, err := c.DescribeTimeToLive(context.Background(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("DescribeTimeToLive: %v", err)
	}
	return out.TimeToLiveDescription.TimeToLiveStatus, aws.ToString(out.TimeToLiveDescription.AttributeName)
}

// An on-demand table with global and local indexes and TTL on a time
// field: the table has them as declared, a second CreateTable accepts it
// and only describes it, and the ttl is stored as epoch seconds.
func TestCreateTableIndexesOnDemand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	members := mustNew[tblMember](t, e.client, e.table)
	if err := members.CreateTable(ctx); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	d := describe(t, e.client, e.table)
	if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing %+v, want on demand", d.BillingModeSummary)
	}
	if got := keyOf(d, d.KeySchema); got != "HASH org S, RANGE id S" {
		t.Errorf("table key %s", got)
	}
	gsis := map[string]string{}
	for _, g := range d.GlobalSecondaryIndexes {
		gsis[*g.IndexName] = keyOf(d, g.KeySchema) + " / " + projOf(g.Projection)
	}
	wantG := map[string]string{
		"byEmail": "HASH email S / KEYS_ONLY",
		"byTeam":  "HASH team S, RANGE joined N / INCLUDEname,role",
	}
	if !reflect.DeepEqual(gsis, wantG) {
		t.Errorf("global indexes %v, want %v", gsis, wantG)
	}
	lsis := map[string]string{}
	for _, l := range d.LocalSecondaryIndexes {
		lsis[*l.IndexName] = keyOf(d, l.KeySchema) + " / " + projOf(l.Projection)
	}
	if want := map[string]string{"byJoined": "HASH org S, RANGE joined N / ALL"}; !reflect.DeepEqual(lsis, want) {
		t.Errorf("local indexes %v, want %v", lsis, want)
	}
	if st, attr := ttlOf(t, e.client, e.table); st != types.TimeToLiveStatusEnabled || attr != "expires" {
		t.Errorf("TTL %s on %q, want ENABLED on expires", st, attr)
	}

	// Again, by another repository of the type: accepted, no change.
	e.counter.Reset()
	if err := mustNew[tblMember](t, e.client, e.table).CreateTable(ctx); err != nil {
		t.Fatalf("CreateTable again: %v", err)
	}
	if got, want := e.counter.ByOperation(), map[string]int64{"CreateTable": 1, "DescribeTable": 1, "DescribeTimeToLive": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("CreateTable again sent %v, want %v", got, want)
	}

	// The ttl is a number of epoch seconds, and reads back into the time.
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	m, err := members.Create(ctx, tblMember{Org: "o1", ID: "m1", Email: "a@x", Team: "t1", Joined: 7, Name: "ann", Expires: exp})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	key := map[string]types.AttributeValue{"org": &types.AttributeValueMemberS{Value: "o1"}, "id": &types.AttributeValueMemberS{Value: "m1"}}
	raw, err := e.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := raw.Item["expires"].(*types.AttributeValueMemberN); !ok || n.Value != strconv.FormatInt(exp.Unix(), 10) {
		t.Errorf("stored expires = %#v, want the number %d", raw.Item["expires"], exp.Unix())
	}
	got, err := members.Get(ctx, repo.Key("o1", "m1"))
	if err != nil || !got.Expires.Equal(exp) || got.Version != m.Version {
		t.Errorf("Get = %+v, %v; want Expires %v", got, err, exp)
	}
	// Zero means no expiry: the attribute goes.
	got, err = members.Update(ctx, repo.Key("o1", "m1"), func(m *tblMember) error { m.Expires = time.Time{}; return nil })
	if err != nil || !got.Expires.IsZero() {
		t.Fatalf("Update to no expiry: %+v, %v", got, err)
	}
	raw, err = e.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: key})
	if _, ok := raw.Item["expires"]; err != nil || ok || raw.Item == nil {
		t.Errorf("after clearing Expires the item is %v (%v)", raw.Item, err)
	}

	// The keys_only index holds the item.
	q, err := e.client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(e.table), IndexName: aws.String("byEmail"),
		KeyConditionExpression:    aws.String("email = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": &types.AttributeValueMemberS{Value: "a@x"}}})
	if err != nil || len(q.Items) != 1 || len(q.Items[0]) != 3 {
		t.Errorf("query byEmail: %v, %v; want one item of 3 key attributes", q, err)
	}
}

// A provisioned table: capacity for the table and per global index (the
// other index gets the table's), tags and a stream.
func TestCreateTableProvisioned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// DynamoDB Local does not keep tags (ListTagsOfResource is not
	// supported), so the test reads them from the request sent.
	var sent *dynamodb.CreateTableInput
	client := ddblocal.Client(t, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("test.createTableSeen",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if ct, ok := in.Parameters.(*dynamodb.CreateTableInput); ok {
						sent = ct
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	})
	members := mustNew[tblMember](t, client, e.table)
	err := members.CreateTable(ctx, func(o *repo.TableOptions) {
		o.BillingMode = types.BillingModeProvisioned
		o.Capacity = repo.Capacity{Read: 5, Write: 4}
		o.IndexCapacity = map[string]repo.Capacity{"byTeam": {Read: 3, Write: 2}}
		o.Tags = map[string]string{"team": "payments", "env": "test"}
		o.StreamViewType = types.StreamViewTypeNewAndOldImages
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	d := describe(t, e.client, e.table)
	if p := d.ProvisionedThroughput; p == nil || *p.ReadCapacityUnits != 5 || *p.WriteCapacityUnits != 4 {
		t.Errorf("table throughput %+v, want 5/4", p)
	}
	want := map[string][2]int64{"byEmail": {5, 4}, "byTeam": {3, 2}}
	for _, g := range d.GlobalSecondaryIndexes {
		p := g.ProvisionedThroughput
		if w := want[*g.IndexName]; p == nil || *p.ReadCapacityUnits != w[0] || *p.WriteCapacityUnits != w[1] {
			t.Errorf("index %s throughput %+v, want %v", *g.IndexName, p, w)
		}
	}
	if s := d.StreamSpecification; s == nil || !*s.StreamEnabled || s.StreamViewType != types.StreamViewTypeNewAndOldImages {
		t.Errorf("stream %+v, want NEW_AND_OLD_IMAGES", s)
	}
	var gotTags []string
	for _, tg := range sent.Tags {
		gotTags = append(gotTags, *tg.Key+"="+*tg.Value)
	}
	if want := []string{"env=test", "team=payments"}; !reflect.DeepEqual(gotTags, want) {
		t.Errorf("tags sent %v, want %v", gotTags, want)
	}
	// Billing, tags and stream are not compared: an on-demand CreateTable
	// of the type accepts the table as it is.
	if err := members.CreateTable(ctx); err != nil {
		t.Errorf("CreateTable on demand over the provisioned table: %v", err)
	}
}

// A table whose indexes differ from the type's is refused, naming every
// difference, before any change to it.
func TestCreateTableIndexMismatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if err := mustNew[tblMember](t, e.client, e.table).CreateTable(ctx); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	e.counter.Reset()
	err := mustNew[tblMemberOther](t, e.client, e.table).CreateTable(ctx)
	if !errors.Is(err, repo.ErrTableMismatch) {
		t.Fatalf("CreateTable of another type: %v, want ErrTableMismatch", err)
	}
	for _, want := range []string{
		e.table, "tblMemberOther",
		"index byEmail projects KEYS_ONLY, wants ALL",
		"index byJoined has key (hash org S, range joined N), wants (hash org S, range joined S)",
		"missing global index byName",
		"extra global index byTeam",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if got := e.counter.ByOperation(); got["UpdateTimeToLive"] != 0 || got["DescribeTimeToLive"] != 0 {
		t.Errorf("requests after the mismatch: %v", got)
	}

	// Same indexes, other included attributes.
	type includesOther struct {
		Org     string    `dynamo:"org,hash"`
		ID      string    `dynamo:"id,range"`
		Email   string    `dynamo:"email,omitempty,index=byEmail:hash:keys_only"`
		Team    string    `dynamo:"team,omitempty,index=byTeam:hash:include"`
		Joined  int64     `dynamo:"joined,index=byTeam:range,lindex=byJoined:range"`
		Name    string    `dynamo:"name,project=byTeam"`
		Note    string    `dynamo:"note,project=byTeam"`
		Expires time.Time `dynamo:"expires,ttl"`
		Version int64     `dynamo:"version"`
	}
	err = mustNew[includesOther](t, e.client, e.table).CreateTable(ctx)
	if !errors.Is(err, repo.ErrTableMismatch) || !strings.Contains(err.Error(), "index byTeam includes [name role], wants [name note]") {
		t.Errorf("CreateTable with other included attributes: %v", err)
	}

	// A type without indexes over a table with some: every index is extra.
	err = mustNew[Entry](t, e.client, e.table).CreateTable(ctx)
	if !errors.Is(err, repo.ErrTableMismatch) || !strings.Contains(err.Error(), "the table has key (hash org S, range id S), wants (hash user S, range seq N)") ||
		!strings.Contains(err.Error(), "extra local index byJoined") {
		t.Errorf("CreateTable of Entry: %v", err)
	}
}

// TTL on an int64 field: enabled once; a type wanting TTL on another
// attribute is a mismatch. Concurrent CreateTables all succeed.
func TestCreateTableTTLInt64(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = mustNew[tblSession](t, e.client, e.table).CreateTable(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent CreateTable %d: %v", i, err)
		}
	}
	if st, attr := ttlOf(t, e.client, e.table); st != types.TimeToLiveStatusEnabled || attr != "exp" {
		t.Errorf("TTL %s on %q, want ENABLED on exp", st, attr)
	}
	sessions := mustNew[tblSession](t, e.client, e.table)
	exp := time.Now().Add(time.Hour).Unix()
	if _, err := sessions.Create(ctx, tblSession{ID: "s1", User: "u1", Exp: exp}); err != nil {
		t.Fatal(err)
	}
	raw, err := e.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.table),
		Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "s1"}}})
	if n, ok := raw.Item["exp"].(*types.AttributeValueMemberN); err != nil || !ok || n.Value != strconv.FormatInt(exp, 10) {
		t.Errorf("stored exp = %#v, %v", raw.Item["exp"], err)
	}
	if got, err := sessions.Get(ctx, repo.Key("s1")); err != nil || got.Exp != exp {
		t.Errorf("Get = %+v, %v", got, err)
	}

	e.counter.Reset()
	err = mustNew[tblSessionOtherTTL](t, e.client, e.table).CreateTable(ctx)
	if !errors.Is(err, repo.ErrTableMismatch) || !strings.Contains(err.Error(), `TTL on attribute "exp"`) || !strings.Contains(err.Error(), `"until"`) {
		t.Errorf("CreateTable wanting TTL on until: %v", err)
	}
	if n := e.counter.ByOperation()["UpdateTimeToLive"]; n != 0 {
		t.Errorf("sent %d UpdateTimeToLive over TTL on another attribute", n)
	}
}

// A type without a ttl field sends no TTL request, and accepts a table
// with TTL on any attribute.
func TestCreateTableNoTTLRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := mustNew[Account](t, e.client, e.table).CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	for op := range e.counter.ByOperation() {
		if strings.Contains(op, "TimeToLive") {
			t.Errorf("CreateTable of a type without ttl sent %s", op)
		}
	}
}
