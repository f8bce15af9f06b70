package repo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/versioned"
)

// Every bad TableOptions is an ErrInvalidArgument naming the option, and
// CreateTable sends nothing.
func TestBadInputCreateTableOptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	members := mustNew[tblMember](t, e.client, e.table)
	provisioned := func(o *repo.TableOptions) {
		o.BillingMode = types.BillingModeProvisioned
		o.Capacity = repo.Capacity{Read: 1, Write: 1}
	}
	manyTags := map[string]string{}
	for i := range 51 {
		manyTags[fmt.Sprint("k", i)] = "v"
	}
	tests := []struct {
		name string
		opts []func(*repo.TableOptions)
		want string // in the message
	}{
		{"provisioned without capacity", []func(*repo.TableOptions){func(o *repo.TableOptions) { o.BillingMode = types.BillingModeProvisioned }},
			"TableOptions.Capacity is {Read:0 Write:0}: provisioned billing needs"},
		{"negative read capacity", []func(*repo.TableOptions){provisioned, func(o *repo.TableOptions) { o.Capacity.Read = -1 }}, "TableOptions.Capacity is {Read:-1 Write:1}"},
		{"negative write capacity", []func(*repo.TableOptions){provisioned, func(o *repo.TableOptions) { o.Capacity.Write = -5 }}, "TableOptions.Capacity is {Read:1 Write:-5}"},
		{"capacity on demand", []func(*repo.TableOptions){func(o *repo.TableOptions) { o.Capacity = repo.Capacity{Read: 1, Write: 1} }},
			"TableOptions.Capacity {Read:1 Write:1} is set, but billing is on demand"},
		{"capacity explicitly on demand", []func(*repo.TableOptions){provisioned, func(o *repo.TableOptions) { o.BillingMode = types.BillingModePayPerRequest }},
			"billing is on demand"},
		{"index capacity on demand", []func(*repo.TableOptions){func(o *repo.TableOptions) {
			o.IndexCapacity = map[string]repo.Capacity{"byEmail": {Read: 1, Write: 1}}
		}}, "TableOptions.IndexCapacity is set, but billing is on demand"},
		{"capacity for an unknown index", []func(*repo.TableOptions){provisioned, func(o *repo.TableOptions) {
			o.IndexCapacity = map[string]repo.Capacity{"byEmial": {Read: 1, Write: 1}}
		}}, `names index "byEmial", which repo_test.tblMember does not declare (it has [byEmail byJoined byTeam])`},
		{"capacity for a local index", []func(*repo.TableOptions){provisioned, func(o *repo.TableOptions) {
			o.IndexCapacity = map[string]repo.Capacity{"byJoined": {Read: 1, Write: 1}}
		}}, `local index "byJoined", which shares the table's capacity`},
		{"negative index capacity", []func(*repo.TableOptions){provisioned, func(o *repo.TableOptions) {
			o.IndexCapacity = map[string]repo.Capacity{"byTeam": {Read: 1, Write: -1}}
		}}, `TableOptions.IndexCapacity["byTeam"] is {Read:1 Write:-1}`},
		{"zero index capacity", []func(*repo.TableOptions){provisioned, func(o *repo.TableOptions) {
			o.IndexCapacity = map[string]repo.Capacity{"byTeam": {}}
		}}, `TableOptions.IndexCapacity["byTeam"] is {Read:0 Write:0}`},
		{"unknown billing mode", []func(*repo.TableOptions){func(o *repo.TableOptions) { o.BillingMode = "FREE" }}, `TableOptions.BillingMode "FREE"`},
		{"unknown stream view type", []func(*repo.TableOptions){func(o *repo.TableOptions) { o.StreamViewType = "ALL" }}, `TableOptions.StreamViewType "ALL"`},
		{"empty tag key", []func(*repo.TableOptions){func(o *repo.TableOptions) { o.Tags = map[string]string{"": "v"} }}, `TableOptions.Tags: key ""`},
		{"long tag key", []func(*repo.TableOptions){func(o *repo.TableOptions) { o.Tags = map[string]string{strings.Repeat("k", 129): "v"} }}, "want 1 to 128 characters"},
		{"long tag value", []func(*repo.TableOptions){func(o *repo.TableOptions) { o.Tags = map[string]string{"k": strings.Repeat("v", 257)} }},
			`TableOptions.Tags["k"]: value of 257 characters`},
		{"too many tags", []func(*repo.TableOptions){func(o *repo.TableOptions) { o.Tags = manyTags }}, "51 tags, DynamoDB allows 50"},
	}
	for _, tt := range tests {
		e.counter.Reset()
		err := members.CreateTable(context.Background(), tt.opts...)
		if !errors.Is(err, repo.ErrInvalidArgument) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want ErrInvalidArgument saying %q", tt.name, err, tt.want)
		}
		if n := e.counter.Count(); n != 0 {
			t.Errorf("%s: %d requests sent", tt.name, n)
		}
	}

	// A cancelled context: ctx's error, nothing sent.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.counter.Reset()
	if err := members.CreateTable(ctx, provisioned); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
	if n := e.counter.Count(); n != 0 {
		t.Errorf("cancelled ctx: %d requests sent", n)
	}
}

// Bad index and ttl declarations are *versioned.SchemaError from New,
// naming the type and the field, before any request.
type (
	badTTLString struct {
		ID      string `dynamo:"id,hash"`
		Exp     string `dynamo:"exp,ttl"`
		Version int64  `dynamo:"version"`
	}
	badTwoTTL struct {
		ID      string    `dynamo:"id,hash"`
		A       time.Time `dynamo:"a,ttl"`
		B       int64     `dynamo:"b,ttl"`
		Version int64     `dynamo:"version"`
	}
	badIndexKeyType struct {
		ID      string   `dynamo:"id,hash"`
		Tags    []string `dynamo:"tags,index=byTag:hash"`
		Version int64    `dynamo:"version"`
	}
	badTwoIndexHashes struct {
		ID      string `dynamo:"id,hash"`
		A       string `dynamo:"a,index=byAB:hash"`
		B       string `dynamo:"b,index=byAB:hash"`
		Version int64  `dynamo:"version"`
	}
	badRangeOnlyIndex struct {
		ID      string `dynamo:"id,hash"`
		At      int64  `dynamo:"at,index=byAt:range"`
		Version int64  `dynamo:"version"`
	}
	badLocalWithoutRange struct {
		ID      string `dynamo:"id,hash"`
		At      int64  `dynamo:"at,lindex=byAt:range"`
		Version int64  `dynamo:"version"`
	}
	badLocalHash struct {
		ID      string `dynamo:"id,hash"`
		Sk      string `dynamo:"sk,range"`
		At      int64  `dynamo:"at,lindex=byAt:hash"`
		Version int64  `dynamo:"version"`
	}
	badGlobalAndLocal struct {
		ID      string `dynamo:"id,hash"`
		Sk      string `dynamo:"sk,range"`
		A       string `dynamo:"a,index=byA:hash"`
		At      int64  `dynamo:"at,lindex=byA:range"`
		Version int64  `dynamo:"version"`
	}
	badIndexName struct {
		ID      string `dynamo:"id,hash"`
		A       string `dynamo:"a,index=by:hash"`
		Version int64  `dynamo:"version"`
	}
	badIndexNameChars struct {
		ID      string `dynamo:"id,hash"`
		A       string `dynamo:"a,index=by#a:hash"`
		Version int64  `dynamo:"version"`
	}
	badProjection struct {
		ID      string `dynamo:"id,hash"`
		A       string `dynamo:"a,index=byA:hash:keys_only"`
		B       string `dynamo:"b,project=byA"`
		Version int64  `dynamo:"version"`
	}
)

// newErrOf returns New's error for T on e's table.
func newErrOf[T any](e *env) error {
	_, err := repo.New[T](e.client, e.table)
	return err
}

func TestBadInputIndexDeclarations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	check := func(typ, field, reason string, err error) {
		t.Helper()
		var se *versioned.SchemaError
		if !errors.As(err, &se) || !errors.Is(err, versioned.ErrSchema) || se.Type != "repo_test."+typ || se.Field != field || !strings.Contains(se.Reason, reason) {
			t.Errorf("New[%s]: %v; want a SchemaError on field %s saying %q", typ, err, field, reason)
		}
	}
	check("badTTLString", "Exp", "must be a time.Time or an integer type", newErrOf[badTTLString](e))
	check("badTwoTTL", "B", "two ttl fields (also A)", newErrOf[badTwoTTL](e))
	check("badIndexKeyType", "Tags", "cannot be an index key", newErrOf[badIndexKeyType](e))
	check("badTwoIndexHashes", "B", `two hash keys for index "byAB" (also A)`, newErrOf[badTwoIndexHashes](e))
	check("badRangeOnlyIndex", "At", `index "byAt" has a range key but no hash key`, newErrOf[badRangeOnlyIndex](e))
	check("badLocalWithoutRange", "At", "needs a table with a range key", newErrOf[badLocalWithoutRange](e))
	check("badLocalHash", "At", "a local index's hash key is the table's", newErrOf[badLocalHash](e))
	check("badGlobalAndLocal", "At", `index "byA" is local here (lindex=) but global on field A`, newErrOf[badGlobalAndLocal](e))
	check("badIndexName", "A", `index name "by": want 3 to 255 characters`, newErrOf[badIndexName](e))
	check("badIndexNameChars", "A", "only letters, digits", newErrOf[badIndexNameChars](e))
	check("badProjection", "B", `needs index "byA" to project include, not KEYS_ONLY`, newErrOf[badProjection](e))
	if n := e.counter.Count(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
