package versioned

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// The stored fields of an item type: its struct fields, and those of
// embedded structs, with their tags; found once per type by enumerate.

// level is a struct type whose fields are stored in the item: the item
// type itself, or an embedded struct flattened into it.
type level struct {
	t      reflect.Type
	index  []int  // the path to it, for reflect.Value.FieldByIndex
	path   string // the Go field path to it, e.g. "Base"
	viaPtr bool   // reached through an embedded pointer
	// unexpPtr is the path of an embedded pointer to an unexported
	// struct on the way here: attributevalue cannot allocate it and
	// panics when it decodes a field below it.
	unexpPtr string
}

// enumerate lists the stored fields of t the way attributevalue does:
// exported fields, anonymous structs without a tag name flattened. It goes
// breadth first, one depth of embedding at a time.
func enumerate(t reflect.Type) ([]taggedField, error) {
	var out []taggedField
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
			fields, embedded, err := scanLevel(t, lv)
			if err != nil {
				return nil, err
			}
			out = append(out, fields...)
			next = append(next, embedded...)
		}
		for lt := range atDepth {
			visited[lt] = true
		}
		queue = next
	}
	return out, nil
}

// scanLevel goes through the fields of lv, in the item type t. It returns
// the stored fields, and the embedded structs to flatten at the next depth.
func scanLevel(t reflect.Type, lv level) ([]taggedField, []level, error) {
	var fields []taggedField
	var embedded []level
	for i := 0; i < lv.t.NumField(); i++ {
		sf := lv.t.Field(i)
		if !sf.IsExported() && !sf.Anonymous {
			continue
		}
		tg, err := fieldTag(sf)
		if err != nil {
			return nil, nil, &SchemaError{Type: typeName(t), Field: join(lv.path, sf.Name), Reason: tagReason(err)}
		}
		if tg.skip {
			continue
		}
		idx := append(append([]int(nil), lv.index...), i)
		if flattened(sf, tg) {
			sub, err := embeddedLevel(t, lv, sf, tg, idx)
			if err != nil {
				return nil, nil, err
			}
			embedded = append(embedded, sub)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		f, err := storedField(t, lv, sf, tg, idx)
		if err != nil {
			return nil, nil, err
		}
		fields = append(fields, f)
	}
	return fields, embedded, nil
}

// tagReason says what is wrong with a field's tag.
func tagReason(err error) string {
	var te *tagError
	if errors.As(err, &te) {
		return fmt.Sprintf("tag %q: %s", te.tag, te.reason)
	}
	return err.Error()
}

// flattened reports whether sf, tagged tg, embeds a struct (or a pointer to
// one) without a tag name, whose fields attributevalue stores as if they
// were the item's own.
func flattened(sf reflect.StructField, tg tag) bool {
	ft, _ := derefUnnamed(sf.Type)
	return sf.Anonymous && tg.name == "" && ft.Kind() == reflect.Struct
}

// derefUnnamed returns the element type of an unnamed pointer type and
// true, or any other type as it is and false.
func derefUnnamed(ft reflect.Type) (reflect.Type, bool) {
	if ft.Name() == "" && ft.Kind() == reflect.Pointer {
		return ft.Elem(), true
	}
	return ft, false
}

// embeddedLevel returns the level of the struct that the flattened field
// sf of lv, at index idx, embeds. The field cannot be tagged as a key or
// the version.
func embeddedLevel(t reflect.Type, lv level, sf reflect.StructField, tg tag, idx []int) (level, error) {
	path := join(lv.path, sf.Name)
	ft, ptr := derefUnnamed(sf.Type)
	if tg.schemaRole() {
		return level{}, &SchemaError{Type: typeName(t), Field: path,
			Reason: "an embedded struct cannot be a key, the version, the ttl, a key of an index or projected into one; tag its fields instead"}
	}
	unexpPtr := lv.unexpPtr
	if ptr && !sf.IsExported() && unexpPtr == "" {
		unexpPtr = path
	}
	return level{t: ft, index: idx, path: path, viaPtr: lv.viaPtr || ptr, unexpPtr: unexpPtr}, nil
}

// storedField returns the stored field for the exported field sf of lv, at
// index idx, named by its tag or else by its Go name.
func storedField(t reflect.Type, lv level, sf reflect.StructField, tg tag, idx []int) (taggedField, error) {
	if lv.unexpPtr != "" {
		return taggedField{}, &SchemaError{Type: typeName(t), Field: lv.unexpPtr,
			Reason: "an embedded pointer to an unexported struct type cannot be decoded; export the type or embed it by value"}
	}
	name := tg.name
	if name == "" {
		name = sf.Name
	}
	goName := join(lv.path, sf.Name)
	if strings.ContainsAny(name, "[]") {
		return taggedField{}, &SchemaError{Type: typeName(t), Field: goName,
			Reason: "attribute name " + quote(name) + " contains [ or ], which expressions read as a list index"}
	}
	return taggedField{
		field:  field{attr: name, goName: goName, index: idx, typ: sf.Type},
		tag:    tg,
		viaPtr: lv.viaPtr,
	}, nil
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
