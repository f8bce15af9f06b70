package versioned_test

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbocc/ddbocc/versioned"
)

// account is the package doc's example type.
type account struct {
	ID      string `dynamo:"id,hash"`
	Owner   string `dynamo:"owner"`
	Balance int64  `dynamo:"balance"`
	Version int64  `dynamo:"version"`
}

// event has a hash and a range key and a renamed version attribute.
type event struct {
	Stream string `dynamo:"stream,hash"`
	Seq    int64  `dynamo:"seq,range"`
	Rev    int32  `dynamo:"rev,version"`
	Data   []byte `dynamo:"data"`
}

// blob has a binary hash key and a binary range key.
type blob struct {
	K       []byte `dynamo:"k,hash"`
	R       []byte `dynamo:"r,range"`
	Version uint16 `dynamo:"version"`
}

// numString is a number key stored as a string.
type numString struct {
	ID      int64 `dynamo:"id,hash,string"`
	Version int64 `dynamo:"version"`
}

type floatKey struct {
	ID      float64 `dynamo:"id,hash"`
	Version uint32  `dynamo:"version,omitempty"`
}

// Base is embedded by value and by pointer below.
type Base struct {
	ID      string `dynamo:"id,hash"`
	Created int64  `dynamo:"created"`
}

type withBase struct {
	Base
	Note    string `dynamo:"note"`
	Version int64  `dynamo:"version"`
}

type Extra struct {
	Note string
	Tags []string `dynamo:"tags,stringset,omitempty"`
}

// withExtra embeds a pointer to a struct holding no key: that is allowed.
type withExtra struct {
	ID string `dynamo:"id,hash"`
	*Extra
	Version int64 `dynamo:"version"`
}

type base struct {
	ID string `dynamo:"id,hash"`
}

// withUnexportedBase embeds an unexported struct by value: its exported
// fields are promoted, as in encoding/json.
type withUnexportedBase struct {
	base
	Version int64 `dynamo:"version"`
}

// untagged relies on Go field names and the SDK's own dynamodbav tag.
type untagged struct {
	ID       string `dynamo:"id,hash"`
	Plain    string
	AV       string `dynamodbav:"av_name"`
	AVSkip   string `dynamodbav:"-"`
	Empty    string `dynamo:"" dynamodbav:"empty_av"`
	Skipped  string `dynamo:"-"`
	secret   string
	hidden   string `dynamo:"hidden,hahs"` // unexported: never read
	Version  int64  `dynamo:"version"`
	Embedded Extra  `dynamo:"extra"` // an embedded-looking field with a name is a map
}

var _ = untagged{}.secret
var _ = untagged{}.hidden

func mustSchema[T any](t *testing.T) *versioned.Schema {
	t.Helper()
	s, err := versioned.SchemaOf[T]()
	if err != nil {
		t.Fatalf("SchemaOf[%s]: %v", reflect.TypeFor[T](), err)
	}
	return s
}

// TestSchemaAccount checks the accessors; schema_internal_test.go checks the
// Go side of each field (path, index, type).
func TestSchemaAccount(t *testing.T) {
	s := mustSchema[account](t)
	if s.Type() != reflect.TypeFor[account]() {
		t.Errorf("Type = %v", s.Type())
	}
	if s.HashAttr() != "id" {
		t.Errorf("HashAttr = %q, want id", s.HashAttr())
	}
	if s.HashType() != types.ScalarAttributeTypeS {
		t.Errorf("HashType = %q", s.HashType())
	}
	if s.HasRange() || s.RangeAttr() != "" || s.RangeType() != "" {
		t.Errorf("range = %v %q %q, want none", s.HasRange(), s.RangeAttr(), s.RangeType())
	}
	if s.VersionAttr() != "version" || s.VersionField() != "Version" {
		t.Errorf("version = %q (field %q), want version (field Version)", s.VersionAttr(), s.VersionField())
	}
	if s.MaxVersion() != math.MaxInt64 {
		t.Errorf("MaxVersion = %d", s.MaxVersion())
	}
	if want := []string{"balance", "id", "owner", "version"}; !slices.Equal(s.Attributes(), want) {
		t.Errorf("Attributes = %q, want %q", s.Attributes(), want)
	}
}

// TestSchemaReadOnly checks that a caller cannot change the cached schema,
// which every user of the type shares, through what its accessors return.
func TestSchemaReadOnly(t *testing.T) {
	want := []string{"balance", "id", "owner", "version"}
	attrs := mustSchema[account](t).Attributes()
	attrs[0] = "changed"
	if got := mustSchema[account](t).Attributes(); !slices.Equal(got, want) {
		t.Errorf("Attributes after a caller changed a returned slice = %q, want %q", got, want)
	}
}

func TestSchemaKeys(t *testing.T) {
	tests := []struct {
		name      string
		s         *versioned.Schema
		hash      string
		hashType  types.ScalarAttributeType
		rng       string // "" for none
		rangeType types.ScalarAttributeType
		version   string
		goVersion string
		max       int64
	}{
		{"event", mustSchema[event](t), "stream", "S", "seq", "N", "rev", "Rev", math.MaxInt32},
		{"blob", mustSchema[blob](t), "k", "B", "r", "B", "version", "Version", math.MaxUint16},
		{"numString", mustSchema[numString](t), "id", "S", "", "", "version", "Version", math.MaxInt64},
		{"floatKey", mustSchema[floatKey](t), "id", "N", "", "", "version", "Version", math.MaxUint32},
	}
	for _, tt := range tests {
		s := tt.s
		if s.HashAttr() != tt.hash || s.HashType() != tt.hashType {
			t.Errorf("%s: hash %q %q, want %q %q", tt.name, s.HashAttr(), s.HashType(), tt.hash, tt.hashType)
		}
		if s.HasRange() != (tt.rng != "") || s.RangeAttr() != tt.rng || s.RangeType() != tt.rangeType {
			t.Errorf("%s: range %v %q %q, want %q %q", tt.name, s.HasRange(), s.RangeAttr(), s.RangeType(), tt.rng, tt.rangeType)
		}
		if s.VersionAttr() != tt.version || s.VersionField() != tt.goVersion || s.MaxVersion() != tt.max {
			t.Errorf("%s: version %q %q max %d, want %q %q %d", tt.name, s.VersionAttr(), s.VersionField(), s.MaxVersion(), tt.version, tt.goVersion, tt.max)
		}
		if !sort.StringsAreSorted(s.Attributes()) {
			t.Errorf("%s: Attributes %q not sorted", tt.name, s.Attributes())
		}
	}
}

func TestSchemaEmbedded(t *testing.T) {
	// schema_internal_test.go checks the Go paths and indexes of the
	// promoted fields.
	s := mustSchema[withBase](t)
	if s.HashAttr() != "id" {
		t.Errorf("HashAttr = %q, want id", s.HashAttr())
	}
	if want := []string{"created", "id", "note", "version"}; !slices.Equal(s.Attributes(), want) {
		t.Errorf("Attributes = %q, want %q", s.Attributes(), want)
	}
	v := withBase{Base: Base{ID: "b1", Created: 7}, Note: "n", Version: 2}
	item, err := s.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back withBase
	if err := s.Unmarshal(item, &back); err != nil {
		t.Fatal(err)
	}
	if back != v {
		t.Errorf("round trip: %+v, want %+v", back, v)
	}

	s = mustSchema[withExtra](t)
	if want := []string{"Note", "id", "tags", "version"}; !slices.Equal(s.Attributes(), want) {
		t.Errorf("withExtra Attributes = %q, want %q", s.Attributes(), want)
	}
	item, err = s.Marshal(withExtra{ID: "x", Version: 1}) // nil *Extra
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := item["Note"]; ok {
		t.Errorf("nil embedded pointer stored Note: %v", item)
	}
	var we withExtra
	err = s.Unmarshal(versioned.Item{
		"id":   &types.AttributeValueMemberS{Value: "x"},
		"Note": &types.AttributeValueMemberS{Value: "hi"},
	}, &we)
	if err != nil {
		t.Fatal(err)
	}
	if we.Extra == nil || we.Note != "hi" {
		t.Errorf("Unmarshal did not fill the embedded pointer: %+v", we)
	}

	s = mustSchema[withUnexportedBase](t)
	var wu withUnexportedBase
	if err := s.Unmarshal(versioned.Item{"id": &types.AttributeValueMemberS{Value: "u"}}, &wu); err != nil || wu.ID != "u" {
		t.Errorf("Unmarshal: %+v, %v", wu, err)
	}
}

func TestSchemaUntagged(t *testing.T) {
	s := mustSchema[untagged](t)
	want := []string{"AV", "Plain", "empty_av", "extra", "id", "version"}
	want[0] = "av_name"
	sort.Strings(want)
	if !slices.Equal(s.Attributes(), want) {
		t.Errorf("Attributes = %q, want %q", s.Attributes(), want)
	}
}

// TestSchemaAgreesWithAttributevalue checks that the attribute names a
// schema lists are exactly those attributevalue writes for a fully set value.
func TestSchemaAgreesWithAttributevalue(t *testing.T) {
	values := []valueCase{
		valueOf(account{ID: "a", Owner: "o", Balance: 1, Version: 1}),
		valueOf(event{Stream: "s", Seq: 1, Rev: 1, Data: []byte{1}}),
		valueOf(blob{K: []byte{1}, R: []byte{2}, Version: 1}),
		valueOf(numString{ID: 1, Version: 1}),
		valueOf(floatKey{ID: 1.5, Version: 1}),
		valueOf(withBase{Base: Base{ID: "b", Created: 1}, Note: "n", Version: 1}),
		valueOf(withExtra{ID: "x", Extra: &Extra{Note: "n", Tags: []string{"t"}}, Version: 1}),
		valueOf(withUnexportedBase{base: base{ID: "u"}, Version: 1}),
		valueOf(untagged{ID: "i", Plain: "p", AV: "a", AVSkip: "s", Empty: "e", Skipped: "k", secret: "s", hidden: "h", Version: 1, Embedded: Extra{Note: "n"}}),
		valueOf(keyNamedVersion{Version: "v", Rev: 1}),
	}
	for _, vc := range values {
		v := vc.v
		s, err := vc.schema()
		if err != nil {
			t.Errorf("%T: %v", v, err)
			continue
		}
		av, err := attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) { o.TagKey = versioned.TagKey })
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for k := range av {
			names = append(names, k)
		}
		sort.Strings(names)
		if !slices.Equal(names, s.Attributes()) {
			t.Errorf("%T: attributevalue writes %q, schema lists %q", v, names, s.Attributes())
		}
		item, err := s.Marshal(v)
		if err != nil {
			t.Errorf("%T: Marshal: %v", v, err)
			continue
		}
		if !reflect.DeepEqual(item, av) {
			t.Errorf("%T: Marshal = %v, attributevalue = %v", v, item, av)
		}
	}
}

// valueCase is a value with the schema of its type.
type valueCase struct {
	v      any
	schema func() (*versioned.Schema, error)
}

func valueOf[T any](v T) valueCase { return valueCase{v, versioned.SchemaOf[T]} }

// keyNamedVersion has a hash key named "version"; its version is "rev".
type keyNamedVersion struct {
	Version string `dynamo:"version,hash"`
	Rev     int64  `dynamo:"rev,version"`
}

func TestSchemaKeyNamedVersion(t *testing.T) {
	s := mustSchema[keyNamedVersion](t)
	if s.HashAttr() != "version" || s.VersionAttr() != "rev" {
		t.Errorf("hash %q version %q", s.HashAttr(), s.VersionAttr())
	}
}

// Types for the error cases.
type (
	noHash struct {
		Name    string
		Version int64 `dynamo:"version"`
	}
	twoHash struct {
		A       string `dynamo:"a,hash"`
		B       string `dynamo:"b,hash"`
		Version int64  `dynamo:"version"`
	}
	twoRange struct {
		ID      string `dynamo:"id,hash"`
		A       string `dynamo:"a,range"`
		B       int    `dynamo:"b,range"`
		Version int64  `dynamo:"version"`
	}
	noVersion struct {
		ID  string `dynamo:"id,hash"`
		Rev int64  `dynamo:"rev"`
	}
	twoVersions struct {
		ID  string `dynamo:"id,hash"`
		V   int64  `dynamo:"version"`
		Rev int64  `dynamo:"rev,version"`
	}
	stringVersion struct {
		ID      string `dynamo:"id,hash"`
		Version string `dynamo:"version"`
	}
	floatVersion struct {
		ID      string  `dynamo:"id,hash"`
		Version float64 `dynamo:"version"`
	}
	ptrVersion struct {
		ID      string `dynamo:"id,hash"`
		Version *int64 `dynamo:"version"`
	}
	boolKey struct {
		ID      bool  `dynamo:"id,hash"`
		Version int64 `dynamo:"version"`
	}
	structKey struct {
		ID      struct{ X int } `dynamo:"id,hash"`
		Version int64           `dynamo:"version"`
	}
	mapKey struct {
		ID      map[string]string `dynamo:"id,hash"`
		Version int64             `dynamo:"version"`
	}
	sliceKey struct {
		ID      []string `dynamo:"id,hash"`
		Version int64    `dynamo:"version"`
	}
	timeKey struct {
		ID      time.Time `dynamo:"id,hash"`
		Version int64     `dynamo:"version"`
	}
	ptrKey struct {
		ID      *string `dynamo:"id,hash"`
		Version int64   `dynamo:"version"`
	}
	boolRange struct {
		ID      string `dynamo:"id,hash"`
		R       bool   `dynamo:"r,range"`
		Version int64  `dynamo:"version"`
	}
	unknownOption struct {
		ID      string `dynamo:"id,hahs"`
		Version int64  `dynamo:"version"`
	}
	dupAttr struct {
		ID      string `dynamo:"id,hash"`
		A       string `dynamo:"x"`
		B       string `dynamo:"x"`
		Version int64  `dynamo:"version"`
	}
	dupGoName struct {
		ID      string `dynamo:"id,hash"`
		Owner   string
		O       string `dynamo:"Owner"`
		Version int64  `dynamo:"version"`
	}
	ptrBase struct {
		*Base
		Version int64 `dynamo:"version"`
	}
	VerHolder struct {
		Version int64 `dynamo:"version"`
	}
	ptrVerHolder struct {
		ID string `dynamo:"id,hash"`
		*VerHolder
	}
	marshalerKey struct {
		ID      customKey `dynamo:"id,hash"`
		Version int64     `dynamo:"version"`
	}
	ptrMarshalerKey struct {
		ID      ptrCustomKey `dynamo:"id,hash"`
		Version int64        `dynamo:"version"`
	}
	marshalerVersion struct {
		ID      string     `dynamo:"id,hash"`
		Version customVers `dynamo:"version"`
	}
	omitemptyKey struct {
		ID      string `dynamo:"id,hash,omitempty"`
		Version int64  `dynamo:"version"`
	}
	stringVersionOpt struct {
		ID      string `dynamo:"id,hash"`
		Version int64  `dynamo:"version,string"`
	}
	taggedEmbeddedKey struct {
		Base    `dynamo:",hash"`
		Version int64 `dynamo:"version"`
	}
	skipWithOptions struct {
		ID      string `dynamo:"id,hash"`
		X       string `dynamo:"-,omitempty"`
		Version int64  `dynamo:"version"`
	}
	bracketName struct {
		ID      string `dynamo:"id,hash"`
		Tags    string `dynamo:"tags[0]"`
		Version int64  `dynamo:"version"`
	}
	closeBracketName struct {
		ID      string `dynamo:"id,hash"`
		X       string `dynamo:"x]"`
		Version int64  `dynamo:"version"`
	}
	inner struct {
		Note string
	}
	unexportedPtrEmbed struct {
		ID      string `dynamo:"id,hash"`
		Version int64  `dynamo:"version"`
		*inner
	}
	EmbedA    struct{ Base }
	EmbedB    struct{ Base }
	ambiguous struct {
		EmbedA
		EmbedB
		Version int64 `dynamo:"version"`
	}
	deepErr struct {
		Base
		Sub
		Version int64 `dynamo:"version"`
	}
	Sub struct {
		Bad string `dynamo:"bad,hahs"`
	}
)

type customKey string

func (k customKey) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return &types.AttributeValueMemberS{Value: "k-" + string(k)}, nil
}

type ptrCustomKey string

func (k *ptrCustomKey) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return &types.AttributeValueMemberS{Value: "k-" + string(*k)}, nil
}

type customVers int64

func (v customVers) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return &types.AttributeValueMemberN{Value: "1"}, nil
}

var _ = unexportedPtrEmbed{}.inner

// schemaCase is a type with what SchemaOf says of it.
type schemaCase struct {
	typ    reflect.Type
	schema func() (*versioned.Schema, error)
	field  string // the Go field path; "" for the whole type
	reason string // a substring of the reason
}

func caseOf[T any](field, reason string) schemaCase {
	return schemaCase{reflect.TypeFor[T](), versioned.SchemaOf[T], field, reason}
}

func TestSchemaErrors(t *testing.T) {
	tests := []schemaCase{
		caseOf[noHash]("", "no hash key"),
		caseOf[twoHash]("B", "two hash keys (also A)"),
		caseOf[twoRange]("B", "two range keys (also A)"),
		caseOf[noVersion]("", "no version field"),
		caseOf[twoVersions]("Rev", "two version fields (also V)"),
		caseOf[stringVersion]("Version", "must be an integer type, not string"),
		caseOf[floatVersion]("Version", "must be an integer type, not float64"),
		caseOf[ptrVersion]("Version", "must be an integer type"),
		caseOf[boolKey]("ID", "type bool cannot be a DynamoDB key"),
		caseOf[structKey]("ID", "cannot be a DynamoDB key"),
		caseOf[mapKey]("ID", "cannot be a DynamoDB key"),
		caseOf[sliceKey]("ID", "type []string cannot be a DynamoDB key"),
		caseOf[timeKey]("ID", "type time.Time cannot be a DynamoDB key"),
		caseOf[ptrKey]("ID", "cannot be a DynamoDB key"),
		caseOf[boolRange]("R", "cannot be a DynamoDB key"),
		caseOf[unknownOption]("ID", `unknown option "hahs"`),
		caseOf[dupAttr]("B", `attribute name "x" is also used by field A`),
		caseOf[dupGoName]("O", `attribute name "Owner" is also used by field Owner`),
		caseOf[int]("", "must be a struct"),
		caseOf[*account]("", "must be a struct"),
		caseOf[[]account]("", "must be a struct"),
		caseOf[ptrBase]("Base.ID", "embedded pointer"),
		caseOf[ptrVerHolder]("VerHolder.Version", "embedded pointer"),
		caseOf[marshalerKey]("ID", "own attributevalue marshaler"),
		caseOf[ptrMarshalerKey]("ID", "own attributevalue marshaler"),
		caseOf[marshalerVersion]("Version", "own attributevalue marshaler"),
		caseOf[omitemptyKey]("ID", `option "omitempty" is not allowed on a key`),
		caseOf[stringVersionOpt]("Version", `option "string" is not allowed on the version field`),
		caseOf[taggedEmbeddedKey]("Base", "embedded struct cannot be a key"),
		caseOf[skipWithOptions]("X", "takes no options"),
		caseOf[bracketName]("Tags", "list index"),
		caseOf[closeBracketName]("X", "list index"),
		caseOf[unexportedPtrEmbed]("inner", "embedded pointer to an unexported struct"),
		caseOf[ambiguous]("EmbedB.Base.ID", `attribute name "id" is also used by field EmbedA.Base.ID`),
		caseOf[deepErr]("Sub.Bad", `unknown option "hahs"`),
	}
	for _, tt := range tests {
		s, err := tt.schema()
		if err == nil {
			t.Errorf("SchemaOf[%v] = %+v, want an error", tt.typ, s)
			continue
		}
		if s != nil {
			t.Errorf("SchemaOf[%v] returned a schema with its error", tt.typ)
		}
		if !errors.Is(err, versioned.ErrSchema) {
			t.Errorf("SchemaOf[%v]: %v does not match ErrSchema", tt.typ, err)
		}
		var se *versioned.SchemaError
		if !errors.As(err, &se) {
			t.Errorf("SchemaOf[%v]: %T is not a *SchemaError", tt.typ, err)
			continue
		}
		if se.Type != tt.typ.String() {
			t.Errorf("SchemaOf[%v]: Type = %q, want %q", tt.typ, se.Type, tt.typ.String())
		}
		if se.Field != tt.field {
			t.Errorf("SchemaOf[%v]: Field = %q, want %q (%v)", tt.typ, se.Field, tt.field, err)
		}
		if !strings.Contains(se.Reason, tt.reason) {
			t.Errorf("SchemaOf[%v]: reason %q does not contain %q", tt.typ, se.Reason, tt.reason)
		}
		if !strings.Contains(err.Error(), tt.typ.String()) || (tt.field != "" && !strings.Contains(err.Error(), tt.field)) {
			t.Errorf("SchemaOf[%v]: message %q lacks the type or field", tt.typ, err)
		}
		for _, other := range []error{versioned.ErrBadItem, versioned.ErrInvalidKey} {
			if errors.Is(err, other) {
				t.Errorf("SchemaOf[%v]: error matches %v", tt.typ, other)
			}
		}
	}
}

func TestSchemaOfPointer(t *testing.T) {
	_, err := versioned.SchemaOf[*account]()
	var se *versioned.SchemaError
	if !errors.As(err, &se) || se.Type != "*versioned_test.account" {
		t.Errorf("SchemaOf[*account]: %v", err)
	}
}

func TestSchemaErrorMessage(t *testing.T) {
	e := &versioned.SchemaError{Type: "main.T", Reason: "r"}
	if got := e.Error(); got != "versioned: type main.T: r" {
		t.Errorf("Error() = %q", got)
	}
	e.Field = "Base.ID"
	if got := e.Error(); got != "versioned: type main.T, field Base.ID: r" {
		t.Errorf("Error() = %q", got)
	}
}

func TestSchemaCache(t *testing.T) {
	s1 := mustSchema[account](t)
	s2 := mustSchema[account](t)
	if s1 != s2 {
		t.Error("SchemaOf returned two schemas for one type")
	}
	_, e1 := versioned.SchemaOf[twoHash]()
	_, e2 := versioned.SchemaOf[twoHash]()
	if e1 == nil || e1 != e2 {
		t.Errorf("errors are not cached: %p %p", e1, e2)
	}
}

func TestSchemaConcurrent(t *testing.T) {
	// A type no other test uses, so that the goroutines race on first use.
	type fresh struct {
		ID      string `dynamo:"id,hash"`
		R       int    `dynamo:"r,range"`
		Version uint8  `dynamo:"version"`
	}
	type freshBad struct {
		ID string `dynamo:"id,hash"`
	}
	const n = 32
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		schemas [n]*versioned.Schema
		errs    [n]error
		bad     [n]error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			schemas[i], errs[i] = versioned.SchemaOf[fresh]()
			_, bad[i] = versioned.SchemaOf[freshBad]()
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if schemas[i] != schemas[0] {
			t.Errorf("goroutine %d got another schema", i)
		}
		if !errors.Is(bad[i], versioned.ErrSchema) || bad[i] != bad[0] {
			t.Errorf("goroutine %d: error %v (%p), want the cached %p", i, bad[i], bad[i], bad[0])
		}
	}
	if schemas[0].MaxVersion() != math.MaxUint8 || schemas[0].RangeType() != types.ScalarAttributeTypeN {
		t.Errorf("schema %+v", schemas[0])
	}
}

type verT[V any] struct {
	ID      string `dynamo:"id,hash"`
	Version V      `dynamo:"version"`
}

func TestMaxVersion(t *testing.T) {
	tests := []struct {
		s    *versioned.Schema
		want int64
	}{
		{mustSchema[verT[int8]](t), math.MaxInt8},
		{mustSchema[verT[int16]](t), math.MaxInt16},
		{mustSchema[verT[int32]](t), math.MaxInt32},
		{mustSchema[verT[int]](t), math.MaxInt},
		{mustSchema[verT[int64]](t), math.MaxInt64},
		{mustSchema[verT[uint8]](t), math.MaxUint8},
		{mustSchema[verT[uint16]](t), math.MaxUint16},
		{mustSchema[verT[uint32]](t), math.MaxUint32},
		{mustSchema[verT[uint]](t), int64(min(uint64(math.MaxUint), math.MaxInt64))},
		{mustSchema[verT[uint64]](t), math.MaxInt64},
	}
	for _, tt := range tests {
		if tt.s.MaxVersion() != tt.want {
			t.Errorf("%v: MaxVersion = %d, want %d", tt.s.Type(), tt.s.MaxVersion(), tt.want)
		}
	}
	// A named integer type is an integer type.
	type rev int32
	if s := mustSchema[verT[rev]](t); s.MaxVersion() != math.MaxInt32 {
		t.Errorf("named int32: MaxVersion = %d", s.MaxVersion())
	}
	for _, tt := range []schemaCase{
		caseOf[verT[float32]]("", ""), caseOf[verT[string]]("", ""), caseOf[verT[bool]]("", ""),
		caseOf[verT[[]byte]]("", ""), caseOf[verT[uintptr]]("", ""), caseOf[verT[any]]("", ""),
	} {
		if _, err := tt.schema(); !errors.Is(err, versioned.ErrSchema) {
			t.Errorf("%v: %v, want ErrSchema", tt.typ, err)
		}
	}
}
