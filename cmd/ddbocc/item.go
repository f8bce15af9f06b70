package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The item commands: show, with the raw SDK, so that any table written
// through package repo can be looked at without its Go type.

// defaultWriteIDAttr is repo.Options.WriteIDAttribute's default.
const defaultWriteIDAttr = "_ddbocc_w"

// itemFlags are the flags of one item command.
type itemFlags struct {
	table       string
	versionAttr string
	writeIDAttr string
}

var itemCommands = map[string]command{
	"show": {setup: func(fs *flag.FlagSet) runner {
		f := &itemFlags{}
		fs.StringVar(&f.table, "table", "", "table")
		fs.StringVar(&f.versionAttr, "version-attr", "version", "the version attribute")
		fs.StringVar(&f.writeIDAttr, "write-id-attr", defaultWriteIDAttr, "the write id attribute (repo.Options.WriteIDAttribute)")
		return f.show
	}},
}

// keyAttr is one key attribute of a table: its name and type (S, N or B).
type keyAttr struct {
	name string
	typ  types.ScalarAttributeType
}

func (f *itemFlags) show(ctx context.Context, e *env, args []string) error {
	if err := needTable(f.table); err != nil {
		return err
	}
	switch {
	case len(args) == 0:
		return usagef("item show: missing the item's KEY")
	case len(args) > 2:
		return usagef("item show: unexpected arguments %q", args[2:])
	case f.versionAttr == "" || f.writeIDAttr == "":
		return usagef("item show: --version-attr and --write-id-attr must not be empty")
	}
	if err := e.connect(ctx); err != nil {
		return err
	}
	keys, err := keySchema(ctx, e.client, f.table)
	if err != nil {
		return err
	}
	if len(keys) != len(args) {
		var want []string
		for _, k := range keys {
			want = append(want, fmt.Sprintf("%s (%s)", k.name, k.typ))
		}
		return usagef("item show: table %s has key %s: give %d key value(s), got %d", f.table, strings.Join(want, " and "), len(keys), len(args))
	}
	key := make(map[string]types.AttributeValue, len(keys))
	var keyText []string
	for i, k := range keys {
		v, err := parseKey(k, args[i])
		if err != nil {
			return err
		}
		key[k.name] = v
		keyText = append(keyText, k.name+" = "+avText(v))
	}
	out, err := e.client.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return e.client.tableErr(f.table, err)
	}
	if out.Item == nil {
		return fmt.Errorf("no item with %s in table %s", strings.Join(keyText, ", "), f.table)
	}
	v := describeItem(out.Item, keys, f.versionAttr, f.writeIDAttr)
	v.Table = f.table
	if e.output == "json" {
		return writeJSON(e.stdout, v)
	}
	return v.table(keys).writeTo(e.stdout)
}

// keySchema reads table's key attributes, hash key first.
func keySchema(ctx context.Context, c *client, table string) ([]keyAttr, error) {
	d, err := c.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, c.tableErr(table, err)
	}
	typs := map[string]types.ScalarAttributeType{}
	for _, a := range d.Table.AttributeDefinitions {
		typs[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	var keys []keyAttr
	for _, kind := range []types.KeyType{types.KeyTypeHash, types.KeyTypeRange} {
		for _, k := range d.Table.KeySchema {
			if k.KeyType == kind {
				name := aws.ToString(k.AttributeName)
				keys = append(keys, keyAttr{name: name, typ: typs[name]})
			}
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("table %s: no key schema in its description", table)
	}
	return keys, nil
}

// number is the syntax of a DynamoDB number.
var number = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// parseKey parses the command-line value s of key attribute k.
func parseKey(k keyAttr, s string) (types.AttributeValue, error) {
	switch k.typ {
	case types.ScalarAttributeTypeS:
		if s == "" {
			return nil, usagef("item show: key %s: empty string", k.name)
		}
		return &types.AttributeValueMemberS{Value: s}, nil
	case types.ScalarAttributeTypeN:
		if !number.MatchString(s) {
			return nil, usagef("item show: key %s is a number (N), got %q", k.name, s)
		}
		return &types.AttributeValueMemberN{Value: s}, nil
	case types.ScalarAttributeTypeB:
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil && len(b) > 0 {
				return &types.AttributeValueMemberB{Value: b}, nil
			}
		}
		return nil, usagef("item show: key %s is binary (B): give it in base64, got %q", k.name, s)
	}
	return nil, fmt.Errorf("key %s has type %q, want S, N or B", k.name, k.typ)
}

// itemView is an item as item show prints it.
type itemView struct {
	Table       string         `json:"table"`
	Key         map[string]any `json:"key"` // DynamoDB JSON
	VersionAttr string         `json:"version_attribute"`
	// Version is the version attribute's value; nil if the item has none
	// (or not a number: VersionRaw holds it then).
	Version    *int64    `json:"version"`
	VersionRaw any       `json:"version_raw,omitempty"`
	WriteIDs   *writeIDs `json:"write_ids"` // nil: the item has no write id attribute
	// Attributes are the other attributes, key included, in DynamoDB JSON.
	Attributes map[string]any `json:"attributes"`

	attrs []string // names of Attributes, key first then sorted
	item  map[string]types.AttributeValue
}

// writeIDs is the decoded write id attribute (see repo's writeid.go and
// writers.go): version -> id of the write that stored it, the writer
// slots' last writes, and the version from which the version entries are
// complete (a blind write's mark).
type writeIDs struct {
	Attribute    string          `json:"attribute"`
	Versions     []versionID     `json:"versions"`
	Writers      []writerID      `json:"writers,omitempty"`
	CompleteFrom int64           `json:"complete_from,omitempty"`
	Other        map[string]any  `json:"other,omitempty"` // entries not understood, in DynamoDB JSON
	Raw          *map[string]any `json:"raw,omitempty"`   // the attribute, if it is not a map
}

type versionID struct {
	Version int64  `json:"version"`
	ID      string `json:"id"`
}

type writerID struct {
	Slot    string `json:"slot"`
	Version int64  `json:"version"`
	ID      string `json:"id"`
}

func describeItem(item map[string]types.AttributeValue, keys []keyAttr, versionAttr, writeIDAttr string) itemView {
	v := itemView{Key: map[string]any{}, VersionAttr: versionAttr, Attributes: map[string]any{}, item: item}
	for _, k := range keys {
		v.Key[k.name] = ddbJSON(item[k.name])
	}
	if av, ok := item[versionAttr]; ok {
		if n, isN := av.(*types.AttributeValueMemberN); isN {
			if x, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				v.Version = &x
			}
		}
		if v.Version == nil {
			v.VersionRaw = ddbJSON(av)
		}
	}
	if av, ok := item[writeIDAttr]; ok {
		v.WriteIDs = decodeWriteIDs(writeIDAttr, av)
	}
	var rest []string
	for name, av := range item {
		if name == versionAttr || name == writeIDAttr {
			continue
		}
		v.Attributes[name] = ddbJSON(av)
		if !slices.ContainsFunc(keys, func(k keyAttr) bool { return k.name == name }) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	for _, k := range keys {
		v.attrs = append(v.attrs, k.name)
	}
	v.attrs = append(v.attrs, rest...)
	return v
}

// decodeWriteIDs decodes the write id map: "<version>": "<id>",
// "~<writer slot>": "<version> <id>", "!": "<version>".
func decodeWriteIDs(attr string, av types.AttributeValue) *writeIDs {
	w := &writeIDs{Attribute: attr, Versions: []versionID{}}
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		raw := map[string]any{"value": ddbJSON(av)}
		w.Raw = &raw
		return w
	}
	other := func(k string, v types.AttributeValue) {
		if w.Other == nil {
			w.Other = map[string]any{}
		}
		w.Other[k] = ddbJSON(v)
	}
	for k, ev := range m.Value {
		s, isS := ev.(*types.AttributeValueMemberS)
		if !isS {
			other(k, ev)
			continue
		}
		switch {
		case k == "!":
			n, err := strconv.ParseInt(s.Value, 10, 64)
			if err != nil {
				other(k, ev)
				continue
			}
			w.CompleteFrom = n
		case strings.HasPrefix(k, "~"):
			vs, id, found := strings.Cut(s.Value, " ")
			n, err := strconv.ParseInt(vs, 10, 64)
			if !found || err != nil {
				other(k, ev)
				continue
			}
			w.Writers = append(w.Writers, writerID{Slot: k, Version: n, ID: id})
		default:
			n, err := strconv.ParseInt(k, 10, 64)
			if err != nil {
				other(k, ev)
				continue
			}
			w.Versions = append(w.Versions, versionID{Version: n, ID: s.Value})
		}
	}
	slices.SortFunc(w.Versions, func(a, b versionID) int { return cmpInt(a.Version, b.Version) })
	slices.SortFunc(w.Writers, func(a, b writerID) int {
		if c := cmpInt(b.Version, a.Version); c != 0 {
			return c
		}
		return strings.Compare(a.Slot, b.Slot)
	})
	return w
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// table renders v for people.
func (v itemView) table(keys []keyAttr) *table {
	t := newTable()
	t.row("table:", v.Table)
	var kt []string
	for _, k := range keys {
		kt = append(kt, fmt.Sprintf("%s = %s (%s)", k.name, avText(v.item[k.name]), k.typ))
	}
	t.row("key:", strings.Join(kt, ", "))
	switch {
	case v.Version != nil:
		t.row("version:", fmt.Sprintf("%d (attribute %q)", *v.Version, v.VersionAttr))
	case v.VersionRaw != nil:
		t.row("version:", fmt.Sprintf("not an integer: %s (attribute %q)", avText(v.item[v.VersionAttr]), v.VersionAttr))
	default:
		t.row("version:", fmt.Sprintf("none (no attribute %q; see --version-attr)", v.VersionAttr))
	}
	w := v.WriteIDs
	switch {
	case w == nil:
		t.row("write ids:", "none (no attribute \""+defaultWriteIDAttr+"\"? see --write-id-attr)")
	case w.Raw != nil:
		t.row("write ids:", fmt.Sprintf("attribute %q is not a map: %s", w.Attribute, avText(v.item[w.Attribute])))
	default:
		t.row("write ids:", fmt.Sprintf("attribute %q: %s, %s", w.Attribute, count(len(w.Versions), "version entry", "version entries"), count(len(w.Writers), "writer entry", "writer entries")))
		for _, e := range w.Versions {
			t.row("", fmt.Sprintf("  version %d", e.Version), "written by "+e.ID)
		}
		for _, e := range w.Writers {
			t.row("", "  writer "+e.Slot, fmt.Sprintf("last wrote version %d as %s", e.Version, e.ID))
		}
		if w.CompleteFrom > 0 {
			t.row("", "  complete from", fmt.Sprintf("version %d (a blind write replaced the map there)", w.CompleteFrom))
		}
		for _, k := range sortedKeys(w.Other) {
			b, _ := json.Marshal(w.Other[k])
			t.row("", "  other "+strconv.Quote(k), string(b))
		}
	}
	t.row("attributes:", fmt.Sprintf("%d", len(v.attrs)))
	for _, name := range v.attrs {
		av := v.item[name]
		t.row("", "  "+name, avType(av), avText(av))
	}
	return t
}

// count is n and the noun, singular or plural.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
