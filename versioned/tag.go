package versioned

import (
	"fmt"
	"strings"
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
	options []string // attributevalue's own options, in tag order
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
		case sdkOptions[opt]:
			t.options = append(t.options, opt)
		default:
			return tag{}, &tagError{tag: s, reason: "unknown option " + quote(opt) +
				" (ours: hash, range, version; attributevalue's: omitempty, omitemptyelem, nullempty, nullemptyelem, string, stringset, numberset, binaryset, unixtime)"}
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
	}
	return t, nil
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
