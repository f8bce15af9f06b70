package versioned

import "strings"

// TagKey is the struct tag key ddbocc reads and hands to attributevalue.
const TagKey = "dynamo"

// Tag is one parsed `dynamo` struct tag.
type Tag struct {
	Name    string   // attribute name; empty means the Go field name
	Skip    bool     // "-": the field is not stored
	Hash    bool     // the hash (partition) key
	Range   bool     // the range (sort) key
	Version bool     // the version attribute, by option or by the name "version"
	Options []string // attributevalue's own options, in tag order
}

// sdkOptions are the attributevalue tag options we pass through.
var sdkOptions = map[string]bool{
	"omitempty": true, "omitemptyelem": true, "nullempty": true, "nullemptyelem": true,
	"string": true, "stringset": true, "numberset": true, "binaryset": true, "unixtime": true,
}

// ParseTag parses the value of a `dynamo` struct tag. It rejects unknown and
// repeated options and contradictory combinations (hash with range, a key
// that is also the version, options on a skipped field). It does not block
// and is safe for concurrent use.
func ParseTag(s string) (Tag, error) {
	parts := strings.Split(s, ",")
	t := Tag{Name: parts[0]}
	if t.Name == "-" && len(parts) == 1 {
		return Tag{Skip: true}, nil
	}
	seen := make(map[string]bool, len(parts))
	for _, opt := range parts[1:] {
		if seen[opt] {
			return Tag{}, &TagError{Tag: s, Reason: "option " + quote(opt) + " given twice"}
		}
		seen[opt] = true
		switch {
		case opt == "hash":
			t.Hash = true
		case opt == "range":
			t.Range = true
		case opt == "version":
			t.Version = true
		case sdkOptions[opt]:
			t.Options = append(t.Options, opt)
		default:
			return Tag{}, &TagError{Tag: s, Reason: "unknown option " + quote(opt) +
				" (ours: hash, range, version; attributevalue's: omitempty, omitemptyelem, nullempty, nullemptyelem, string, stringset, numberset, binaryset, unixtime)"}
		}
	}
	if t.Name == "-" {
		return Tag{}, &TagError{Tag: s, Reason: `"-" skips the field and takes no options`}
	}
	if t.Name == "version" && !t.Hash && !t.Range {
		t.Version = true
	}
	switch {
	case t.Hash && t.Range:
		return Tag{}, &TagError{Tag: s, Reason: "a field cannot be both the hash and the range key"}
	case t.Version && (t.Hash || t.Range):
		return Tag{}, &TagError{Tag: s, Reason: "the version attribute cannot be part of the key"}
	}
	return t, nil
}

func quote(s string) string { return `"` + s + `"` }

func (t Tag) has(opt string) bool {
	for _, o := range t.Options {
		if o == opt {
			return true
		}
	}
	return false
}
