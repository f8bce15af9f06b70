package versioned_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ddbocc/ddbocc/versioned"
)

func TestParseTag(t *testing.T) {
	tests := []struct {
		tag  string
		want versioned.Tag
	}{
		{"", versioned.Tag{}},
		{"id", versioned.Tag{Name: "id"}},
		{"id,hash", versioned.Tag{Name: "id", Hash: true}},
		{",hash", versioned.Tag{Hash: true}},
		{"sk,range", versioned.Tag{Name: "sk", Range: true}},
		{"rev,version", versioned.Tag{Name: "rev", Version: true}},
		{",version", versioned.Tag{Version: true}},
		// The name "version" implies the option.
		{"version", versioned.Tag{Name: "version", Version: true}},
		{"version,omitempty", versioned.Tag{Name: "version", Version: true, Options: []string{"omitempty"}}},
		// The option repeats what the name says; that is not a repeated option.
		{"version,version", versioned.Tag{Name: "version", Version: true}},
		// Names are case-sensitive: "Version" is an ordinary attribute.
		{"Version", versioned.Tag{Name: "Version"}},
		// A key may be named "version"; it is then not the version.
		{"version,hash", versioned.Tag{Name: "version", Hash: true}},
		{"version,range", versioned.Tag{Name: "version", Range: true}},
		{"-", versioned.Tag{Skip: true}},
		{",omitempty", versioned.Tag{Options: []string{"omitempty"}}},
		{"n,omitempty,string", versioned.Tag{Name: "n", Options: []string{"omitempty", "string"}}},
		{"n,string,omitempty", versioned.Tag{Name: "n", Options: []string{"string", "omitempty"}}},
		{"id,hash,string", versioned.Tag{Name: "id", Hash: true, Options: []string{"string"}}},
		{"id,string,hash", versioned.Tag{Name: "id", Hash: true, Options: []string{"string"}}},
		{"a.b", versioned.Tag{Name: "a.b"}},
		{"with space", versioned.Tag{Name: "with space"}},
	}
	for _, opt := range []string{"omitempty", "omitemptyelem", "nullempty", "nullemptyelem",
		"string", "stringset", "numberset", "binaryset", "unixtime"} {
		tests = append(tests, struct {
			tag  string
			want versioned.Tag
		}{"f," + opt, versioned.Tag{Name: "f", Options: []string{opt}}})
	}
	for _, tt := range tests {
		got, err := versioned.ParseTag(tt.tag)
		if err != nil {
			t.Errorf("ParseTag(%q): %v", tt.tag, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseTag(%q) = %+v, want %+v", tt.tag, got, tt.want)
		}
	}
}

func TestParseTagErrors(t *testing.T) {
	tests := []struct {
		tag    string
		reason string // a substring of TagError.Reason
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
	}
	for _, tt := range tests {
		got, err := versioned.ParseTag(tt.tag)
		if err == nil {
			t.Errorf("ParseTag(%q) = %+v, want an error", tt.tag, got)
			continue
		}
		if !errors.Is(err, versioned.ErrSchema) {
			t.Errorf("ParseTag(%q): %v does not match ErrSchema", tt.tag, err)
		}
		var te *versioned.TagError
		if !errors.As(err, &te) {
			t.Errorf("ParseTag(%q): %T is not a *TagError", tt.tag, err)
			continue
		}
		if te.Tag != tt.tag {
			t.Errorf("ParseTag(%q): TagError.Tag = %q", tt.tag, te.Tag)
		}
		if !strings.Contains(te.Reason, tt.reason) {
			t.Errorf("ParseTag(%q): reason %q does not contain %q", tt.tag, te.Reason, tt.reason)
		}
		if !strings.Contains(err.Error(), tt.tag) && tt.tag != "" {
			t.Errorf("ParseTag(%q): message %q does not quote the tag", tt.tag, err)
		}
		if !reflect.DeepEqual(got, versioned.Tag{}) {
			t.Errorf("ParseTag(%q) returned %+v with its error, want the zero Tag", tt.tag, got)
		}
	}
}

func TestTagErrorIsOnlyErrSchema(t *testing.T) {
	err := error(&versioned.TagError{Tag: "x,y", Reason: "r"})
	for _, other := range []error{versioned.ErrBadItem, versioned.ErrInvalidKey, versioned.ErrItemTooLarge, versioned.ErrVersionOverflow} {
		if errors.Is(err, other) {
			t.Errorf("TagError matches %v", other)
		}
	}
	if got, want := err.Error(), `versioned: tag "x,y": r`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
