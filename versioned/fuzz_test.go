package versioned_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbocc/ddbocc/versioned"
)

// tiny has small integer types, so that decoding overflows are reached.
type tiny struct {
	ID      []byte `dynamo:"id,hash"`
	Owner   *string
	Balance uint8 `dynamo:"balance"`
	Version int8  `dynamo:"version"`
}

// itemBuilder turns fuzz bytes into attribute values.
type itemBuilder struct{ data []byte }

func (b *itemBuilder) byte() byte {
	if len(b.data) == 0 {
		return 0
	}
	c := b.data[0]
	b.data = b.data[1:]
	return c
}

func (b *itemBuilder) bytes() []byte {
	n := int(b.byte() % 24)
	n = min(n, len(b.data))
	out := b.data[:n:n]
	b.data = b.data[n:]
	return out
}

// number is arbitrary text, or text over a number's alphabet so that valid
// and nearly valid numbers come up often.
func (b *itemBuilder) number() string {
	raw := b.bytes()
	if len(raw) == 0 {
		return ""
	}
	mode, raw := raw[0], raw[1:]
	if mode&1 == 0 {
		const alphabet = "0123456789-+.eE"
		out := make([]byte, len(raw))
		for i, c := range raw {
			out[i] = alphabet[int(c)%len(alphabet)]
		}
		return string(out)
	}
	return string(raw)
}

func (b *itemBuilder) value(depth int) types.AttributeValue {
	kind := b.byte()
	if depth > 3 {
		kind %= 6 // scalars only
	}
	switch kind % 13 {
	case 0:
		return &types.AttributeValueMemberS{Value: string(b.bytes())}
	case 1:
		return &types.AttributeValueMemberN{Value: b.number()}
	case 2:
		return &types.AttributeValueMemberB{Value: b.bytes()}
	case 3:
		return &types.AttributeValueMemberBOOL{Value: b.byte()&1 == 1}
	case 4:
		return &types.AttributeValueMemberNULL{Value: b.byte()&1 == 1}
	case 5:
		return &types.AttributeValueMemberN{Value: b.number()}
	case 6:
		n := int(b.byte() % 4)
		l := &types.AttributeValueMemberL{}
		for range n {
			l.Value = append(l.Value, b.value(depth+1))
		}
		return l
	case 7:
		n := int(b.byte() % 4)
		m := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
		for range n {
			m.Value[string(b.bytes())] = b.value(depth + 1)
		}
		return m
	case 8:
		return &types.AttributeValueMemberSS{Value: []string{string(b.bytes()), string(b.bytes())}}
	case 9:
		return &types.AttributeValueMemberNS{Value: []string{b.number(), b.number()}}
	case 10:
		return &types.AttributeValueMemberBS{Value: [][]byte{b.bytes()}}
	case 11:
		return nil // a nil interface: not from DynamoDB, but from a caller
	default:
		return &types.AttributeValueMemberM{} // nil map
	}
}

var fuzzAttrs = []string{"id", "version", "balance", "owner", "Owner", "extra"}

func buildItem(data []byte) versioned.Item {
	b := &itemBuilder{data: data}
	item := versioned.Item{}
	for _, name := range fuzzAttrs {
		if c := b.byte(); c%4 == 0 {
			continue // absent
		}
		item[name] = b.value(0)
	}
	return item
}

// encodeSeed writes a seed in itemBuilder's format: for each of fuzzAttrs a
// presence byte, then a kind byte and its payload.
func encodeSeed(attrs map[string][2]string) []byte {
	var out []byte
	for _, name := range fuzzAttrs {
		a, ok := attrs[name]
		if !ok {
			out = append(out, 0)
			continue
		}
		out = append(out, 1)
		switch a[0] {
		case "S":
			out = append(out, 0, byte(len(a[1])))
			out = append(out, a[1]...)
		case "N": // arbitrary text
			out = append(out, 1, byte(len(a[1])+1), 1)
			out = append(out, a[1]...)
		case "B":
			out = append(out, 2, byte(len(a[1])))
			out = append(out, a[1]...)
		case "BOOL":
			out = append(out, 3, 1)
		case "NULL":
			out = append(out, 4, 1)
		case "L":
			out = append(out, 6, 1, 0, 1, 'x')
		case "M":
			out = append(out, 7, 1, 1, 'k', 1, 2, 1, '1')
		case "nil":
			out = append(out, 11)
		}
	}
	return out
}

func FuzzUnmarshal(f *testing.F) {
	seeds := []map[string][2]string{
		{"id": {"S", "a1"}, "version": {"N", "3"}, "balance": {"N", "100"}, "owner": {"S", "ana"}},
		{"id": {"S", "a1"}},
		{"id": {"S", "a1"}, "balance": {"S", "ten"}},
		{"id": {"S", "a1"}, "version": {"S", "3"}},
		{"id": {"S", "a1"}, "version": {"N", "-1"}},
		{"id": {"S", "a1"}, "version": {"N", "1e3"}},
		{"id": {"S", "a1"}, "version": {"N", "300"}},
		{"id": {"S", "a1"}, "version": {"NULL", ""}, "balance": {"NULL", ""}},
		{"id": {"S", "a1"}, "owner": {"L", ""}},
		{"id": {"S", "a1"}, "owner": {"M", ""}, "extra": {"M", ""}},
		{"id": {"S", "a1"}, "balance": {"BOOL", ""}},
		{"id": {"S", ""}},
		{"id": {"N", "1"}},
		{"id": {"B", "\x01"}, "version": {"N", "127"}, "balance": {"N", "255"}, "Owner": {"S", "o"}},
		{"id": {"B", ""}},
		{"id": {"nil", ""}},
		{"id": {"S", "a1"}, "version": {"nil", ""}},
		{"id": {"S", "a1"}, "owner": {"nil", ""}},
		{"version": {"N", "1"}},
	}
	for _, seed := range seeds {
		f.Add(encodeSeed(seed))
	}
	f.Add([]byte{})
	f.Add([]byte{1, 6, 3, 7, 2, 1, 'a', 6, 1, 11})

	sa, err := versioned.SchemaOf[account]()
	if err != nil {
		f.Fatal(err)
	}
	st, err := versioned.SchemaOf[tiny]()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		item := buildItem(data)

		var a account
		if err := sa.Unmarshal(item, &a); err != nil {
			if !errors.Is(err, versioned.ErrBadItem) {
				t.Fatalf("Unmarshal(%v) into account: %v does not match ErrBadItem", item, err)
			}
		} else {
			checkDecoded(t, sa, item, &a, a.Version)
		}

		var ti tiny
		if err := st.Unmarshal(item, &ti); err != nil {
			if !errors.Is(err, versioned.ErrBadItem) {
				t.Fatalf("Unmarshal(%v) into tiny: %v does not match ErrBadItem", item, err)
			}
		} else {
			checkDecoded(t, st, item, &ti, int64(ti.Version))
			if ti.Version < 0 {
				t.Fatalf("Unmarshal(%v) into tiny: negative version %d", item, ti.Version)
			}
		}

		// The other functions of a stored item do not panic either.
		_ = versioned.ItemSize(item)
		_, _ = sa.KeyOf(item)
		_, _ = sa.StoredVersion(item)
		if u, ok := sa.Diff(item, item); ok {
			_, _ = versioned.Expr(u, sa.VersionIs(0))
		}
		_, _ = versioned.Expr(sa.Replace(item), sa.VersionIs(0))
	})
}

// checkDecoded checks a successful Unmarshal: the value holds the stored
// version, and marshals back to an item that decodes to the same value.
func checkDecoded[T any](t *testing.T, sc *versioned.Schema, item versioned.Item, out *T, version int64) {
	t.Helper()
	stored, err := sc.StoredVersion(item)
	if err != nil {
		t.Fatalf("Unmarshal(%v) succeeded but StoredVersion: %v", item, err)
	}
	if version != stored || sc.VersionOf(reflect.ValueOf(out)) != stored {
		t.Fatalf("Unmarshal(%v): version %d, stored %d", item, version, stored)
	}
	if version < 0 || version > sc.MaxVersion() {
		t.Fatalf("Unmarshal(%v): version %d out of [0, %d]", item, version, sc.MaxVersion())
	}
	again, err := sc.Marshal(out)
	if err != nil {
		t.Fatalf("Unmarshal(%v) = %+v, which does not marshal: %v", item, *out, err)
	}
	var back T
	if err := sc.Unmarshal(again, &back); err != nil {
		t.Fatalf("re-Unmarshal(%v): %v", again, err)
	}
	if !reflect.DeepEqual(&back, out) {
		t.Fatalf("round trip of %v: %+v, want %+v", item, back, *out)
	}
}

// TestFuzzSeedEncoding checks that encodeSeed and buildItem agree, so that
// the seeds are the items they claim to be.
func TestFuzzSeedEncoding(t *testing.T) {
	got := buildItem(encodeSeed(map[string][2]string{
		"id": {"S", "a1"}, "version": {"N", "3"}, "balance": {"B", "\x01\x02"},
		"owner": {"BOOL", ""}, "Owner": {"L", ""}, "extra": {"M", ""},
	}))
	want := versioned.Item{
		"id":      s("a1"),
		"version": n("3"),
		"balance": b(1, 2),
		"owner":   &types.AttributeValueMemberBOOL{Value: true},
		"Owner":   &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x")}},
		"extra":   &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": n("1")}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("buildItem(encodeSeed) = %v, want %v", got, want)
	}
	got = buildItem(encodeSeed(map[string][2]string{"id": {"nil", ""}, "version": {"NULL", ""}}))
	if v, ok := got["id"]; !ok || v != nil {
		t.Errorf("id = %#v, want a nil value", v)
	}
	if _, ok := got["version"].(*types.AttributeValueMemberNULL); !ok || len(got) != 2 {
		t.Errorf("item = %v", got)
	}
}
