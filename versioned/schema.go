package versioned

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

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

func buildSchema(t reflect.Type) (*Schema, error) {
	if t == nil || t.Kind() != reflect.Struct {
		return nil, &SchemaError{Type: typeName(t), Reason: "an item type must be a struct"}
	}
	fields, err := enumerate(t)
	if err != nil {
		return nil, err
	}
	s := &Schema{typ: t}
	var hash, rng, ver *taggedField
	byAttr := make(map[string]*taggedField, len(fields))
	for i := range fields {
		f := &fields[i]
		if prev, ok := byAttr[f.attr]; ok {
			return nil, &SchemaError{Type: typeName(t), Field: f.goName,
				Reason: "attribute name " + quote(f.attr) + " is also used by field " + prev.goName}
		}
		byAttr[f.attr] = f
		s.attributes = append(s.attributes, f.attr)
		switch {
		case f.tag.hash:
			if hash != nil {
				return nil, &SchemaError{Type: typeName(t), Field: f.goName, Reason: "two hash keys (also " + hash.goName + ")"}
			}
			hash = f
		case f.tag.rng:
			if rng != nil {
				return nil, &SchemaError{Type: typeName(t), Field: f.goName, Reason: "two range keys (also " + rng.goName + ")"}
			}
			rng = f
		case f.tag.version:
			if ver != nil {
				return nil, &SchemaError{Type: typeName(t), Field: f.goName, Reason: "two version fields (also " + ver.goName + ")"}
			}
			ver = f
		}
	}
	sort.Strings(s.attributes)
	if hash == nil {
		return nil, &SchemaError{Type: typeName(t), Reason: `no hash key: tag one field dynamo:"name,hash"`}
	}
	if ver == nil {
		return nil, &SchemaError{Type: typeName(t), Reason: `no version field: tag one integer field dynamo:"version"`}
	}
	for _, f := range []*taggedField{hash, rng, ver} {
		if f != nil && f.viaPtr {
			return nil, &SchemaError{Type: typeName(t), Field: f.goName,
				Reason: "key and version fields cannot live in an embedded pointer (it may be nil)"}
		}
	}
	if s.hashType, err = keyType(t, hash); err != nil {
		return nil, err
	}
	s.hash = hash.field
	if rng != nil {
		if s.rangeType, err = keyType(t, rng); err != nil {
			return nil, err
		}
		s.hasRange, s.rng = true, rng.field
	}
	if s.maxVersion, err = versionMax(t, ver); err != nil {
		return nil, err
	}
	s.version = ver.field
	return s, nil
}

// enumerate lists the stored fields of t the way attributevalue does:
// exported fields, anonymous structs without a tag name flattened.
func enumerate(t reflect.Type) ([]taggedField, error) {
	var out []taggedField
	type level struct {
		t      reflect.Type
		index  []int
		path   string
		viaPtr bool
		// unexpPtr is the path of an embedded pointer to an unexported
		// struct on the way here: attributevalue cannot allocate it and
		// panics when it decodes a field below it.
		unexpPtr string
	}
	queue := []level{{t: t}}
	visited := map[reflect.Type]bool{}
	for len(queue) > 0 {
		var next []level
		// A type embedded twice at the same depth is enumerated twice, so
		// that its fields, which are ambiguous and which attributevalue
		// drops, are reported as duplicates. Only types met at a shallower
		// depth are skipped.
		atDepth := map[reflect.Type]bool{}
		for _, lv := range queue {
			if visited[lv.t] {
				continue
			}
			atDepth[lv.t] = true
			for i := 0; i < lv.t.NumField(); i++ {
				sf := lv.t.Field(i)
				if !sf.IsExported() && !sf.Anonymous {
					continue
				}
				tg, err := fieldTag(sf)
				if err != nil {
					reason := err.Error()
					var te *tagError
					if errors.As(err, &te) {
						reason = fmt.Sprintf("tag %q: %s", te.tag, te.reason)
					}
					return nil, &SchemaError{Type: typeName(t), Field: join(lv.path, sf.Name), Reason: reason}
				}
				if tg.skip {
					continue
				}
				ft := sf.Type
				ptr := false
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft, ptr = ft.Elem(), true
				}
				idx := append(append([]int(nil), lv.index...), i)
				if sf.Anonymous && tg.name == "" && ft.Kind() == reflect.Struct {
					if tg.hash || tg.rng || tg.version {
						return nil, &SchemaError{Type: typeName(t), Field: join(lv.path, sf.Name),
							Reason: "an embedded struct cannot be a key or the version; tag its fields instead"}
					}
					unexpPtr := lv.unexpPtr
					if ptr && !sf.IsExported() && unexpPtr == "" {
						unexpPtr = join(lv.path, sf.Name)
					}
					next = append(next, level{t: ft, index: idx, path: join(lv.path, sf.Name), viaPtr: lv.viaPtr || ptr, unexpPtr: unexpPtr})
					continue
				}
				if !sf.IsExported() {
					continue
				}
				if lv.unexpPtr != "" {
					return nil, &SchemaError{Type: typeName(t), Field: lv.unexpPtr,
						Reason: "an embedded pointer to an unexported struct type cannot be decoded; export the type or embed it by value"}
				}
				name := tg.name
				if name == "" {
					name = sf.Name
				}
				if strings.ContainsAny(name, "[]") {
					return nil, &SchemaError{Type: typeName(t), Field: join(lv.path, sf.Name),
						Reason: "attribute name " + quote(name) + " contains [ or ], which expressions read as a list index"}
				}
				out = append(out, taggedField{
					field:  field{attr: name, goName: join(lv.path, sf.Name), index: idx, typ: sf.Type},
					tag:    tg,
					viaPtr: lv.viaPtr,
				})
			}
		}
		for lt := range atDepth {
			visited[lt] = true
		}
		queue = next
	}
	return out, nil
}

// fieldTag reads the dynamo tag, falling back to the SDK's dynamodbav tag for
// the name and skip flag, as attributevalue does.
func fieldTag(sf reflect.StructField) (tag, error) {
	// attributevalue ignores an empty tag under its TagKey and then goes by
	// the dynamodbav tag.
	if s, ok := sf.Tag.Lookup(TagKey); ok && s != "" {
		return parseTag(s)
	}
	if s, ok := sf.Tag.Lookup("dynamodbav"); ok {
		name, _, _ := strings.Cut(s, ",")
		if name == "-" {
			return tag{skip: true}, nil
		}
		return tag{name: name}, nil
	}
	return tag{}, nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
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
	switch ft.Kind() {
	case reflect.String:
		return types.ScalarAttributeTypeS, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if f.tag.has("string") {
			return types.ScalarAttributeTypeS, nil
		}
		return types.ScalarAttributeTypeN, nil
	case reflect.Slice:
		if ft.Elem().Kind() == reflect.Uint8 {
			return types.ScalarAttributeTypeB, nil
		}
	}
	return "", bad("type " + ft.String() + " cannot be a DynamoDB key; use a string, number or []byte type")
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
