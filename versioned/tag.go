package versioned

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TagKey is the struct tag key ddbocc reads and hands to attributevalue.
const TagKey = "dynamo"

// tag is one parsed `dynamo` struct tag.
type tag struct {
	name    string   // attribute name; empty means the Go field name
	skip    bool     // "-": the field is not stored
	hash    bool     // the hash (partition) key
	rng     bool     // the range (sort) key
	version bool     // the version attribute, by option or by the name "version"
	ttl     bool     // the table's time-to-live attribute
	options []string // attributevalue's own options, in tag order

	indexes []tagIndex // index= and lindex= options, in tag order
	project []string   // project=NAME options: indexes whose INCLUDE projection holds the field
}

// tagIndex is one index= or lindex= option: the field is a key of the
// named secondary index.
type tagIndex struct {
	name  string
	local bool                 // lindex=: a local secondary index
	rng   bool                 // the index's range key; else its hash key
	proj  types.ProjectionType // the index's projection, if this option declares it
}

// sdkOptions are the attributevalue tag options we pass through.
var sdkOptions = map[string]bool{
	"omitempty": true, "omitemptyelem": true, "nullempty": true, "nullemptyelem": true,
	"string": true, "stringset": true, "numberset": true, "binaryset": true, "unixtime": true,
}

// tagError is returned by parseTag for a malformed tag. enumerate turns it
// into a [*SchemaError] naming the type and field.
type tagError struct {
	tag    string
	reason string
}

func (e *tagError) Error() string {
	return fmt.Sprintf("versioned: tag %q: %s", e.tag, e.reason)
}

// Is reports whether target is [ErrSchema].
func (e *tagError) Is(target error) bool { return target == ErrSchema }

// parseTag parses the value of a `dynamo` struct tag. It rejects unknown and
// repeated options and contradictory combinations (hash with range, a key
// that is also the version, options on a skipped field).
func parseTag(s string) (tag, error) {
	parts := strings.Split(s, ",")
	t := tag{name: parts[0]}
	if t.name == "-" && len(parts) == 1 {
		return tag{skip: true}, nil
	}
	seen := make(map[string]bool, len(parts))
	for _, opt := range parts[1:] {
		if seen[opt] {
			return tag{}, &tagError{tag: s, reason: "option " + quote(opt) + " given twice"}
		}
		seen[opt] = true
		switch {
		case opt == "hash":
			t.hash = true
		case opt == "range":
			t.rng = true
		case opt == "version":
			t.version = true
		case opt == "ttl":
			t.ttl = true
		case sdkOptions[opt]:
			t.options = append(t.options, opt)
		case strings.HasPrefix(opt, "index=") || strings.HasPrefix(opt, "lindex="):
			ix, reason := parseIndexOption(opt)
			if reason == "" {
				reason = t.addIndex(ix)
			}
			if reason != "" {
				return tag{}, &tagError{tag: s, reason: reason}
			}
		case strings.HasPrefix(opt, "project="):
			name := strings.TrimPrefix(opt, "project=")
			if p := indexNameProblem(name); p != "" {
				return tag{}, &tagError{tag: s, reason: "option " + quote(opt) + ": index name " + quote(name) + ": " + p}
			}
			t.project = append(t.project, name)
		default:
			return tag{}, &tagError{tag: s, reason: "unknown option " + quote(opt) +
				" (ours: hash, range, version, ttl, index=NAME:hash|range[:PROJECTION], lindex=NAME:range[:PROJECTION], project=NAME;" +
				" attributevalue's: omitempty, omitemptyelem, nullempty, nullemptyelem, string, stringset, numberset, binaryset, unixtime)"}
		}
	}
	if t.name == "-" {
		return tag{}, &tagError{tag: s, reason: `"-" skips the field and takes no options`}
	}
	if t.name == "version" && !t.hash && !t.rng {
		t.version = true
	}
	switch {
	case t.hash && t.rng:
		return tag{}, &tagError{tag: s, reason: "a field cannot be both the hash and the range key"}
	case t.version && (t.hash || t.rng):
		return tag{}, &tagError{tag: s, reason: "the version attribute cannot be part of the key"}
	case t.ttl && (t.hash || t.rng):
		return tag{}, &tagError{tag: s, reason: "the ttl attribute cannot be part of the table's key"}
	case t.ttl && t.version:
		return tag{}, &tagError{tag: s, reason: "a field cannot be both the version and the ttl attribute"}
	}
	for _, p := range t.project {
		for _, ix := range t.indexes {
			if ix.name == p {
				return tag{}, &tagError{tag: s, reason: "the field is a key of index " + quote(p) + ", which always holds its keys: drop project=" + p}
			}
		}
		if t.hash || t.rng {
			return tag{}, &tagError{tag: s, reason: "a key of the table is in every index: drop project=" + p}
		}
	}
	return t, nil
}

// parseIndexOption parses index=NAME:ROLE[:PROJECTION] or
// lindex=NAME:range[:PROJECTION]. It returns the index and "", or why the
// option is malformed.
func parseIndexOption(opt string) (tagIndex, string) {
	kind, val, _ := strings.Cut(opt, "=")
	ix := tagIndex{local: kind == "lindex"}
	bad := func(reason string) (tagIndex, string) { return tagIndex{}, "option " + quote(opt) + ": " + reason }
	want := "want " + kind + "=NAME:hash or " + kind + "=NAME:range, optionally followed by :all, :keys_only or :include"
	if ix.local {
		want = "want lindex=NAME:range, optionally followed by :all, :keys_only or :include"
	}
	parts := strings.Split(val, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return bad(want)
	}
	ix.name = parts[0]
	if p := indexNameProblem(ix.name); p != "" {
		return bad("index name " + quote(ix.name) + ": " + p)
	}
	switch parts[1] {
	case "hash":
		if ix.local {
			return bad("a local index's hash key is the table's; its own key is a range key: " + want)
		}
	case "range":
		ix.rng = true
	default:
		return bad("unknown key role " + quote(parts[1]) + ": " + want)
	}
	if len(parts) == 3 {
		switch parts[2] {
		case "all":
			ix.proj = types.ProjectionTypeAll
		case "keys_only":
			ix.proj = types.ProjectionTypeKeysOnly
		case "include":
			ix.proj = types.ProjectionTypeInclude
		default:
			return bad("unknown projection " + quote(parts[2]) + " (want all, keys_only or include)")
		}
	}
	return ix, ""
}

// addIndex adds ix to t's indexes, unless t already names that index: a
// field is at most one key of an index.
func (t *tag) addIndex(ix tagIndex) string {
	for _, o := range t.indexes {
		if o.name == ix.name {
			return "the field is named twice as a key of index " + quote(ix.name)
		}
	}
	t.indexes = append(t.indexes, ix)
	return ""
}

// schemaRole reports whether the tag gives its field a part in the schema
// beyond being stored: a key, the version or the ttl attribute, a key of an
// index or part of an index's projection. An embedded struct cannot have
// one.
func (t tag) schemaRole() bool {
	return t.hash || t.rng || t.version || t.ttl || len(t.indexes) > 0 || len(t.project) > 0
}

func quote(s string) string { return `"` + s + `"` }

func (t tag) has(opt string) bool {
	for _, o := range t.options {
		if o == opt {
			return true
		}
	}
	return false
}
