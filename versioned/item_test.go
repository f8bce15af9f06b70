package versioned_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbocc/ddbocc/versioned"
)

type profile struct {
	ID        string            `dynamo:"id,hash"`
	OwnerName string            `dynamo:"owner_name"`
	Nick      string            `dynamo:"nick,omitempty"`
	Tags      []string          `dynamo:"tags,stringset,omitempty"`
	Meta      map[string]string `dynamo:"meta"`
	Skipped   string            `dynamo:"-"`
	Version   int64             `dynamo:"version"`
}

func s(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }
func n(v string) *types.AttributeValueMemberN { return &types.AttributeValueMemberN{Value: v} }
func b(v ...byte) *types.AttributeValueMemberB {
	return &types.AttributeValueMemberB{Value: v}
}

func TestMarshalRoundTrip(t *testing.T) {
	sc := mustSchema[profile](t)
	v := profile{ID: "p1", OwnerName: "Ana", Tags: []string{"a", "b"}, Meta: map[string]string{"k": "v"}, Skipped: "x", Version: 4}
	item, err := sc.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := item["owner_name"].(*types.AttributeValueMemberS); !ok || got.Value != "Ana" {
		t.Errorf(`item["owner_name"] = %#v, want S "Ana"`, item["owner_name"])
	}
	for _, absent := range []string{"OwnerName", "nick", "Skipped", "-"} {
		if _, ok := item[absent]; ok {
			t.Errorf("item has %q: %v", absent, item)
		}
	}
	if got, ok := item["version"].(*types.AttributeValueMemberN); !ok || got.Value != "4" {
		t.Errorf(`item["version"] = %#v, want N "4"`, item["version"])
	}
	if _, ok := item["tags"].(*types.AttributeValueMemberSS); !ok {
		t.Errorf(`item["tags"] = %#v, want SS`, item["tags"])
	}

	// A pointer marshals the same.
	item2, err := sc.Marshal(&v)
	if err != nil || !reflect.DeepEqual(item, item2) {
		t.Errorf("Marshal(&v) = %v, %v; want %v", item2, err, item)
	}

	var back profile
	if err := sc.Unmarshal(item, &back); err != nil {
		t.Fatal(err)
	}
	v.Skipped = ""
	if !reflect.DeepEqual(back, v) {
		t.Errorf("round trip = %+v, want %+v", back, v)
	}
	if got := sc.VersionOf(reflect.ValueOf(back)); got != 4 {
		t.Errorf("VersionOf = %d", got)
	}
}

func TestMarshalRoundTripRangeAndBinary(t *testing.T) {
	se := mustSchema[event](t)
	ev := event{Stream: "s", Seq: -3, Rev: 9, Data: []byte{0, 1}}
	item, err := se.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var evBack event
	if err := se.Unmarshal(item, &evBack); err != nil || !reflect.DeepEqual(evBack, ev) {
		t.Errorf("event round trip = %+v, %v", evBack, err)
	}

	sb := mustSchema[blob](t)
	bl := blob{K: []byte{1}, R: []byte{2, 3}, Version: 65535}
	item, err = sb.Marshal(bl)
	if err != nil {
		t.Fatal(err)
	}
	var blBack blob
	if err := sb.Unmarshal(item, &blBack); err != nil || !reflect.DeepEqual(blBack, bl) {
		t.Errorf("blob round trip = %+v, %v", blBack, err)
	}

	sn := mustSchema[numString](t)
	item, err = sn.Marshal(numString{ID: 42, Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := item["id"].(*types.AttributeValueMemberS); !ok || got.Value != "42" {
		t.Errorf(`",string" key stored as %#v, want S "42"`, item["id"])
	}
	var nsBack numString
	if err := sn.Unmarshal(item, &nsBack); err != nil || nsBack.ID != 42 {
		t.Errorf("numString round trip = %+v, %v", nsBack, err)
	}
}

func TestMarshalInvalidKey(t *testing.T) {
	tests := []struct {
		name string
		s    *versioned.Schema
		v    any
	}{
		{"empty hash", mustSchema[account](t), account{Owner: "o"}},
		{"empty hash via pointer", mustSchema[account](t), &account{}},
		{"empty range", mustSchema[profileRange](t), profileRange{ID: "x"}},
		{"nil binary hash", mustSchema[blob](t), blob{R: []byte{1}}},
		{"empty binary range", mustSchema[blob](t), blob{K: []byte{1}, R: []byte{}}},
		{"empty embedded hash", mustSchema[withBase](t), withBase{}},
	}
	for _, tt := range tests {
		item, err := tt.s.Marshal(tt.v)
		if !errors.Is(err, versioned.ErrInvalidKey) {
			t.Errorf("%s: Marshal = %v, %v; want ErrInvalidKey", tt.name, item, err)
		}
		if item != nil {
			t.Errorf("%s: item %v returned with the error", tt.name, item)
		}
	}
}

type profileRange struct {
	ID      string `dynamo:"id,hash"`
	SK      string `dynamo:"sk,range"`
	Version int64  `dynamo:"version"`
}

func TestMarshalNotAStruct(t *testing.T) {
	sc := mustSchema[account](t)
	for _, v := range []any{(*account)(nil), 5, "x", nil} {
		if item, err := sc.Marshal(v); err == nil {
			t.Errorf("Marshal(%#v) = %v, want an error", v, item)
		}
	}
}

func TestUnmarshalBadItems(t *testing.T) {
	good := func() versioned.Item {
		return versioned.Item{"id": s("a"), "owner": s("o"), "balance": n("10"), "version": n("3")}
	}
	with := func(k string, v types.AttributeValue) versioned.Item {
		it := good()
		if v == nil {
			delete(it, k)
		} else {
			it[k] = v
		}
		return it
	}
	tests := []struct {
		name string
		item versioned.Item
		key  bool // the error also matches ErrInvalidKey
	}{
		{"string for number", with("balance", s("ten")), false},
		{"bool for number", with("balance", &types.AttributeValueMemberBOOL{Value: true}), false},
		{"list for string", with("owner", &types.AttributeValueMemberL{}), false},
		{"fraction for int", with("balance", n("1.5")), false},
		{"overflowing int", with("balance", n("99999999999999999999")), false},
		{"garbage number", with("balance", n("0x10")), false},
		{"version as string", with("version", s("3")), false},
		{"version as bool", with("version", &types.AttributeValueMemberBOOL{Value: true}), false},
		{"version as list", with("version", &types.AttributeValueMemberL{}), false},
		{"negative version", with("version", n("-1")), false},
		{"fractional version", with("version", n("2.5")), false},
		{"exponent version", with("version", n("1e3")), false},
		{"huge version", with("version", n("9223372036854775808")), false},
		{"empty version", with("version", n("")), false},
		{"nil version value", versioned.Item{"id": s("a"), "version": nil}, false},
		{"missing key", with("id", nil), true},
		{"number key", with("id", n("1")), true},
		{"empty key", with("id", s("")), true},
		{"NULL key", with("id", &types.AttributeValueMemberNULL{Value: true}), true},
		{"nil key value", versioned.Item{"id": nil}, true},
		{"empty item", versioned.Item{}, true},
		{"nil item", nil, true},
	}
	sc := mustSchema[account](t)
	for _, tt := range tests {
		var out account
		err := sc.Unmarshal(tt.item, &out)
		if !errors.Is(err, versioned.ErrBadItem) {
			t.Errorf("%s: Unmarshal = %v, want ErrBadItem", tt.name, err)
			continue
		}
		if got := errors.Is(err, versioned.ErrInvalidKey); got != tt.key {
			t.Errorf("%s: errors.Is(%v, ErrInvalidKey) = %v, want %v", tt.name, err, got, tt.key)
		}
	}

	// A version that fits int64 but not the field is bad too.
	s8 := mustSchema[verT[int8]](t)
	var v8 verT[int8]
	if err := s8.Unmarshal(versioned.Item{"id": s("a"), "version": n("300")}, &v8); !errors.Is(err, versioned.ErrBadItem) {
		t.Errorf("int8 version 300: %v, want ErrBadItem", err)
	}
	su := mustSchema[verT[uint64]](t)
	var vu verT[uint64]
	if err := su.Unmarshal(versioned.Item{"id": s("a"), "version": n("18446744073709551615")}, &vu); !errors.Is(err, versioned.ErrBadItem) {
		t.Errorf("uint64 version over MaxInt64: %v, want ErrBadItem", err)
	}

	// Not a pointer: a bad call, reported, not a panic.
	if err := sc.Unmarshal(good(), account{}); err == nil {
		t.Error("Unmarshal into a non-pointer succeeded")
	}
	if err := sc.Unmarshal(good(), nil); err == nil {
		t.Error("Unmarshal into nil succeeded")
	}
}

func TestUnmarshalVersionMissingOrNull(t *testing.T) {
	sc := mustSchema[account](t)
	for _, item := range []versioned.Item{
		{"id": s("a"), "balance": n("5")},
		{"id": s("a"), "balance": n("5"), "version": &types.AttributeValueMemberNULL{Value: true}},
	} {
		out := account{Version: 99}
		if err := sc.Unmarshal(item, &out); err != nil {
			t.Fatalf("Unmarshal(%v): %v", item, err)
		}
		if out.ID != "a" || out.Balance != 5 {
			t.Errorf("Unmarshal = %+v", out)
		}
		if v, err := sc.StoredVersion(item); v != 0 || err != nil {
			t.Errorf("StoredVersion = %d, %v; want 0", v, err)
		}
	}
	// A missing version reads as 0 into a fresh value.
	var out account
	if err := sc.Unmarshal(versioned.Item{"id": s("a")}, &out); err != nil || out.Version != 0 {
		t.Errorf("Unmarshal = %+v, %v", out, err)
	}
	// Attributes the type does not know are ignored.
	if err := sc.Unmarshal(versioned.Item{"id": s("a"), "version": n("2"), "extra": s("x")}, &out); err != nil || out.Version != 2 {
		t.Errorf("Unmarshal with an unknown attribute = %+v, %v", out, err)
	}
}

func TestStoredVersion(t *testing.T) {
	sc := mustSchema[event](t) // version attribute "rev"
	tests := []struct {
		item versioned.Item
		want int64
		ok   bool
	}{
		{versioned.Item{}, 0, true},
		{versioned.Item{"version": s("x")}, 0, true}, // not the version attribute of event
		{versioned.Item{"rev": n("0")}, 0, true},
		{versioned.Item{"rev": n("17")}, 17, true},
		{versioned.Item{"rev": n("9223372036854775807")}, math.MaxInt64, true},
		{versioned.Item{"rev": &types.AttributeValueMemberNULL{Value: true}}, 0, true},
		{versioned.Item{"rev": n("-1")}, 0, false},
		{versioned.Item{"rev": n("1.0")}, 0, false},
		{versioned.Item{"rev": n("9223372036854775808")}, 0, false},
		{versioned.Item{"rev": s("1")}, 0, false},
		{versioned.Item{"rev": b(1)}, 0, false},
		{versioned.Item{"rev": &types.AttributeValueMemberNS{Value: []string{"1"}}}, 0, false},
		{versioned.Item{"rev": nil}, 0, false},
	}
	for _, tt := range tests {
		got, err := sc.StoredVersion(tt.item)
		if tt.ok {
			if err != nil || got != tt.want {
				t.Errorf("StoredVersion(%v) = %d, %v; want %d", tt.item, got, err, tt.want)
			}
		} else if !errors.Is(err, versioned.ErrBadItem) || got != 0 {
			t.Errorf("StoredVersion(%v) = %d, %v; want ErrBadItem", tt.item, got, err)
		}
	}
}

func TestVersionOfSetVersion(t *testing.T) {
	sc := mustSchema[account](t)
	a := account{ID: "a", Version: 5}
	if got := sc.VersionOf(reflect.ValueOf(a)); got != 5 {
		t.Errorf("VersionOf(value) = %d", got)
	}
	if got := sc.VersionOf(reflect.ValueOf(&a)); got != 5 {
		t.Errorf("VersionOf(pointer) = %d", got)
	}
	sc.SetVersion(reflect.ValueOf(&a), 6)
	if a.Version != 6 {
		t.Errorf("SetVersion(pointer): Version = %d", a.Version)
	}
	sc.SetVersion(reflect.ValueOf(&a).Elem(), 7)
	if a.Version != 7 {
		t.Errorf("SetVersion(addressable value): Version = %d", a.Version)
	}

	// An embedded version field.
	type Meta struct {
		Rev uint8 `dynamo:"rev,version"`
	}
	type withMeta struct {
		ID string `dynamo:"id,hash"`
		Meta
	}
	sm := mustSchema[withMeta](t)
	if sm.VersionField() != "Meta.Rev" || sm.MaxVersion() != math.MaxUint8 {
		t.Errorf("version field %q max %d", sm.VersionField(), sm.MaxVersion())
	}
	wm := withMeta{ID: "x"}
	sm.SetVersion(reflect.ValueOf(&wm), 255)
	if wm.Rev != 255 || sm.VersionOf(reflect.ValueOf(wm)) != 255 {
		t.Errorf("SetVersion/VersionOf on uint8: %+v", wm)
	}

	// A uint64 past MaxInt64 reads as MaxVersion, which has no next.
	su := mustSchema[verT[uint64]](t)
	vu := verT[uint64]{ID: "u", Version: math.MaxUint64}
	got := su.VersionOf(reflect.ValueOf(vu))
	if got != math.MaxInt64 {
		t.Errorf("VersionOf(MaxUint64) = %d, want MaxInt64", got)
	}
	if _, err := su.Next(got); !errors.Is(err, versioned.ErrVersionOverflow) {
		t.Errorf("Next(%d) = %v, want ErrVersionOverflow", got, err)
	}
	su.SetVersion(reflect.ValueOf(&vu), math.MaxInt64)
	if vu.Version != math.MaxInt64 {
		t.Errorf("SetVersion(uint64) = %d", vu.Version)
	}
}

func TestNext(t *testing.T) {
	tests := []struct {
		s    *versioned.Schema
		n    int64
		want int64
		err  error
	}{
		{mustSchema[account](t), 0, 1, nil},
		{mustSchema[account](t), 41, 42, nil},
		{mustSchema[account](t), math.MaxInt64 - 1, math.MaxInt64, nil},
		{mustSchema[account](t), math.MaxInt64, 0, versioned.ErrVersionOverflow},
		{mustSchema[account](t), -1, 0, versioned.ErrBadItem},
		{mustSchema[account](t), math.MinInt64, 0, versioned.ErrBadItem},
		{mustSchema[verT[int8]](t), 126, 127, nil},
		{mustSchema[verT[int8]](t), 127, 0, versioned.ErrVersionOverflow},
		{mustSchema[verT[int8]](t), 1000, 0, versioned.ErrVersionOverflow},
		{mustSchema[verT[int8]](t), -5, 0, versioned.ErrBadItem},
		{mustSchema[verT[int16]](t), math.MaxInt16, 0, versioned.ErrVersionOverflow},
		{mustSchema[verT[int32]](t), math.MaxInt32 - 1, math.MaxInt32, nil},
		{mustSchema[verT[int32]](t), math.MaxInt32, 0, versioned.ErrVersionOverflow},
		{mustSchema[verT[uint8]](t), 254, 255, nil},
		{mustSchema[verT[uint8]](t), 255, 0, versioned.ErrVersionOverflow},
		{mustSchema[verT[uint16]](t), math.MaxUint16, 0, versioned.ErrVersionOverflow},
		{mustSchema[verT[uint32]](t), math.MaxUint32 - 1, math.MaxUint32, nil},
		{mustSchema[verT[uint32]](t), math.MaxUint32, 0, versioned.ErrVersionOverflow},
		{mustSchema[verT[uint64]](t), math.MaxInt64 - 1, math.MaxInt64, nil},
		{mustSchema[verT[uint64]](t), math.MaxInt64, 0, versioned.ErrVersionOverflow},
	}
	for _, tt := range tests {
		got, err := tt.s.Next(tt.n)
		if tt.err == nil {
			if err != nil || got != tt.want {
				t.Errorf("%v: Next(%d) = %d, %v; want %d", tt.s.Type(), tt.n, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, tt.err) || got != 0 {
			t.Errorf("%v: Next(%d) = %d, %v; want %v", tt.s.Type(), tt.n, got, err, tt.err)
		}
		if tt.err == versioned.ErrBadItem && errors.Is(err, versioned.ErrVersionOverflow) {
			t.Errorf("%v: Next(%d): negative version reported as overflow: %v", tt.s.Type(), tt.n, err)
		}
	}
	_, err := mustSchema[verT[int8]](t).Next(127)
	if msg := err.Error(); !strings.Contains(msg, "Version") || !strings.Contains(msg, "int8") {
		t.Errorf("overflow message %q names neither the field nor its type", msg)
	}
}

func TestKey(t *testing.T) {
	sa := mustSchema[account](t)
	se := mustSchema[event](t)
	sb := mustSchema[blob](t)
	sn := mustSchema[numString](t)
	sf := mustSchema[floatKey](t)
	str := "x"
	ok := []struct {
		name string
		s    *versioned.Schema
		hash any
		rng  []any
		want versioned.Item
	}{
		{"hash only", sa, "a1", nil, versioned.Item{"id": s("a1")}},
		{"hash only, empty range slice", sa, "a1", []any{}, versioned.Item{"id": s("a1")}},
		{"pointer to string", sa, &str, nil, versioned.Item{"id": s("x")}},
		{"named string", sa, customString("c"), nil, versioned.Item{"id": s("c")}},
		{"hash and range", se, "st", []any{int64(3)}, versioned.Item{"stream": s("st"), "seq": n("3")}},
		{"range of another int type", se, "st", []any{uint8(3)}, versioned.Item{"stream": s("st"), "seq": n("3")}},
		{"negative range", se, "st", []any{-2}, versioned.Item{"stream": s("st"), "seq": n("-2")}},
		{"zero range", se, "st", []any{0}, versioned.Item{"stream": s("st"), "seq": n("0")}},
		{"binary", sb, []byte{1}, []any{[]byte{2}}, versioned.Item{"k": b(1), "r": b(2)}},
		{",string number key from a number", sn, int64(5), nil, versioned.Item{"id": s("5")}},
		{",string number key from a string", sn, "5", nil, versioned.Item{"id": s("5")}},
		{"float key", sf, 1.5, nil, versioned.Item{"id": n("1.5")}},
	}
	for _, tt := range ok {
		got, err := tt.s.Key(tt.hash, tt.rng)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Key(%#v, %#v) = %v, %v; want %v", tt.name, tt.hash, tt.rng, got, err, tt.want)
		}
	}

	bad := []struct {
		name string
		s    *versioned.Schema
		hash any
		rng  []any
	}{
		{"surplus range", sa, "a", []any{1}},
		{"surplus nil range", sa, "a", []any{nil}},
		{"missing range", se, "st", nil},
		{"missing range, empty slice", se, "st", []any{}},
		{"two range values", se, "st", []any{1, 2}},
		{"int for a string key", sa, 1, nil},
		{"bool for a string key", sa, true, nil},
		{"bytes for a string key", sa, []byte("a"), nil},
		{"string for a number key", se, "st", []any{"3"}},
		{"string for a binary key", sb, "k", []any{[]byte{1}}},
		{"struct for a string key", sa, struct{ A string }{"a"}, nil},
		{"nil hash", sa, nil, nil},
		{"nil pointer hash", sa, (*string)(nil), nil},
		{"nil range", se, "st", []any{nil}},
		{"empty string", sa, "", nil},
		{"empty string with range", se, "", []any{1}},
		{"empty binary", sb, []byte{}, []any{[]byte{1}}},
		{"nil binary", sb, []byte(nil), []any{[]byte{1}}},
		{"empty binary range", sb, []byte{1}, []any{[]byte{}}},
		{"bool for ,string number key", sn, true, nil},
		{"empty string for ,string number key", sn, "", nil},
	}
	for _, tt := range bad {
		got, err := tt.s.Key(tt.hash, tt.rng)
		if !errors.Is(err, versioned.ErrInvalidKey) {
			t.Errorf("%s: Key(%#v, %#v) = %v, %v; want ErrInvalidKey", tt.name, tt.hash, tt.rng, got, err)
		}
		if got != nil {
			t.Errorf("%s: key %v returned with the error", tt.name, got)
		}
	}
}

type customString string

// TestKeyMatchesMarshal checks that Key builds the key Marshal stores.
func TestKeyMatchesMarshal(t *testing.T) {
	check := func(sc *versioned.Schema, v any, hash any, rng []any) {
		t.Helper()
		item, err := sc.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		fromItem, err := sc.KeyOf(item)
		if err != nil {
			t.Fatal(err)
		}
		fromKey, err := sc.Key(hash, rng)
		if err != nil {
			t.Fatalf("Key(%#v, %#v): %v", hash, rng, err)
		}
		if !reflect.DeepEqual(fromItem, fromKey) {
			t.Errorf("%T: KeyOf(Marshal) = %v, Key = %v", v, fromItem, fromKey)
		}
	}
	check(mustSchema[account](t), account{ID: "a", Version: 1}, "a", nil)
	check(mustSchema[event](t), event{Stream: "s", Seq: 9}, "s", []any{int64(9)})
	check(mustSchema[blob](t), blob{K: []byte{1}, R: []byte{2}}, []byte{1}, []any{[]byte{2}})
	check(mustSchema[numString](t), numString{ID: -12}, int64(-12), nil)
	check(mustSchema[floatKey](t), floatKey{ID: 0.25}, 0.25, nil)
	check(mustSchema[withBase](t), withBase{Base: Base{ID: "b"}}, "b", nil)
}

func TestKeyOf(t *testing.T) {
	se := mustSchema[event](t)
	item := versioned.Item{"stream": s("s"), "seq": n("1"), "rev": n("2"), "data": b(1)}
	key, err := se.KeyOf(item)
	if err != nil {
		t.Fatal(err)
	}
	if want := (versioned.Item{"stream": s("s"), "seq": n("1")}); !reflect.DeepEqual(key, want) {
		t.Errorf("KeyOf = %v, want %v", key, want)
	}
	key["extra"] = s("x")
	if _, ok := item["extra"]; ok {
		t.Error("KeyOf returned the item itself")
	}

	for _, bad := range []versioned.Item{
		nil,
		{"stream": s("s")},
		{"seq": n("1")},
		{"stream": s(""), "seq": n("1")},
		{"stream": n("1"), "seq": n("1")},
		{"stream": s("s"), "seq": s("1")},
		{"stream": s("s"), "seq": &types.AttributeValueMemberNULL{Value: true}},
		{"stream": s("s"), "seq": nil},
		{"stream": &types.AttributeValueMemberSS{Value: []string{"s"}}, "seq": n("1")},
	} {
		if key, err := se.KeyOf(bad); !errors.Is(err, versioned.ErrInvalidKey) || key != nil {
			t.Errorf("KeyOf(%v) = %v, %v; want ErrInvalidKey", bad, key, err)
		}
	}
	sb := mustSchema[blob](t)
	if _, err := sb.KeyOf(versioned.Item{"k": b(), "r": b(1)}); !errors.Is(err, versioned.ErrInvalidKey) {
		t.Errorf("KeyOf with an empty binary key: %v", err)
	}
	if _, err := sb.KeyOf(versioned.Item{"k": b(1), "r": s("1")}); !errors.Is(err, versioned.ErrInvalidKey) {
		t.Errorf("KeyOf with a string binary key: %v", err)
	}
}

// size is the size ItemSize counts for one value under an empty name.
func size(v types.AttributeValue) int { return versioned.ItemSize(versioned.Item{"": v}) }

func TestItemSize(t *testing.T) {
	if versioned.MaxItemSize != 409600 {
		t.Errorf("MaxItemSize = %d", versioned.MaxItemSize)
	}
	n1 := size(n("1"))
	tests := []struct {
		name string
		item versioned.Item
		want int
	}{
		{"empty", versioned.Item{}, 0},
		{"nil", nil, 0},
		{"string", versioned.Item{"id": s("abc")}, 2 + 3},
		{"empty string", versioned.Item{"id": s("")}, 2},
		{"utf-8", versioned.Item{"ü": s("é€")}, 2 + 2 + 3},
		{"binary", versioned.Item{"b": b(0, 1, 2, 3)}, 1 + 4},
		{"bool", versioned.Item{"ok": &types.AttributeValueMemberBOOL{Value: false}}, 2 + 1},
		{"null", versioned.Item{"nul": &types.AttributeValueMemberNULL{Value: true}}, 3 + 1},
		{"string set", versioned.Item{"ss": &types.AttributeValueMemberSS{Value: []string{"a", "bc"}}}, 2 + 3},
		{"binary set", versioned.Item{"bs": &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}}}, 2 + 3},
		{"number set", versioned.Item{"ns": &types.AttributeValueMemberNS{Value: []string{"1", "1"}}}, 2 + 2*n1},
		{"empty list", versioned.Item{"l": &types.AttributeValueMemberL{}}, 1 + 3},
		{"empty map", versioned.Item{"m": &types.AttributeValueMemberM{}}, 1 + 3},
		{"list", versioned.Item{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("ab"), n("1")}}},
			1 + 3 + (1 + 2) + (1 + n1)},
		{"map", versioned.Item{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"ab": s("xyz")}}},
			1 + 3 + (1 + 2 + 3)},
		{"nested", versioned.Item{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": s("v")}},
			}},
		}}}, 1 + 3 + (1 + 1 + 3 + (1 + 3 + (1 + 1 + 1)))},
		{"several", versioned.Item{"id": s("a1"), "owner": s("ana"), "ok": &types.AttributeValueMemberBOOL{}},
			(2 + 2) + (5 + 3) + (2 + 1)},
		{"nil value", versioned.Item{"x": nil}, 1},
	}
	for _, tt := range tests {
		if got := versioned.ItemSize(tt.item); got != tt.want {
			t.Errorf("%s: ItemSize = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestItemSizeNumbers(t *testing.T) {
	tests := []struct {
		num      string
		lo, hi   int // the bounds DynamoDB's formula allows: 1 byte + 1 per two significant digits
		maxBound bool
	}{
		{"12345", 3, 21, false},
		{"-12345", 3, 21, false},
		{"1", 2, 21, false},
		{"0", 1, 21, false},
		{"1.5", 2, 21, false},
		{"123456789012345678901234567890", 16, 21, false},
		{"1.2345678901234567890123456789012345678E+125", 20, 21, false},
		{strings.Repeat("9", 38), 20, 21, false},
		{strings.Repeat("9", 1000), 21, 21, true},
		{"1e1000000", 2, 21, false},
	}
	for _, tt := range tests {
		got := size(n(tt.num))
		if got < tt.lo || got > tt.hi {
			t.Errorf("size of N %q = %d, want in [%d, %d]", tt.num, got, tt.lo, tt.hi)
		}
		if got > 21 {
			t.Errorf("size of N %q = %d, over DynamoDB's largest number", tt.num, got)
		}
		if ns := size(&types.AttributeValueMemberNS{Value: []string{tt.num}}); ns != got {
			t.Errorf("NS [%q] = %d, N = %d", tt.num, ns, got)
		}
	}
	// A number never counts less than by DynamoDB's formula.
	if got := size(n("12345")); got < 1+3 {
		t.Errorf("12345 counted %d, under 1 + ceil(5/2)", got)
	}
}

func TestCheckSize(t *testing.T) {
	sc := mustSchema[account](t)
	const name = "data"
	at := versioned.Item{"id": s("a"), name: s(strings.Repeat("x", versioned.MaxItemSize-len(name)-len("id")-1))}
	if got := versioned.ItemSize(at); got != versioned.MaxItemSize {
		t.Fatalf("test item is %d bytes, want %d", got, versioned.MaxItemSize)
	}
	if err := sc.CheckSize(at); err != nil {
		t.Errorf("CheckSize at MaxItemSize: %v", err)
	}
	over := versioned.Item{"id": s("a"), name: s(strings.Repeat("x", versioned.MaxItemSize-len(name)-len("id")))}
	if got := versioned.ItemSize(over); got != versioned.MaxItemSize+1 {
		t.Fatalf("test item is %d bytes, want %d", got, versioned.MaxItemSize+1)
	}
	err := sc.CheckSize(over)
	if !errors.Is(err, versioned.ErrItemTooLarge) {
		t.Errorf("CheckSize at MaxItemSize+1: %v, want ErrItemTooLarge", err)
	}
	if err != nil && !strings.Contains(err.Error(), "409601") {
		t.Errorf("message %q lacks the size", err)
	}
	if err := sc.CheckSize(nil); err != nil {
		t.Errorf("CheckSize(nil): %v", err)
	}
	// Attribute names count: a long name tips a value under the limit over it.
	big := versioned.Item{strings.Repeat("n", 1000): s(strings.Repeat("x", versioned.MaxItemSize-999))}
	if err := sc.CheckSize(big); !errors.Is(err, versioned.ErrItemTooLarge) {
		t.Errorf("CheckSize with a long name: %v", err)
	}
}
