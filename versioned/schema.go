package versioned

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Field is one stored field of an item type.
type Field struct {
	Attr   string       // the attribute name in DynamoDB
	GoName string       // the Go field path, e.g. "Base.ID"
	Index  []int        // for reflect.Value.FieldByIndex
	Type   reflect.Type // the Go type of the field
}

// Schema is the parsed item model of one struct type. It is immutable and
// safe for concurrent use; get one with [SchemaOf] or [SchemaFor].
type Schema struct {
	Type reflect.Type

	Hash     Field
	HashType types.ScalarAttributeType // S, N or B

	HasRange  bool
	Range     Field
	RangeType types.ScalarAttributeType

	Version Field
	// MaxVersion is the largest version the version field's type can hold.
	MaxVersion int64

	// Attributes holds every top-level attribute name the type can store,
	// sorted. Writes remove those of them an item leaves out, and keep
	// attributes the type does not know.
	Attributes []string
}

var schemaCache sync.Map // reflect.Type -> schemaEntry

type schemaEntry struct {
	s   *Schema
	err error
}

// SchemaOf returns the schema of T, parsing T's tags on first use and caching
// the result (errors too). It does not block and is safe for concurrent use.
func SchemaOf[T any]() (*Schema, error) {
	return SchemaFor(reflect.TypeFor[T]())
}

// SchemaFor is [SchemaOf] for a reflect.Type. t must be a struct type.
func SchemaFor(t reflect.Type) (*Schema, error) {
	if e, ok := schemaCache.Load(t); ok {
		e := e.(schemaEntry)
		return e.s, e.err
	}
	s, err := buildSchema(t)
	e, _ := schemaCache.LoadOrStore(t, schemaEntry{s, err})
	return e.(schemaEntry).s, e.(schemaEntry).err
}

type taggedField struct {
	Field
	tag      Tag
	depth    int
	viaPtr   bool // reached through an embedded pointer
	explicit bool // the name came from a tag
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
	s := &Schema{Type: t}
	var hash, rng, ver *taggedField
	byAttr := make(map[string]*taggedField, len(fields))
	for i := range fields {
		f := &fields[i]
		if prev, ok := byAttr[f.Attr]; ok {
			return nil, &SchemaError{Type: typeName(t), Field: f.GoName,
				Reason: "attribute name " + quote(f.Attr) + " is also used by field " + prev.GoName}
		}
		byAttr[f.Attr] = f
		s.Attributes = append(s.Attributes, f.Attr)
		switch {
		case f.tag.Hash:
			if hash != nil {
				return nil, &SchemaError{Type: typeName(t), Field: f.GoName, Reason: "two hash keys (also " + hash.GoName + ")"}
			}
			hash = f
		case f.tag.Range:
			if rng != nil {
				return nil, &SchemaError{Type: typeName(t), Field: f.GoName, Reason: "two range keys (also " + rng.GoName + ")"}
			}
			rng = f
		case f.tag.Version:
			if ver != nil {
				return nil, &SchemaError{Type: typeName(t), Field: f.GoName, Reason: "two version fields (also " + ver.GoName + ")"}
			}
			ver = f
		}
	}
	sort.Strings(s.Attributes)
	if hash == nil {
		return nil, &SchemaError{Type: typeName(t), Reason: `no hash key: tag one field dynamo:"name,hash"`}
	}
	if ver == nil {
		return nil, &SchemaError{Type: typeName(t), Reason: `no version field: tag one integer field dynamo:"version"`}
	}
	for _, f := range []*taggedField{hash, rng, ver} {
		if f != nil && f.viaPtr {
			return nil, &SchemaError{Type: typeName(t), Field: f.GoName,
				Reason: "key and version fields cannot live in an embedded pointer (it may be nil)"}
		}
	}
	if s.HashType, err = keyType(t, hash); err != nil {
		return nil, err
	}
	s.Hash = hash.Field
	if rng != nil {
		if s.RangeType, err = keyType(t, rng); err != nil {
			return nil, err
		}
		s.HasRange, s.Range = true, rng.Field
	}
	if s.MaxVersion, err = versionMax(t, ver); err != nil {
		return nil, err
	}
	s.Version = ver.Field
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
	for depth := 0; len(queue) > 0; depth++ {
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
					var te *TagError
					if errors.As(err, &te) {
						reason = fmt.Sprintf("tag %q: %s", te.Tag, te.Reason)
					}
					return nil, &SchemaError{Type: typeName(t), Field: join(lv.path, sf.Name), Reason: reason}
				}
				if tg.Skip {
					continue
				}
				ft := sf.Type
				ptr := false
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft, ptr = ft.Elem(), true
				}
				idx := append(append([]int(nil), lv.index...), i)
				if sf.Anonymous && tg.Name == "" && ft.Kind() == reflect.Struct {
					if tg.Hash || tg.Range || tg.Version {
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
				name := tg.Name
				if name == "" {
					name = sf.Name
				}
				if strings.ContainsAny(name, "[]") {
					return nil, &SchemaError{Type: typeName(t), Field: join(lv.path, sf.Name),
						Reason: "attribute name " + quote(name) + " contains [ or ], which expressions read as a list index"}
				}
				out = append(out, taggedField{
					Field:    Field{Attr: name, GoName: join(lv.path, sf.Name), Index: idx, Type: sf.Type},
					tag:      tg,
					depth:    depth,
					viaPtr:   lv.viaPtr,
					explicit: tg.Name != "",
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
func fieldTag(sf reflect.StructField) (Tag, error) {
	// attributevalue ignores an empty tag under its TagKey and then goes by
	// the dynamodbav tag.
	if s, ok := sf.Tag.Lookup(TagKey); ok && s != "" {
		return ParseTag(s)
	}
	if s, ok := sf.Tag.Lookup("dynamodbav"); ok {
		name, _, _ := strings.Cut(s, ",")
		if name == "-" {
			return Tag{Skip: true}, nil
		}
		return Tag{Name: name}, nil
	}
	return Tag{}, nil
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
		return &SchemaError{Type: typeName(t), Field: f.GoName, Reason: reason}
	}
	ft := f.Type
	if ft.Implements(avMarshaler) || reflect.PointerTo(ft).Implements(avMarshaler) {
		return "", bad("a key field cannot have its own attributevalue marshaler; use a string, number or []byte type")
	}
	for _, o := range f.tag.Options {
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
		return &SchemaError{Type: typeName(t), Field: f.GoName, Reason: reason}
	}
	if f.Type.Implements(avMarshaler) || reflect.PointerTo(f.Type).Implements(avMarshaler) {
		return 0, bad("the version field cannot have its own attributevalue marshaler")
	}
	for _, o := range f.tag.Options {
		if o != "omitempty" {
			return 0, bad("option " + quote(o) + " is not allowed on the version field")
		}
	}
	switch f.Type.Kind() {
	case reflect.Int8:
		return math.MaxInt8, nil
	case reflect.Int16:
		return math.MaxInt16, nil
	case reflect.Int32:
		return math.MaxInt32, nil
	case reflect.Int, reflect.Int64:
		return int64(math.MaxInt64 >> (64 - f.Type.Bits())), nil
	case reflect.Uint8:
		return math.MaxUint8, nil
	case reflect.Uint16:
		return math.MaxUint16, nil
	case reflect.Uint32:
		return math.MaxUint32, nil
	case reflect.Uint, reflect.Uint64:
		if f.Type.Bits() == 32 {
			return math.MaxUint32, nil
		}
		return math.MaxInt64, nil
	}
	return 0, bad("the version field must be an integer type, not " + f.Type.String())
}
