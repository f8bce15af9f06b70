package versioned_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/versioned"
)

// member declares every kind of index: a global one with a hash key only
// (keys_only), a global one with hash and range keys (include), local ones
// (all by default, and keys_only on a sparse pointer key), one field in
// two indexes, and a time ttl field.
type member struct {
	Org     string    `dynamo:"org,hash"`
	ID      string    `dynamo:"id,range"`
	Email   string    `dynamo:"email,index=byEmail:hash:keys_only"`
	Team    string    `dynamo:"team,index=byTeam:hash:include"`
	Joined  time.Time `dynamo:"joined,index=byTeam:range,lindex=byJoined:range"`
	Name    string    `dynamo:"name,project=byTeam"`
	Role    string    `dynamo:"role,project=byTeam"`
	Score   *int64    `dynamo:"score,omitempty,lindex=by.score-1:range:keys_only"`
	Expires time.Time `dynamo:"expires,ttl"`
	Version int64     `dynamo:"version"`
}

func TestSchemaIndexes(t *testing.T) {
	s := mustSchema[member](t)
	want := []versioned.Index{
		{Name: "by.score-1", HashAttr: "org", HashType: "S", RangeAttr: "score", RangeType: "N", Projection: types.ProjectionTypeKeysOnly},
		{Name: "byEmail", Global: true, HashAttr: "email", HashType: "S", Projection: types.ProjectionTypeKeysOnly},
		{Name: "byJoined", HashAttr: "org", HashType: "S", RangeAttr: "joined", RangeType: "S", Projection: types.ProjectionTypeAll},
		{Name: "byTeam", Global: true, HashAttr: "team", HashType: "S", RangeAttr: "joined", RangeType: "S",
			Projection: types.ProjectionTypeInclude, NonKey: []string{"name", "role"}},
	}
	if got := s.Indexes(); !reflect.DeepEqual(got, want) {
		t.Errorf("Indexes() =\n%+v\nwant\n%+v", got, want)
	}
	for _, w := range want {
		got, ok := s.Index(w.Name)
		if !ok || !reflect.DeepEqual(got, w) {
			t.Errorf("Index(%q) = %+v, %v", w.Name, got, ok)
		}
	}
	if ix, ok := s.Index("nope"); ok {
		t.Errorf("Index(nope) = %+v, true", ix)
	}
	if ix, _ := s.Index("byEmail"); ix.HasRange() {
		t.Error("byEmail.HasRange()")
	}
	got := s.Indexes()
	got[0].Name = "changed"
	got[3].NonKey[0] = "changed"
	if s.Indexes()[0].Name != "by.score-1" || s.Indexes()[3].NonKey[0] != "name" {
		t.Error("Indexes() shares its slices with the schema")
	}
	team, _ := s.Index("byTeam")
	team.NonKey[0] = "changed"
	if again, _ := s.Index("byTeam"); again.NonKey[0] != "name" {
		t.Error("Index() shares NonKey with the schema")
	}
	if s.TTLAttr() != "expires" || s.TTLField() != "Expires" {
		t.Errorf("TTLAttr, TTLField = %q, %q", s.TTLAttr(), s.TTLField())
	}
	if a := mustSchema[account](t); a.TTLAttr() != "" || len(a.Indexes()) != 0 {
		t.Errorf("account: TTLAttr %q, Indexes %v", a.TTLAttr(), a.Indexes())
	}
}

// A time index key is a string, or a number with unixtime or as the ttl.
type timeKeys struct {
	ID      string                   `dynamo:"id,hash"`
	At      time.Time                `dynamo:"at,index=byAt:hash"`
	AtUnix  time.Time                `dynamo:"atUnix,unixtime,index=byAtUnix:hash"`
	Exp     time.Time                `dynamo:"exp,ttl,index=byExp:hash"`
	UT      attributevalue.UnixTime  `dynamo:"ut,index=byUT:hash"`
	Bytes   []byte                   `dynamo:"bytes,index=byBytes:hash"`
	NumStr  int64                    `dynamo:"numStr,string,index=byNumStr:hash"`
	Ptr     *string                  `dynamo:"ptr,omitempty,index=byPtr:hash"`
	Ver     int32                    `dynamo:"version,index=byVersion:hash"`
	Ignored map[string]time.Duration `dynamo:"ignored"`
}

func TestSchemaIndexKeyTypes(t *testing.T) {
	s := mustSchema[timeKeys](t)
	for name, want := range map[string]types.ScalarAttributeType{
		"byAt": "S", "byAtUnix": "N", "byExp": "N", "byUT": "N", "byBytes": "B", "byNumStr": "S", "byPtr": "S", "byVersion": "N",
	} {
		if ix, ok := s.Index(name); !ok || ix.HashType != want || !ix.Global || ix.HasRange() {
			t.Errorf("Index(%q) = %+v, %v; want a global index with hash type %s", name, ix, ok, want)
		}
	}
}

func TestIndexKeyValues(t *testing.T) {
	s := mustSchema[timeKeys](t)
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		index string
		v     any
		want  types.AttributeValue
	}{
		{"byAt", at, &types.AttributeValueMemberS{Value: "2026-11-30T12:00:00Z"}},
		{"byAtUnix", at, &types.AttributeValueMemberN{Value: "1796040000"}},
		{"byExp", at, &types.AttributeValueMemberN{Value: "1796040000"}},
		{"byNumStr", int64(42), &types.AttributeValueMemberS{Value: "42"}},
		{"byBytes", []byte{1}, &types.AttributeValueMemberB{Value: []byte{1}}},
		{"byPtr", "p", &types.AttributeValueMemberS{Value: "p"}},
	} {
		got, err := s.IndexHashValue(tt.index, tt.v)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("IndexHashValue(%q, %v) = %#v, %v; want %#v", tt.index, tt.v, got, err, tt.want)
		}
	}
	m := mustSchema[member](t)
	if got, err := m.IndexRangeValue("byJoined", at); err != nil || !reflect.DeepEqual(got, &types.AttributeValueMemberS{Value: "2026-11-30T12:00:00Z"}) {
		t.Errorf("IndexRangeValue(byJoined) = %#v, %v", got, err)
	}
	if got, err := m.IndexHashValue("byJoined", "o1"); err != nil || !reflect.DeepEqual(got, &types.AttributeValueMemberS{Value: "o1"}) {
		t.Errorf("IndexHashValue(byJoined), a local index: %#v, %v", got, err)
	}
	for name, call := range map[string]func() (types.AttributeValue, error){
		"unknown index":      func() (types.AttributeValue, error) { return m.IndexHashValue("nope", "x") },
		"wrong type":         func() (types.AttributeValue, error) { return m.IndexHashValue("byEmail", 7) },
		"empty":              func() (types.AttributeValue, error) { return m.IndexHashValue("byEmail", "") },
		"nil":                func() (types.AttributeValue, error) { return m.IndexHashValue("byEmail", nil) },
		"no range key":       func() (types.AttributeValue, error) { return m.IndexRangeValue("byEmail", "x") },
		"range unknown":      func() (types.AttributeValue, error) { return m.IndexRangeValue("nope", "x") },
		"time for a number":  func() (types.AttributeValue, error) { return m.IndexRangeValue("by.score-1", at) },
		"string for a time":  func() (types.AttributeValue, error) { return s.IndexHashValue("byAtUnix", "x") },
		"number for a bytes": func() (types.AttributeValue, error) { return s.IndexHashValue("byBytes", 1) },
	} {
		if av, err := call(); !errors.Is(err, versioned.ErrInvalidKey) {
			t.Errorf("%s: %#v, %v; want ErrInvalidKey", name, av, err)
		}
	}
}

// ttl fields of every accepted type.
type (
	ttlInt64 struct {
		ID      string `dynamo:"id,hash"`
		Exp     int64  `dynamo:"exp,ttl"`
		Version int64  `dynamo:"version"`
	}
	ttlUint32 struct {
		ID      string `dynamo:"id,hash"`
		Exp     uint32 `dynamo:"exp,ttl,omitempty"`
		Version int64  `dynamo:"version"`
	}
	ttlPtrTime struct {
		ID      string     `dynamo:"id,hash"`
		Exp     *time.Time `dynamo:"exp,ttl"`
		Version int64      `dynamo:"version"`
	}
	ttlUnixTime struct {
		ID      string                  `dynamo:"id,hash"`
		Exp     attributevalue.UnixTime `dynamo:"exp,ttl"`
		Version int64                   `dynamo:"version"`
	}
	ttlUnixtimeOpt struct {
		ID      string    `dynamo:"id,hash"`
		Exp     time.Time `dynamo:"exp,ttl,unixtime"`
		Version int64     `dynamo:"version"`
	}
	// myTime is stored as a time by attributevalue.
	myTime       time.Time
	ttlNamedTime struct {
		ID      string `dynamo:"id,hash"`
		Exp     myTime `dynamo:"exp,ttl"`
		Version int64  `dynamo:"version"`
	}
	TTLHolder struct {
		Exp time.Time `dynamo:"exp,ttl"`
	}
	ttlEmbeddedPtr struct {
		ID string `dynamo:"id,hash"`
		*TTLHolder
		Version int64 `dynamo:"version"`
	}
)

// roundTrip marshals in, checks the stored ttl attribute "exp" against
// want (nil: absent) and unmarshals it into out.
func roundTrip(t *testing.T, s *versioned.Schema, in, out any, want types.AttributeValue) {
	t.Helper()
	item, err := s.Marshal(in)
	if err != nil {
		t.Fatalf("Marshal(%+v): %v", in, err)
	}
	got, ok := item["exp"]
	switch {
	case want == nil && ok:
		t.Errorf("Marshal(%+v): exp = %#v, want none", in, got)
	case want != nil && !reflect.DeepEqual(got, want):
		t.Errorf("Marshal(%+v): exp = %#v, want %#v", in, got, want)
	}
	if err := s.Unmarshal(item, out); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
}

func TestTTLStoredAsEpochSeconds(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 999, time.UTC)
	n := &types.AttributeValueMemberN{Value: "1796040000"}

	s := mustSchema[member](t)
	var m member
	roundTrip(t, s, member{Org: "o", ID: "1", Expires: at}, &m, nil)
	if item, _ := s.Marshal(&member{Org: "o", ID: "1", Expires: at}); !reflect.DeepEqual(item["expires"], n) {
		t.Errorf("member expires = %#v, want %#v", item["expires"], n)
	}
	if !m.Expires.Equal(at.Truncate(time.Second)) {
		t.Errorf("member round trip: Expires = %v, want %v", m.Expires, at.Truncate(time.Second))
	}
	// A zero time is no expiry: no attribute, and a zero time back.
	item, err := s.Marshal(member{Org: "o", ID: "1"})
	if _, ok := item["expires"]; err != nil || ok {
		t.Errorf("zero Expires: %v, %v", item, err)
	}

	var i ttlInt64
	roundTrip(t, mustSchema[ttlInt64](t), ttlInt64{ID: "a", Exp: at.Unix()}, &i, n)
	if i.Exp != at.Unix() {
		t.Errorf("int64 round trip: %d", i.Exp)
	}
	var u ttlUint32
	roundTrip(t, mustSchema[ttlUint32](t), ttlUint32{ID: "a", Exp: uint32(at.Unix())}, &u, n)
	roundTrip(t, mustSchema[ttlUint32](t), ttlUint32{ID: "a"}, &u, nil)

	var p ttlPtrTime
	roundTrip(t, mustSchema[ttlPtrTime](t), ttlPtrTime{ID: "a", Exp: &at}, &p, n)
	if p.Exp == nil || !p.Exp.Equal(at.Truncate(time.Second)) {
		t.Errorf("*time.Time round trip: %v", p.Exp)
	}
	p = ttlPtrTime{}
	roundTrip(t, mustSchema[ttlPtrTime](t), &ttlPtrTime{ID: "a"}, &p, nil)
	if p.Exp != nil {
		t.Errorf("nil *time.Time round trip: %v", p.Exp)
	}

	var ut ttlUnixTime
	roundTrip(t, mustSchema[ttlUnixTime](t), ttlUnixTime{ID: "a", Exp: attributevalue.UnixTime(at)}, &ut, n)
	var uo ttlUnixtimeOpt
	roundTrip(t, mustSchema[ttlUnixtimeOpt](t), ttlUnixtimeOpt{ID: "a", Exp: at}, &uo, n)
	var nt ttlNamedTime
	roundTrip(t, mustSchema[ttlNamedTime](t), ttlNamedTime{ID: "a", Exp: myTime(at)}, &nt, n)
	if !time.Time(nt.Exp).Equal(at.Truncate(time.Second)) {
		t.Errorf("named time round trip: %v", time.Time(nt.Exp))
	}

	var e ttlEmbeddedPtr
	roundTrip(t, mustSchema[ttlEmbeddedPtr](t), ttlEmbeddedPtr{ID: "a", TTLHolder: &TTLHolder{Exp: at}}, &e, n)
	roundTrip(t, mustSchema[ttlEmbeddedPtr](t), ttlEmbeddedPtr{ID: "a"}, &e, nil)

	// A string stored by other code still reads back.
	var back member
	err = s.Unmarshal(versioned.Item{"org": &types.AttributeValueMemberS{Value: "o"}, "id": &types.AttributeValueMemberS{Value: "1"},
		"expires": &types.AttributeValueMemberS{Value: "2026-11-30T12:00:00Z"}}, &back)
	if err != nil || !back.Expires.Equal(at.Truncate(time.Second)) {
		t.Errorf("Unmarshal of an RFC 3339 expires: %v, %v", back.Expires, err)
	}
}

// Bad index and ttl declarations.
type (
	ixBase struct {
		ID      string `dynamo:"id,hash"`
		Version int64  `dynamo:"version"`
	}
	ixSliceKey struct {
		ixBase
		Tags []string `dynamo:"tags,index=byTag:hash"`
	}
	ixMapKey struct {
		ixBase
		M map[string]string `dynamo:"m,index=byM:hash"`
	}
	ixBoolKey struct {
		ixBase
		B bool `dynamo:"b,index=byB:hash"`
	}
	ixStructKey struct {
		ixBase
		S struct{ A int } `dynamo:"s,index=byS:hash"`
	}
	ixMarshalerKey struct {
		ixBase
		K marshaler `dynamo:"k,index=byK:hash"`
	}
	ixPtrKey struct {
		ixBase
		P *string `dynamo:"p,index=byP:hash"`
	}
	ixBadOption struct {
		ixBase
		E string `dynamo:"e,nullempty,index=byE:hash"`
	}
	ixTwoHash struct {
		ixBase
		A string `dynamo:"a,index=byX:hash"`
		B string `dynamo:"b,index=byX:hash"`
	}
	ixTwoRange struct {
		ixBase
		H string `dynamo:"h,index=byX:hash"`
		A string `dynamo:"a,index=byX:range"`
		B string `dynamo:"b,index=byX:range"`
	}
	ixRangeOnly struct {
		ixBase
		R string `dynamo:"r,index=byR:range"`
	}
	ixLocalNoTableRange struct {
		ixBase
		R string `dynamo:"r,lindex=byR:range"`
	}
	ixRanged struct {
		ID      string `dynamo:"id,hash"`
		Sk      string `dynamo:"sk,range"`
		Version int64  `dynamo:"version"`
	}
	ixLocalOnTableRange struct {
		ID      string `dynamo:"id,hash"`
		Sk      string `dynamo:"sk,range,lindex=bySk:range"`
		Version int64  `dynamo:"version"`
	}
	ixGlobalAndLocal struct {
		ixRanged
		A string `dynamo:"a,index=byA:hash"`
		B string `dynamo:"b,lindex=byA:range"`
	}
	ixLocalAndGlobal struct {
		ixRanged
		B string `dynamo:"b,lindex=byA:range"`
		A string `dynamo:"a,index=byA:hash"`
	}
	ixTwoProjections struct {
		ixBase
		A string `dynamo:"a,index=byA:hash:all"`
		B string `dynamo:"b,index=byA:range:keys_only"`
	}
	ixIncludeNothing struct {
		ixBase
		A string `dynamo:"a,index=byA:hash:include"`
	}
	ixProjectNotInclude struct {
		ixBase
		A string `dynamo:"a,index=byA:hash"`
		B string `dynamo:"b,project=byA"`
	}
	ixProjectUnknown struct {
		ixBase
		B string `dynamo:"b,project=byA"`
	}
	ixProjectKey struct {
		ixBase
		A string `dynamo:"a,index=byA:hash:include"`
		R string `dynamo:"r,project=byA,index=byA:range"`
	}
	ixProjectTableKey struct {
		ID      string `dynamo:"id,hash,project=byA"`
		A       string `dynamo:"a,index=byA:hash:include"`
		Version int64  `dynamo:"version"`
	}
	ixLocalHash struct {
		ixRanged
		A string `dynamo:"a,lindex=byA:hash"`
	}
	ixShortName struct {
		ixBase
		A string `dynamo:"a,index=ab:hash"`
	}
	ixBadCharName struct {
		ixBase
		A string `dynamo:"a,index=by/A:hash"`
	}
	ixLongName struct {
		ixBase
		A string `dynamo:"a,index=byAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:hash"`
	}
	ixNoRole struct {
		ixBase
		A string `dynamo:"a,index=byA"`
	}
	ixBadRole struct {
		ixBase
		A string `dynamo:"a,index=byA:primary"`
	}
	ixBadProjection struct {
		ixBase
		A string `dynamo:"a,index=byA:hash:some"`
	}
	ixTooManyParts struct {
		ixBase
		A string `dynamo:"a,index=byA:hash:all:x"`
	}
	ixSameIndexTwice struct {
		ixBase
		A string `dynamo:"a,index=byA:hash,index=byA:range"`
	}
	ixSixLocal struct {
		ixRanged
		A string `dynamo:"a,lindex=by1:range"`
		B string `dynamo:"b,lindex=by2:range"`
		C string `dynamo:"c,lindex=by3:range"`
		D string `dynamo:"d,lindex=by4:range"`
		E string `dynamo:"e,lindex=by5:range"`
		F string `dynamo:"f,lindex=by6:range"`
	}
	ttlString struct {
		ixBase
		Exp string `dynamo:"exp,ttl"`
	}
	ttlBool struct {
		ixBase
		Exp bool `dynamo:"exp,ttl"`
	}
	ttlInt16 struct {
		ixBase
		Exp int16 `dynamo:"exp,ttl"`
	}
	ttlFloat struct {
		ixBase
		Exp float64 `dynamo:"exp,ttl"`
	}
	ttlTwo struct {
		ixBase
		A int64 `dynamo:"a,ttl"`
		B int64 `dynamo:"b,ttl"`
	}
	ttlHash struct {
		ID      int64 `dynamo:"id,hash,ttl"`
		Version int64 `dynamo:"version"`
	}
	ttlVersion struct {
		ID      string `dynamo:"id,hash"`
		Version int64  `dynamo:"version,ttl"`
	}
	IxEmbedded struct {
		Exp int64 `dynamo:"exp"`
	}
	ttlOnEmbedded struct {
		ixBase
		IxEmbedded `dynamo:",ttl"`
	}
	ixOnEmbedded struct {
		ixBase
		*IxEmbedded `dynamo:",index=byE:hash"`
	}
	ixFlattenedDeep struct {
		ID      string `dynamo:"id,hash"`
		Version int64  `dynamo:"version"`
		ttlOnEmbedded
	}
	ttlStringOpt struct {
		ixBase
		Exp int64 `dynamo:"exp,ttl,string"`
	}
	ttlMarshaler struct {
		ixBase
		Exp marshaler `dynamo:"exp,ttl"`
	}
)

// marshaler has its own attributevalue marshaler.
type marshaler struct{ v string }

func (m marshaler) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return &types.AttributeValueMemberS{Value: m.v}, nil
}

func TestIndexSchemaErrors(t *testing.T) {
	tests := []schemaCase{
		caseOf[ixSliceKey]("Tags", `index "byTag": type []string cannot be an index key`),
		caseOf[ixMapKey]("M", "cannot be an index key"),
		caseOf[ixBoolKey]("B", "type bool cannot be an index key"),
		caseOf[ixStructKey]("S", "cannot be an index key"),
		caseOf[ixMarshalerKey]("K", "own attributevalue marshaler"),
		caseOf[ixPtrKey]("P", "a pointer key needs omitempty"),
		caseOf[ixBadOption]("E", `option "nullempty" is not allowed on an index key`),
		caseOf[ixTwoHash]("B", `two hash keys for index "byX" (also A)`),
		caseOf[ixTwoRange]("B", `two range keys for index "byX" (also A)`),
		caseOf[ixRangeOnly]("R", `index "byR" has a range key but no hash key`),
		caseOf[ixLocalNoTableRange]("R", `local index "byR" needs a table with a range key`),
		caseOf[ixLocalOnTableRange]("Sk", `is the table's range key`),
		caseOf[ixGlobalAndLocal]("B", `index "byA" is local here (lindex=) but global on field A`),
		caseOf[ixLocalAndGlobal]("A", `index "byA" is global here (index=) but local on field B`),
		caseOf[ixTwoProjections]("B", `index "byA" projects KEYS_ONLY here but ALL on field A`),
		caseOf[ixIncludeNothing]("A", `no field is tagged project=byA`),
		caseOf[ixProjectNotInclude]("B", `project=byA needs index "byA" to project include, not ALL`),
		caseOf[ixProjectUnknown]("B", `which no field declares a key of`),
		caseOf[ixProjectKey]("R", `the field is a key of index "byA"`),
		caseOf[ixProjectTableKey]("ID", "a key of the table is in every index"),
		caseOf[ixLocalHash]("A", "a local index's hash key is the table's"),
		caseOf[ixShortName]("A", `index name "ab": want 3 to 255 characters`),
		caseOf[ixBadCharName]("A", `index name "by/A": only letters, digits`),
		caseOf[ixLongName]("A", "want 3 to 255 characters"),
		caseOf[ixNoRole]("A", "want index=NAME:hash or index=NAME:range"),
		caseOf[ixBadRole]("A", `unknown key role "primary"`),
		caseOf[ixBadProjection]("A", `unknown projection "some"`),
		caseOf[ixTooManyParts]("A", "want index=NAME:hash"),
		caseOf[ixSameIndexTwice]("A", `named twice as a key of index "byA"`),
		caseOf[ixSixLocal]("F", "more than 5 local indexes"),
		caseOf[ttlString]("Exp", "must be a time.Time or an integer type of 32 bits or more holding epoch seconds, not string"),
		caseOf[ttlBool]("Exp", "not bool"),
		caseOf[ttlInt16]("Exp", "not int16"),
		caseOf[ttlFloat]("Exp", "not float64"),
		caseOf[ttlTwo]("B", "two ttl fields (also A)"),
		caseOf[ttlHash]("ID", "cannot be part of the table's key"),
		caseOf[ttlVersion]("Version", "both the version and the ttl"),
		caseOf[ttlStringOpt]("Exp", `option "string" is not allowed on the ttl field`),
		caseOf[ttlMarshaler]("Exp", "own attributevalue marshaler"),
		caseOf[ttlOnEmbedded]("IxEmbedded", "the ttl, a key of an index or projected"),
		caseOf[ixOnEmbedded]("IxEmbedded", "an embedded struct cannot be a key, the version, the ttl, a key of an index"),
		caseOf[ixFlattenedDeep]("ttlOnEmbedded.IxEmbedded", "the ttl, a key of an index or projected"),
	}
	for _, tt := range tests {
		s, err := tt.schema()
		var se *versioned.SchemaError
		if !errors.As(err, &se) || s != nil {
			t.Errorf("SchemaOf[%v] = %v, %v; want a *SchemaError", tt.typ, s, err)
			continue
		}
		if !errors.Is(err, versioned.ErrSchema) || se.Type != tt.typ.String() || se.Field != tt.field || !strings.Contains(se.Reason, tt.reason) {
			t.Errorf("SchemaOf[%v]: %v (Type %q, Field %q); want field %q and a reason containing %q", tt.typ, err, se.Type, se.Field, tt.field, tt.reason)
		}
	}
}
