package main

import (
	"bytes"
	"flag"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestParseInterspersed(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		pos  []string
		tab  string
	}{
		{[]string{"a", "--table", "t", "b"}, []string{"a", "b"}, "t"},
		{[]string{"--table=t", "a"}, []string{"a"}, "t"},
		{[]string{"a", "--", "-5", "--table", "x"}, []string{"a", "-5", "--table", "x"}, ""},
		{nil, nil, ""},
	} {
		fs := newFlagSet("x")
		tab := fs.String("table", "", "")
		pos, err := parseInterspersed(fs, c.args)
		if err != nil || !reflect.DeepEqual(pos, c.pos) || *tab != c.tab {
			t.Errorf("%q: %q table %q %v, want %q table %q", c.args, pos, *tab, err, c.pos, c.tab)
		}
	}
	fs := newFlagSet("x")
	if _, err := parseInterspersed(fs, []string{"a", "-h"}); err != flag.ErrHelp {
		t.Errorf("-h: %v", err)
	}
}

func TestDecodeWriteIDs(t *testing.T) {
	t.Parallel()
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	w := decodeWriteIDs("_w", &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"1": s("first"), "12": s("b"), "11": s("a"), "!": s("11"),
		"~abc0": s("12 b"), "~abc1": s("9 z"), "~bad": s("x"), "odd": &types.AttributeValueMemberN{Value: "1"},
	}})
	want := &writeIDs{Attribute: "_w",
		Versions:     []versionID{{1, "first"}, {11, "a"}, {12, "b"}},
		Writers:      []writerID{{"~abc0", 12, "b"}, {"~abc1", 9, "z"}},
		CompleteFrom: 11,
		Other:        map[string]any{"~bad": map[string]any{"S": "x"}, "odd": map[string]any{"N": "1"}},
	}
	if !reflect.DeepEqual(w, want) {
		t.Errorf("decoded %+v\nwant %+v", w, want)
	}
	if w := decodeWriteIDs("_w", s("x")); w.Raw == nil {
		t.Errorf("not a map: %+v", w)
	}
}

func TestRedactor(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "topsecret-1")
	t.Setenv("AWS_SESSION_TOKEN", "short") // too short to mask
	r := newRedactor()
	r.add("another-secret", "")
	var b bytes.Buffer
	w := r.writer(&b)
	in := "a topsecret-1 b another-secret c short"
	if n, err := w.Write([]byte(in)); n != len(in) || err != nil {
		t.Fatalf("Write: %d %v", n, err)
	}
	if got, want := b.String(), "a [REDACTED] b [REDACTED] c short"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
