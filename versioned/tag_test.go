package versioned

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseTag(t *testing.T) {
	tests := []struct {
		tag  string
		want tag
	}{
		{"", tag{}},
		{"id", tag{name: "id"}},
		{"id,hash", tag{name: "id", hash: true}},
		{",hash", tag{hash: true}},
		{"sk,range", tag{name: "sk", rng: true}},
		{"rev,version", tag{name: "rev", version: true}},
		{",version", tag{version: true}},
		// The name "version" implies the option.
		{"version", tag{name: "version", version: true}},
		{"version,omitempty", tag{name: "version", version: true, options: []string{"omitempty"}}},
		// The option repeats what the name says; that is not a repeated option.
		{"version,version", tag{name: "version", version: true}},
		// Names are case-sensitive: "Version" is an ordinary attribute.
		{"Version", tag{name: "Version"}},
		// A key may be named "version"; it is then not the version.
		{"version,hash", tag{name: "version", hash: true}},
		{"version,range", tag{name: "version", rng: true}},
		{"-", tag{skip: true}},
		{",omitempty", tag{options: []string{"omitempty"}}},
		{"n,omitempty,string", tag{name: "n", options: []string{"omitempty", "string"}}},
		{"n,string,omitempty", tag{name: "n", options: []string{"string", "omitempty"}}},
		{"id,hash,string", tag{name: "id", hash: true, options: []string{"string"}}},
		{"id,string,hash", tag{name: "id", hash: true, options: []string{"string"}}},
		{"a.b", tag{name: "a.b"}},
		{"with space", tag{name: "with space"}},
		// Indexes, projections and ttl.
		{"exp,ttl", tag{name: "exp", ttl: true}},
		{"exp,ttl,unixtime", tag{name: "exp", ttl: true, options: []string{"unixtime"}}},
		{"e,index=byEmail:hash", tag{name: "e", indexes: []tagIndex{{name: "byEmail"}}}},
		{"e,index=byEmail:range:keys_only", tag{name: "e", indexes: []tagIndex{{name: "byEmail", rng: true, proj: "KEYS_ONLY"}}}},
		{"e,index=byEmail:hash:include", tag{name: "e", indexes: []tagIndex{{name: "byEmail", proj: "INCLUDE"}}}},
		{"e,lindex=by.e-1_x:range:all", tag{name: "e", indexes: []tagIndex{{name: "by.e-1_x", local: true, rng: true, proj: "ALL"}}}},
		{"e,index=aaa:hash,omitempty,lindex=bbb:range", tag{name: "e", options: []string{"omitempty"},
			indexes: []tagIndex{{name: "aaa"}, {name: "bbb", local: true, rng: true}}}},
		{"n,project=aaa,project=bbb", tag{name: "n", project: []string{"aaa", "bbb"}}},
		{"e,index=aaa:hash,project=bbb", tag{name: "e", indexes: []tagIndex{{name: "aaa"}}, project: []string{"bbb"}}},
		{"id,hash,index=aaa:range", tag{name: "id", hash: true, indexes: []tagIndex{{name: "aaa", rng: true}}}},
		{"version,index=aaa:hash", tag{name: "version", version: true, indexes: []tagIndex{{name: "aaa"}}}},
	}
	for _, opt := range []string{"omitempty", "omitemptyelem", "nullempty", "nullemptyelem",
		"string", "stringset", "numberset", "binaryset", "unixtime"} {
		tests = append(tests, struct {
			tag  string
			want tag
		}{"f," + opt, tag{name: "f", options: []string{opt}}})
	}
	for _, tt := range tests {
		got, err := parseTag(tt.tag)
		if err != nil {
			t.Errorf("parseTag(%q): %v", tt.tag, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseTag(%q) = %+v, want %+v", tt.tag, got, tt.want)
		}
	}
}

func TestParseTagErrors(t *testing.T) {
	tests := []struct {
		tag    string
		reason string // a substring of tagError.reason
	}{
		{"id,hahs", `unknown option "hahs"`},
		{"id,Hash", `unknown option "Hash"`},
		{"id, hash", `unknown option " hash"`},
		{"id,", `unknown option ""`},
		{"id,,hash", `unknown option ""`},
		{"id,omitEmpty", `unknown option "omitEmpty"`},
		{"id,hash,hash", `option "hash" given twice`},
		{"id,omitempty,omitempty", `option "omitempty" given twice`},
		{"rev,version,version", `option "version" given twice`},
		{"-,omitempty", `"-" skips the field and takes no options`},
		{"-,hash", `"-" skips the field`},
		{"-,", `unknown option ""`},
		{"id,hash,range", "both the hash and the range key"},
		{"id,range,hash", "both the hash and the range key"},
		{"id,version,hash", "cannot be part of the key"},
		{"id,hash,version", "cannot be part of the key"},
		{"rev,version,range", "cannot be part of the key"},
		{"exp,ttl,hash", "the ttl attribute cannot be part of the table's key"},
		{"exp,range,ttl", "the ttl attribute cannot be part of the table's key"},
		{"version,ttl", "both the version and the ttl"},
		{"exp,ttl,ttl", `option "ttl" given twice`},
		{"e,index=", "want index=NAME:hash"},
		{"e,index=byEmail", "want index=NAME:hash"},
		{"e,index=byEmail:", `unknown key role ""`},
		{"e,index=byEmail:Hash", `unknown key role "Hash"`},
		{"e,index=byEmail:hash:ALL", `unknown projection "ALL"`},
		{"e,index=byEmail:hash:all:x", "want index=NAME:hash"},
		{"e,index=ab:hash", `index name "ab": want 3 to 255 characters`},
		{"e,index=by email:hash", "only letters, digits"},
		{"e,lindex=byEmail:hash", "a local index's hash key is the table's"},
		{"e,lindex=byEmail", "want lindex=NAME:range"},
		{"e,index=byEmail:hash,index=byEmail:hash", `option "index=byEmail:hash" given twice`},
		{"e,index=byEmail:hash,lindex=byEmail:range", `named twice as a key of index "byEmail"`},
		{"e,project=ab", `index name "ab"`},
		{"e,index=byEmail:hash,project=byEmail", `key of index "byEmail", which always holds its keys`},
		{"id,hash,project=byEmail", "a key of the table is in every index"},
		{"e,Index=byEmail:hash", `unknown option "Index=byEmail:hash"`},
		{"-,ttl", `"-" skips the field`},
	}
	for _, tt := range tests {
		got, err := parseTag(tt.tag)
		if err == nil {
			t.Errorf("parseTag(%q) = %+v, want an error", tt.tag, got)
			continue
		}
		if !errors.Is(err, ErrSchema) {
			t.Errorf("parseTag(%q): %v does not match ErrSchema", tt.tag, err)
		}
		var te *tagError
		if !errors.As(err, &te) {
			t.Errorf("parseTag(%q): %T is not a *tagError", tt.tag, err)
			continue
		}
		if te.tag != tt.tag {
			t.Errorf("parseTag(%q): tagError.tag = %q", tt.tag, te.tag)
		}
		if !strings.Contains(te.reason, tt.reason) {
			t.Errorf("parseTag(%q): reason %q does not contain %q", tt.tag, te.reason, tt.reason)
		}
		if !strings.Contains(err.Error(), tt.tag) && tt.tag != "" {
			t.Errorf("parseTag(%q): message %q does not quote the tag", tt.tag, err)
		}
		if !reflect.DeepEqual(got, tag{}) {
			t.Errorf("parseTag(%q) returned %+v with its error, want the zero tag", tt.tag, got)
		}
	}
}

func TestTagErrorIsOnlyErrSchema(t *testing.T) {
	err := error(&tagError{tag: "x,y", reason: "r"})
	for _, other := range []error{ErrBadItem, ErrInvalidKey, ErrItemTooLarge, ErrVersionOverflow} {
		if errors.Is(err, other) {
			t.Errorf("tagError matches %v", other)
		}
	}
	if got, want := err.Error(), `versioned: tag "x,y": r`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func FuzzParseTag(f *testing.F) {
	for _, seed := range []string{
		"", "-", "id", "id,hash", "sk,range", "rev,version", "version", "version,omitempty",
		",omitempty", "n,omitempty,string", "id,hahs", "id,hash,hash", "-,omitempty", "-,",
		"id,hash,range", "id,version,hash", "version,hash", "version,version", "a.b,nullempty",
		"id,,hash", ",", ",,", "x,unixtime,stringset,numberset,binaryset,omitemptyelem,nullemptyelem",
		"e,index=byEmail:hash:keys_only", "e,lindex=byE:range,project=byF", "exp,ttl", "e,index=a:b:c:d", "e,index=::",
	} {
		f.Add(seed)
	}
	sdk := []string{"omitempty", "omitemptyelem", "nullempty", "nullemptyelem",
		"string", "stringset", "numberset", "binaryset", "unixtime"}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseTag(s)
		if err != nil {
			var te *tagError
			if !errors.As(err, &te) || !errors.Is(err, ErrSchema) || te.tag != s {
				t.Fatalf("parseTag(%q): error %v (%T) is not a *tagError for the tag", s, err, err)
			}
			if !reflect.DeepEqual(got, tag{}) {
				t.Fatalf("parseTag(%q) = %+v with its error", s, got)
			}
			return
		}
		if got.hash && got.rng {
			t.Fatalf("parseTag(%q) = %+v: both hash and range", s, got)
		}
		if got.version && (got.hash || got.rng) {
			t.Fatalf("parseTag(%q) = %+v: the version is part of the key", s, got)
		}
		if got.skip != (s == "-") {
			t.Fatalf("parseTag(%q) = %+v: skip for something other than \"-\"", s, got)
		}
		if got.skip {
			if !reflect.DeepEqual(got, tag{skip: true}) {
				t.Fatalf("parseTag(%q) = %+v: a skipped field with more", s, got)
			}
			return
		}
		name, opts, _ := strings.Cut(s, ",")
		if got.name != name || got.name == "-" {
			t.Fatalf("parseTag(%q): name = %q, want %q", s, got.name, name)
		}
		if got.name == "version" && !got.hash && !got.rng && !got.version {
			t.Fatalf("parseTag(%q) = %+v: the name version does not imply version", s, got)
		}
		// Every option is accounted for exactly once and in order.
		var want []string
		indexOpts, projectOpts := 0, 0
		seen := map[string]bool{}
		if opts != "" || strings.Contains(s, ",") {
			for _, o := range strings.Split(opts, ",") {
				if seen[o] {
					t.Fatalf("parseTag(%q) accepted the repeated option %q", s, o)
				}
				seen[o] = true
				switch o {
				case "hash":
					if !got.hash {
						t.Fatalf("parseTag(%q) lost hash", s)
					}
				case "range":
					if !got.rng {
						t.Fatalf("parseTag(%q) lost range", s)
					}
				case "version":
					if !got.version {
						t.Fatalf("parseTag(%q) lost version", s)
					}
				case "ttl":
					if !got.ttl {
						t.Fatalf("parseTag(%q) lost ttl", s)
					}
				default:
					if kind, val, ok := strings.Cut(o, "="); ok && (kind == "index" || kind == "lindex") {
						name, _, _ := strings.Cut(val, ":")
						if !slices.ContainsFunc(got.indexes, func(ix tagIndex) bool { return ix.name == name && ix.local == (kind == "lindex") }) {
							t.Fatalf("parseTag(%q) lost %q", s, o)
						}
						indexOpts++
						continue
					}
					if name, ok := strings.CutPrefix(o, "project="); ok {
						if !slices.Contains(got.project, name) {
							t.Fatalf("parseTag(%q) lost %q", s, o)
						}
						projectOpts++
						continue
					}
					if !slices.Contains(sdk, o) {
						t.Fatalf("parseTag(%q) accepted the unknown option %q", s, o)
					}
					want = append(want, o)
				}
			}
		}
		if !slices.Equal(got.options, want) {
			t.Fatalf("parseTag(%q): options = %q, want %q", s, got.options, want)
		}
		if len(got.indexes) != indexOpts || len(got.project) != projectOpts {
			t.Fatalf("parseTag(%q) = %+v: %d index and %d project options", s, got, indexOpts, projectOpts)
		}
		if got.ttl && (!seen["ttl"] || got.hash || got.rng || got.version) {
			t.Fatalf("parseTag(%q) = %+v: ttl without its option, or with a key or the version", s, got)
		}
		for _, ix := range got.indexes {
			if len(ix.name) < 3 || strings.ContainsAny(ix.name, ":=, ") || ix.local && !ix.rng {
				t.Fatalf("parseTag(%q) = %+v: index %+v", s, got, ix)
			}
		}
		if got.hash && !seen["hash"] || got.rng && !seen["range"] || got.version && !seen["version"] && got.name != "version" {
			t.Fatalf("parseTag(%q) = %+v: a flag without its option", s, got)
		}
	})
}
