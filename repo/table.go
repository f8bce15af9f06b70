package repo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/versioned"
)

// CreateTable creates the repository's table as T's tags describe it: its
// key schema, its global and local secondary indexes with their
// projections, and, if T has a ttl field, time to live on that attribute.
// optFns set billing (on demand by default, or provisioned capacity for
// the table and each global index), tags and a stream; see
// [TableOptions]. Bad options are an error matching [ErrInvalidArgument]
// before any request is sent.
//
// It waits until the table and its global indexes are ACTIVE, then enables
// TTL (DescribeTimeToLive, and UpdateTimeToLive unless it is already on).
// It is idempotent: an existing table is accepted if its key schema and its
// indexes (names, keys, projection type, included attributes) are T's, and
// is not changed except for enabling TTL; its billing, tags and stream are
// left as they are. A table with another key or other indexes, or with TTL
// on another attribute, is an error matching [ErrTableMismatch] that names
// every difference. It blocks until done or ctx is done; cancelling ctx
// stops the wait, not a creation DynamoDB has accepted. Safe for concurrent
// use.
func (r *Repository[T]) CreateTable(ctx context.Context, optFns ...func(*TableOptions)) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	var o TableOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := o.validate(r.schema); err != nil {
		return err
	}
	_, err := r.client.CreateTable(ctx, createTableInput(r.table, r.schema, &o))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("repo: create table %s: %w", r.table, err)
	}
	if err := r.waitActive(ctx); err != nil {
		return err
	}
	if attr := r.schema.TTLAttr(); attr != "" {
		return r.enableTTL(ctx, attr)
	}
	return nil
}

// createTableInput is the request that creates table for schema s.
func createTableInput(table string, s *versioned.Schema, o *TableOptions) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:             aws.String(table),
		KeySchema:             keySchema(s.HashAttr(), s.RangeAttr()),
		BillingMode:           types.BillingModePayPerRequest,
		ProvisionedThroughput: o.provisioned(nil),
	}
	if in.ProvisionedThroughput != nil {
		in.BillingMode = types.BillingModeProvisioned
	}
	defs := map[string]types.ScalarAttributeType{s.HashAttr(): s.HashType()}
	if s.HasRange() {
		defs[s.RangeAttr()] = s.RangeType()
	}
	for _, ix := range s.Indexes() {
		defs[ix.HashAttr] = ix.HashType
		if ix.HasRange() {
			defs[ix.RangeAttr] = ix.RangeType
		}
		proj := &types.Projection{ProjectionType: ix.Projection, NonKeyAttributes: ix.NonKey}
		if ix.Global {
			in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
				IndexName:             aws.String(ix.Name),
				KeySchema:             keySchema(ix.HashAttr, ix.RangeAttr),
				Projection:            proj,
				ProvisionedThroughput: o.provisioned(&ix),
			})
		} else {
			in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
				IndexName:  aws.String(ix.Name),
				KeySchema:  keySchema(ix.HashAttr, ix.RangeAttr),
				Projection: proj,
			})
		}
	}
	for _, name := range sortedTableKeys(defs) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: defs[name]})
	}
	for _, k := range sortedTableKeys(o.Tags) {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(o.Tags[k])})
	}
	if o.StreamViewType != "" {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: o.StreamViewType}
	}
	return in
}

func keySchema(hash, rng string) []types.KeySchemaElement {
	keys := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
	if rng != "" {
		keys = append(keys, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange})
	}
	return keys
}

// waitActive describes the table until it and its global indexes are
// ACTIVE, checking each time that it has T's keys and indexes.
func (r *Repository[T]) waitActive(ctx context.Context) error {
	want := schemaShape(r.schema)
	delay := 50 * time.Millisecond
	for {
		out, err := r.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.table)})
		if err != nil {
			var nf *types.ResourceNotFoundException
			if !errors.As(err, &nf) { // a table just created may not be visible yet
				return fmt.Errorf("repo: describe table %s: %w", r.table, err)
			}
		} else {
			if diffs := want.diff(tableShape(out.Table)); len(diffs) > 0 {
				return fmt.Errorf("%w: table %s does not fit type %s: %s", ErrTableMismatch, r.table, r.schema.Type(), strings.Join(diffs, "; "))
			}
			if active(out.Table) {
				return nil
			}
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("repo: waiting for table %s: %w", r.table, ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// active reports whether the table and all its global indexes are ACTIVE.
func active(d *types.TableDescription) bool {
	if d.TableStatus != types.TableStatusActive {
		return false
	}
	for _, g := range d.GlobalSecondaryIndexes {
		if g.IndexStatus != "" && g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}

// shape is what CreateTable compares between a table and an item type: its
// key and its secondary indexes by name.
type shape struct {
	key     string
	indexes map[string]indexShape
}

type indexShape struct {
	global bool
	key    string
	proj   types.ProjectionType
	nonKey []string // sorted
}

func schemaShape(s *versioned.Schema) shape {
	sh := shape{key: keyDesc(s.HashAttr(), s.HashType(), s.RangeAttr(), s.RangeType()), indexes: map[string]indexShape{}}
	for _, ix := range s.Indexes() {
		sh.indexes[ix.Name] = indexShape{
			global: ix.Global,
			key:    keyDesc(ix.HashAttr, ix.HashType, ix.RangeAttr, ix.RangeType),
			proj:   ix.Projection,
			nonKey: ix.NonKey,
		}
	}
	return sh
}

func tableShape(d *types.TableDescription) shape {
	typ := map[string]types.ScalarAttributeType{}
	for _, a := range d.AttributeDefinitions {
		typ[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	key := func(ks []types.KeySchemaElement) string {
		var hash, rng string
		for _, k := range ks {
			switch k.KeyType {
			case types.KeyTypeHash:
				hash = aws.ToString(k.AttributeName)
			case types.KeyTypeRange:
				rng = aws.ToString(k.AttributeName)
			}
		}
		return keyDesc(hash, typ[hash], rng, typ[rng])
	}
	index := func(global bool, ks []types.KeySchemaElement, p *types.Projection) indexShape {
		ix := indexShape{global: global, key: key(ks)}
		if p != nil {
			ix.proj = p.ProjectionType
			ix.nonKey = slices.Sorted(slices.Values(p.NonKeyAttributes))
		}
		return ix
	}
	sh := shape{key: key(d.KeySchema), indexes: map[string]indexShape{}}
	for _, g := range d.GlobalSecondaryIndexes {
		sh.indexes[aws.ToString(g.IndexName)] = index(true, g.KeySchema, g.Projection)
	}
	for _, l := range d.LocalSecondaryIndexes {
		sh.indexes[aws.ToString(l.IndexName)] = index(false, l.KeySchema, l.Projection)
	}
	return sh
}

// keyDesc renders a key: "hash id S, range seq N".
func keyDesc(hash string, ht types.ScalarAttributeType, rng string, rt types.ScalarAttributeType) string {
	d := fmt.Sprintf("hash %s %s", hash, ht)
	if rng != "" {
		d += fmt.Sprintf(", range %s %s", rng, rt)
	}
	return d
}

// diff lists how got, a table, differs from want, the item type's shape.
func (want shape) diff(got shape) []string {
	var diffs []string
	if got.key != want.key {
		diffs = append(diffs, fmt.Sprintf("the table has key (%s), wants (%s)", got.key, want.key))
	}
	kind := map[bool]string{true: "global", false: "local"}
	var names []string
	for n := range want.indexes {
		names = append(names, n)
	}
	for n := range got.indexes {
		if _, ok := want.indexes[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		w, inWant := want.indexes[n]
		g, inGot := got.indexes[n]
		switch {
		case !inGot:
			diffs = append(diffs, fmt.Sprintf("missing %s index %s", kind[w.global], n))
			continue
		case !inWant:
			diffs = append(diffs, fmt.Sprintf("extra %s index %s", kind[g.global], n))
			continue
		}
		if g.global != w.global {
			diffs = append(diffs, fmt.Sprintf("index %s is %s, wants %s", n, kind[g.global], kind[w.global]))
		}
		if g.key != w.key {
			diffs = append(diffs, fmt.Sprintf("index %s has key (%s), wants (%s)", n, g.key, w.key))
		}
		if g.proj != w.proj {
			diffs = append(diffs, fmt.Sprintf("index %s projects %s, wants %s", n, g.proj, w.proj))
		} else if !slices.Equal(g.nonKey, w.nonKey) {
			diffs = append(diffs, fmt.Sprintf("index %s includes %v, wants %v", n, g.nonKey, w.nonKey))
		}
	}
	return diffs
}

// enableTTL turns on time to live on attr, unless it is on already. TTL on
// another attribute is a mismatch.
func (r *Repository[T]) enableTTL(ctx context.Context, attr string) error {
	status, on, err := r.ttlStatus(ctx)
	if err != nil {
		return err
	}
	switch status {
	case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
		if on != attr {
			return fmt.Errorf("%w: table %s has TTL on attribute %q, type %s wants it on %q", ErrTableMismatch, r.table, on, r.schema.Type(), attr)
		}
		return nil
	case types.TimeToLiveStatusDisabling:
		return fmt.Errorf("repo: table %s: TTL on %q is being disabled, and DynamoDB refuses to enable it until that is done (up to an hour); try again later", r.table, on)
	}
	_, err = r.client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(r.table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)},
	})
	if err != nil {
		// A concurrent CreateTable may have enabled it first.
		if status, on, err2 := r.ttlStatus(ctx); err2 == nil && on == attr &&
			(status == types.TimeToLiveStatusEnabled || status == types.TimeToLiveStatusEnabling) {
			return nil
		}
		return fmt.Errorf("repo: enable TTL on %s.%s: %w", r.table, attr, err)
	}
	return nil
}

// ttlStatus returns the table's TTL status and attribute.
func (r *Repository[T]) ttlStatus(ctx context.Context) (types.TimeToLiveStatus, string, error) {
	d, err := r.client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(r.table)})
	if err != nil {
		return "", "", fmt.Errorf("repo: describe TTL of %s: %w", r.table, err)
	}
	if d.TimeToLiveDescription == nil {
		return types.TimeToLiveStatusDisabled, "", nil
	}
	return d.TimeToLiveDescription.TimeToLiveStatus, aws.ToString(d.TimeToLiveDescription.AttributeName), nil
}
