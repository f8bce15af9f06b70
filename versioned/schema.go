package versioned

import (
	"math"
	"reflect"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// field is one stored field of an item type.
type field struct {
	attr   string       // the attribute name in DynamoDB
	goName string       // the Go field path, e.g. "Base.ID"
	index  []int        // for reflect.Value.FieldByIndex
	typ    reflect.Type // the Go type of the field
}

// Schema is the parsed item model of one struct type: its hash key, optional
// range key, version field and attributes. It cannot be changed after
// [SchemaOf] builds it, and it is safe for concurrent use. Get one with
// [SchemaOf]; the zero Schema is not usable.
type Schema struct {
	typ reflect.Type

	hash     field
	hashType types.ScalarAttributeType // S, N or B

	hasRange  bool
	rng       field
	rangeType types.ScalarAttributeType

	version    field
	maxVersion int64

	// attributes holds every top-level attribute name the type can store,
	// sorted.
	attributes []string

	// ttl is the time-to-live field, if hasTTL. ttlTime: it holds a time
	// (time.Time or a pointer to one), which Marshal stores as epoch
	// seconds.
	hasTTL  bool
	ttl     field
	ttlTime bool

	// indexes are the secondary indexes declared on the type, sorted by
	// name, and indexKeys the fields of their keys, by index name
	// (index.go).
	indexes   []Index
	indexKeys map[string]indexFields
	// indexKeyAttrs are the attributes that are a key of an index but not
	// of the table: Marshal leaves them out when empty (index.go).
	indexKeyAttrs []string
}

// Type returns the struct type the schema describes.
func (s *Schema) Type() reflect.Type { return s.typ }

// HashAttr returns the attribute name of the hash (partition) key.
func (s *Schema) HashAttr() string { return s.hash.attr }

// HashType returns the DynamoDB type of the hash key: S, N or B.
func (s *Schema) HashType() types.ScalarAttributeType { return s.hashType }

// HasRange reports whether the type has a range (sort) key.
func (s *Schema) HasRange() bool { return s.hasRange }

// RangeAttr returns the attribute name of the range key, or "" if the type
// has none.
func (s *Schema) RangeAttr() string { return s.rng.attr }

// RangeType returns the DynamoDB type of the range key (S, N or B), or "" if
// the type has none.
func (s *Schema) RangeType() types.ScalarAttributeType { return s.rangeType }

// VersionAttr returns the attribute name of the version.
func (s *Schema) VersionAttr() string { return s.version.attr }

// VersionField returns the Go path of the version field, e.g. "Meta.Rev".
func (s *Schema) VersionField() string { return s.version.goName }

// MaxVersion returns the largest version the version field's type can hold.
func (s *Schema) MaxVersion() int64 { return s.maxVersion }

// TTLAttr returns the attribute name of the time-to-live field, tagged
// `dynamo:"name,ttl"`, or "" if the type has none. [Schema.Marshal] stores
// it as a number of epoch seconds, the form DynamoDB's TTL reads.
func (s *Schema) TTLAttr() string { return s.ttl.attr }

// TTLField returns the Go path of the time-to-live field, or "" if the type
// has none.
func (s *Schema) TTLField() string { return s.ttl.goName }

// Attributes returns every top-level attribute name the type can store,
// sorted. Writes remove those of them an item leaves out, and keep
// attributes the type does not know. The slice is a copy the caller may
// change.
func (s *Schema) Attributes() []string { return slices.Clone(s.attributes) }

var schemaCache sync.Map // reflect.Type -> schemaEntry

type schemaEntry struct {
	s   *Schema
	err error
}

// SchemaOf returns the schema of T, parsing T's tags on first use and caching
// the result (errors too): every call for one T returns the same *Schema.
// An invalid type is a [*SchemaError] matching [ErrSchema]. It does not
// block and is safe for concurrent use.
func SchemaOf[T any]() (*Schema, error) {
	return schemaFor(reflect.TypeFor[T]())
}

// schemaFor is [SchemaOf] for a reflect.Type.
func schemaFor(t reflect.Type) (*Schema, error) {
	if e, ok := schemaCache.Load(t); ok {
		e := e.(schemaEntry)
		return e.s, e.err
	}
	s, err := buildSchema(t)
	e, _ := schemaCache.LoadOrStore(t, schemaEntry{s, err})
	return e.(schemaEntry).s, e.(schemaEntry).err
}

type taggedField struct {
	field
	tag    tag
	viaPtr bool // reached through an embedded pointer
}

func typeName(t reflect.Type) string {
	if t == nil {
		return "<nil>"
	}
	return t.String()
}

// buildSchema parses t: it lists t's stored fields, finds the hash key,
// range key and version field among them, checks them and builds the
// schema.
func buildSchema(t reflect.Type) (*Schema, error) {
	if t == nil || t.Kind() != reflect.Struct {
		return nil, &SchemaError{Type: typeName(t), Reason: "an item type must be a struct"}
	}
	fields, err := enumerate(t)
	if err != nil {
		return nil, err
	}
	r, err := assignRoles(t, fields)
	if err != nil {
		return nil, err
	}
	if err := r.check(t); err != nil {
		return nil, err
	}
	s, err := r.schema(t)
	if err != nil {
		return nil, err
	}
	if s.indexes, s.indexKeys, err = buildIndexes(t, fields, s); err != nil {
		return nil, err
	}
	s.indexKeyAttrs = indexKeyAttrs(s)
	return s, nil
}

// roles are the fields of an item type that play a part in its schema.
type roles struct {
	hash, rng, ver *taggedField // rng is nil without a range key
	ttl            *taggedField // nil without a ttl field
	attributes     []string     // every attribute name, sorted
}

// assignRoles goes through fields in order and collects their attribute
// names and roles, rejecting an attribute name used twice and a second
// hash key, range key or version field.
func assignRoles(t reflect.Type, fields []taggedField) (*roles, error) {
	r := &roles{}
	byAttr := make(map[string]*taggedField, len(fields))
	for i := range fields {
		f := &fields[i]
		if prev, ok := byAttr[f.attr]; ok {
			return nil, &SchemaError{Type: typeName(t), Field: f.goName,
				Reason: "attribute name " + quote(f.attr) + " is also used by field " + prev.goName}
		}
		byAttr[f.attr] = f
		r.attributes = append(r.attributes, f.attr)
		var err error
		switch {
		case f.tag.hash:
			err = take(t, &r.hash, f, "hash keys")
		case f.tag.rng:
			err = take(t, &r.rng, f, "range keys")
		case f.tag.version:
			err = take(t, &r.ver, f, "version fields")
		}
		if err != nil {
			return nil, err
		}
		if f.tag.ttl {
			if err := take(t, &r.ttl, f, "ttl fields"); err != nil {
				return nil, err
			}
		}
	}
	sort.Strings(r.attributes)
	return r, nil
}

// take gives f the role held in *slot, unless another field (what, in the
// plural) already has it.
func take(t reflect.Type, slot **taggedField, f *taggedField, what string) error {
	if *slot != nil {
		return &SchemaError{Type: typeName(t), Field: f.goName, Reason: "two " + what + " (also " + (*slot).goName + ")"}
	}
	*slot = f
	return nil
}

// check requires a hash key and a version field, and none of the key and
// version fields inside an embedded pointer. A ttl field may be there: an
// item whose pointer is nil has no ttl attribute.
func (r *roles) check(t reflect.Type) error {
	if r.hash == nil {
		return &SchemaError{Type: typeName(t), Reason: `no hash key: tag one field dynamo:"name,hash"`}
	}
	if r.ver == nil {
		return &SchemaError{Type: typeName(t), Reason: `no version field: tag one integer field dynamo:"version"`}
	}
	for _, f := range []*taggedField{r.hash, r.rng, r.ver} {
		if f != nil && f.viaPtr {
			return &SchemaError{Type: typeName(t), Field: f.goName,
				Reason: "key and version fields cannot live in an embedded pointer (it may be nil)"}
		}
	}
	return nil
}

// schema builds the schema of t from checked roles, deriving the key types
// and the largest version from the fields' Go types.
func (r *roles) schema(t reflect.Type) (*Schema, error) {
	s := &Schema{typ: t, hash: r.hash.field, version: r.ver.field, attributes: r.attributes}
	var err error
	if s.hashType, err = keyType(t, r.hash); err != nil {
		return nil, err
	}
	if r.rng != nil {
		if s.rangeType, err = keyType(t, r.rng); err != nil {
			return nil, err
		}
		s.hasRange, s.rng = true, r.rng.field
	}
	if s.maxVersion, err = versionMax(t, r.ver); err != nil {
		return nil, err
	}
	if r.ttl != nil {
		if s.ttlTime, err = ttlKind(t, r.ttl); err != nil {
			return nil, err
		}
		s.hasTTL, s.ttl = true, r.ttl.field
	}
	return s, nil
}

var avMarshaler = reflect.TypeFor[attributevalue.Marshaler]()

func keyType(t reflect.Type, f *taggedField) (types.ScalarAttributeType, error) {
	bad := func(reason string) error {
		return &SchemaError{Type: typeName(t), Field: f.goName, Reason: reason}
	}
	ft := f.typ
	if ft.Implements(avMarshaler) || reflect.PointerTo(ft).Implements(avMarshaler) {
		return "", bad("a key field cannot have its own attributevalue marshaler; use a string, number or []byte type")
	}
	for _, o := range f.tag.options {
		if o != "string" {
			return "", bad("option " + quote(o) + " is not allowed on a key")
		}
	}
	if st := scalarType(ft, f.tag.has("string")); st != "" {
		return st, nil
	}
	return "", bad("type " + ft.String() + " cannot be a DynamoDB key; use a string, number or []byte type")
}

// scalarType returns the DynamoDB type attributevalue stores a value of
// type ft as, if it is a key type: S for strings (and numbers with the
// option "string", asString), N for numbers, B for []byte; else "".
func scalarType(ft reflect.Type, asString bool) types.ScalarAttributeType {
	switch {
	case ft.Kind() == reflect.String:
		return types.ScalarAttributeTypeS
	case isNumberKind(ft.Kind()):
		if asString {
			return types.ScalarAttributeTypeS
		}
		return types.ScalarAttributeTypeN
	case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Uint8:
		return types.ScalarAttributeTypeB
	}
	return ""
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	unixTimeType = reflect.TypeFor[attributevalue.UnixTime]()
)

// isTime reports whether attributevalue stores values of ft as a time:
// time.Time, and struct types convertible to it.
func isTime(ft reflect.Type) bool {
	return ft.Kind() == reflect.Struct && ft.ConvertibleTo(timeType) && ft != unixTimeType
}

// ttlKind checks the ttl field f: a time.Time (or a pointer to one), which
// Marshal stores as epoch seconds, so isTime is true; an
// attributevalue.UnixTime; or an integer type of 32 bits or more holding
// epoch seconds.
func ttlKind(t reflect.Type, f *taggedField) (isTimeField bool, err error) {
	bad := func(reason string) error {
		return &SchemaError{Type: typeName(t), Field: f.goName, Reason: reason}
	}
	for _, o := range f.tag.options {
		if o != "omitempty" && o != "unixtime" {
			return false, bad("option " + quote(o) + " is not allowed on the ttl field")
		}
	}
	ft := f.typ
	if ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	switch {
	case ft == unixTimeType:
		return false, nil
	case isTime(ft) && !ft.Implements(avMarshaler) && !reflect.PointerTo(ft).Implements(avMarshaler):
		return true, nil
	case ft.Implements(avMarshaler) || reflect.PointerTo(ft).Implements(avMarshaler):
		return false, bad("the ttl field cannot have its own attributevalue marshaler; use a time.Time or an integer type")
	}
	switch ft.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return false, nil
	}
	return false, bad("the ttl field must be a time.Time or an integer type of 32 bits or more holding epoch seconds, not " + f.typ.String())
}

func versionMax(t reflect.Type, f *taggedField) (int64, error) {
	bad := func(reason string) error {
		return &SchemaError{Type: typeName(t), Field: f.goName, Reason: reason}
	}
	if f.typ.Implements(avMarshaler) || reflect.PointerTo(f.typ).Implements(avMarshaler) {
		return 0, bad("the version field cannot have its own attributevalue marshaler")
	}
	for _, o := range f.tag.options {
		if o != "omitempty" {
			return 0, bad("option " + quote(o) + " is not allowed on the version field")
		}
	}
	switch f.typ.Kind() {
	case reflect.Int8:
		return math.MaxInt8, nil
	case reflect.Int16:
		return math.MaxInt16, nil
	case reflect.Int32:
		return math.MaxInt32, nil
	case reflect.Int, reflect.Int64:
		return int64(math.MaxInt64 >> (64 - f.typ.Bits())), nil
	case reflect.Uint8:
		return math.MaxUint8, nil
	case reflect.Uint16:
		return math.MaxUint16, nil
	case reflect.Uint32:
		return math.MaxUint32, nil
	case reflect.Uint, reflect.Uint64:
		if f.typ.Bits() == 32 {
			return math.MaxUint32, nil
		}
		return math.MaxInt64, nil
	}
	return 0, bad("the version field must be an integer type, not " + f.typ.String())
}
