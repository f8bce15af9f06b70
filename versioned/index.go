package versioned

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Index is a secondary index declared on an item type's tags (see
// docs/concepts.md for the tag grammar):
//
//	type User struct {
//	    ID      string    `dynamo:"id,hash"`
//	    Org     string    `dynamo:"org,range"`
//	    Email   string    `dynamo:"email,index=byEmail:hash:keys_only"`
//	    Created time.Time `dynamo:"created,lindex=byCreated:range"`
//	    Version int64     `dynamo:"version"`
//	}
type Index struct {
	// Name is the index name in DynamoDB.
	Name string
	// Global: a global secondary index (GSI). Otherwise a local one (LSI),
	// whose hash key is the table's.
	Global bool
	// HashAttr and HashType: the index's hash key; for a local index, the
	// table's hash key.
	HashAttr string
	HashType types.ScalarAttributeType
	// RangeAttr and RangeType: the index's range key; "" if it has none.
	RangeAttr string
	RangeType types.ScalarAttributeType
	// Projection is what the index stores of each item: ALL, KEYS_ONLY or
	// INCLUDE (then NonKey lists the included attributes, sorted).
	Projection types.ProjectionType
	NonKey     []string
}

// HasRange reports whether the index has a range key.
func (ix Index) HasRange() bool { return ix.RangeAttr != "" }

// Indexes returns the secondary indexes declared on the type, sorted by
// name. The slice is a copy the caller may change. It does not block and
// is safe for concurrent use.
func (s *Schema) Indexes() []Index {
	out := slices.Clone(s.indexes)
	for i := range out {
		out[i].NonKey = slices.Clone(out[i].NonKey)
	}
	return out
}

// Index returns the index called name, and whether the type declares it.
// The Index is a copy the caller may change. It does not block and is safe
// for concurrent use.
func (s *Schema) Index(name string) (Index, bool) {
	i := slices.IndexFunc(s.indexes, func(ix Index) bool { return ix.Name == name })
	if i < 0 {
		return Index{}, false
	}
	ix := s.indexes[i]
	ix.NonKey = slices.Clone(ix.NonKey)
	return ix, true
}

// IndexHashValue marshals a value of the hash key of index name, for a
// query of the index. A value of the wrong type, an empty or nil value and
// an unknown index are errors matching [ErrInvalidKey].
func (s *Schema) IndexHashValue(name string, v any) (types.AttributeValue, error) {
	k, ok := s.indexKeys[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s declares no index %q", ErrInvalidKey, s.typ, name)
	}
	return s.indexKeyValue(name, k.hash, k.hashType, v, "hash")
}

// IndexRangeValue marshals a value of the range key of index name, for a
// query's range condition; errors as for [Schema.IndexHashValue], and for
// an index without a range key.
func (s *Schema) IndexRangeValue(name string, v any) (types.AttributeValue, error) {
	k, ok := s.indexKeys[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s declares no index %q", ErrInvalidKey, s.typ, name)
	}
	if k.rng == nil {
		return nil, fmt.Errorf("%w: index %q of %s has no range key, but a range value was given", ErrInvalidKey, name, s.typ)
	}
	return s.indexKeyValue(name, *k.rng, k.rangeType, v, "range")
}

// indexKeyValue marshals v as the key f of an index, which is stored as
// want: as a table key is, and a time as Marshal stores it.
func (s *Schema) indexKeyValue(name string, f field, want types.ScalarAttributeType, v any, role string) (types.AttributeValue, error) {
	if tm, ok := asTime(v); ok && isTime(derefType(f.typ)) {
		var av types.AttributeValue
		if want == types.ScalarAttributeTypeN {
			av = &types.AttributeValueMemberN{Value: strconv.FormatInt(tm.Unix(), 10)}
		} else {
			av, _ = encoder.Encode(tm)
		}
		if err := checkKeyValue(av, want); err != nil {
			return nil, fmt.Errorf("%w: %s: index %q %s key %q (%s): %s", ErrInvalidKey, s.typ, name, role, f.attr, f.goName, err.Error())
		}
		return av, nil
	}
	item := make(Item, 1)
	if err := s.keyValue(item, f, want, v, "index "+quote(name)+" "+role); err != nil {
		return nil, err
	}
	return item[f.attr], nil
}

// asTime returns v as a time.Time if attributevalue would store it as one.
func asTime(v any) (time.Time, bool) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || !isTime(rv.Type()) {
		return time.Time{}, false
	}
	return rv.Convert(timeType).Interface().(time.Time), true
}

// derefType returns the element type of a pointer type, and any other type
// as it is.
func derefType(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}

// indexFields are the key fields of one index.
type indexFields struct {
	hash      field
	hashType  types.ScalarAttributeType
	rng       *field
	rangeType types.ScalarAttributeType
}

// maxLocalIndexes and maxNonKey are DynamoDB's fixed limits: five local
// indexes per table, and 100 attributes in the INCLUDE projections of all
// its indexes together.
const (
	maxLocalIndexes = 5
	maxNonKey       = 100
)

// indexNameProblem says what DynamoDB would refuse in an index name, or "".
func indexNameProblem(n string) string {
	if len(n) < 3 || len(n) > 255 {
		return "want 3 to 255 characters"
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return "only letters, digits, '_', '-' and '.' are allowed"
		}
	}
	return ""
}

// indexDecl gathers what the fields of a type say about one index.
type indexDecl struct {
	name      string
	first     *taggedField // the first field naming it as a key
	global    *taggedField // a field declaring it with index=
	local     *taggedField // a field declaring it with lindex=
	hash, rng *taggedField
	proj      types.ProjectionType
	projBy    *taggedField
	nonKey    []*taggedField
}

// buildIndexes collects the indexes declared by the index=, lindex= and
// project= options of fields and checks them against each other and
// against s, the table's schema. It returns them sorted by name, with their
// key fields.
func buildIndexes(t reflect.Type, fields []taggedField, s *Schema) ([]Index, map[string]indexFields, error) {
	bad := func(f *taggedField, reason string) error {
		e := &SchemaError{Type: typeName(t), Reason: reason}
		if f != nil {
			e.Field = f.goName
		}
		return e
	}
	decls := map[string]*indexDecl{}
	decl := func(name string) *indexDecl {
		d, ok := decls[name]
		if !ok {
			d = &indexDecl{name: name}
			decls[name] = d
		}
		return d
	}
	for i := range fields {
		f := &fields[i]
		for _, ti := range f.tag.indexes {
			d := decl(ti.name)
			if d.first == nil {
				d.first = f
			}
			if err := d.add(f, ti, bad); err != nil {
				return nil, nil, err
			}
		}
		for _, name := range f.tag.project {
			d := decl(name)
			d.nonKey = append(d.nonKey, f)
		}
	}
	names := make([]string, 0, len(decls))
	for n := range decls {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Index
	keys := make(map[string]indexFields, len(names))
	locals, nonKey := 0, 0
	for _, n := range names {
		d := decls[n]
		ix, k, err := d.index(t, s, bad)
		if err != nil {
			return nil, nil, err
		}
		if !ix.Global {
			if locals++; locals > maxLocalIndexes {
				return nil, nil, bad(d.first, fmt.Sprintf("more than %d local indexes; DynamoDB allows %d per table", maxLocalIndexes, maxLocalIndexes))
			}
		}
		if nonKey += len(ix.NonKey); nonKey > maxNonKey {
			return nil, nil, bad(nil, fmt.Sprintf("the include projections of the indexes hold more than %d attributes, DynamoDB's limit per table", maxNonKey))
		}
		out = append(out, ix)
		keys[n] = k
	}
	return out, keys, nil
}

// add records that f is a key of the index as ti says, refusing a second
// hash or range key, an index both global and local, and two projections.
func (d *indexDecl) add(f *taggedField, ti tagIndex, bad func(*taggedField, string) error) error {
	q := quote(d.name)
	if ti.local {
		if d.global != nil {
			return bad(f, "index "+q+" is local here (lindex=) but global on field "+d.global.goName+" (index=)")
		}
		d.local = f
	} else {
		if d.local != nil {
			return bad(f, "index "+q+" is global here (index=) but local on field "+d.local.goName+" (lindex=)")
		}
		d.global = f
	}
	slot, what := &d.hash, "hash"
	if ti.rng {
		slot, what = &d.rng, "range"
	}
	if *slot != nil {
		return bad(f, "two "+what+" keys for index "+q+" (also "+(*slot).goName+")")
	}
	*slot = f
	if ti.proj != "" {
		if d.proj != "" && d.proj != ti.proj {
			return bad(f, "index "+q+" projects "+string(ti.proj)+" here but "+string(d.proj)+" on field "+d.projBy.goName+"; declare the projection once")
		}
		d.proj, d.projBy = ti.proj, f
	}
	return nil
}

// index checks the declaration of one index against the table's schema s
// and builds it.
func (d *indexDecl) index(t reflect.Type, s *Schema, bad func(*taggedField, string) error) (Index, indexFields, error) {
	q := quote(d.name)
	if d.first == nil {
		return Index{}, indexFields{}, bad(d.nonKey[0], "project="+d.name+" names index "+q+", which no field declares a key of (index="+d.name+":hash or lindex="+d.name+":range)")
	}
	ix := Index{Name: d.name, Global: d.global != nil, Projection: types.ProjectionTypeAll}
	var k indexFields
	if ix.Global {
		if d.hash == nil {
			return Index{}, indexFields{}, bad(d.rng, "index "+q+" has a range key but no hash key: tag a field index="+d.name+
				":hash, or make it a local index with lindex="+d.name+":range")
		}
	} else {
		switch {
		case !s.hasRange:
			return Index{}, indexFields{}, bad(d.rng, "local index "+q+" needs a table with a range key; "+s.typ.String()+" has none (use index= for a global index)")
		case d.rng.attr == s.rng.attr:
			return Index{}, indexFields{}, bad(d.rng, "the range key of local index "+q+" is the table's range key; an index on it adds nothing")
		}
	}
	var err error
	if ix.Global {
		if k.hashType, err = indexKeyType(t, s, d.name, d.hash); err != nil {
			return Index{}, indexFields{}, err
		}
		k.hash = d.hash.field
	} else {
		k.hash, k.hashType = s.hash, s.hashType
	}
	ix.HashAttr, ix.HashType = k.hash.attr, k.hashType
	if d.rng != nil {
		if k.rangeType, err = indexKeyType(t, s, d.name, d.rng); err != nil {
			return Index{}, indexFields{}, err
		}
		k.rng = &d.rng.field
		ix.RangeAttr, ix.RangeType = d.rng.attr, k.rangeType
	}
	if d.proj != "" {
		ix.Projection = d.proj
	}
	switch {
	case ix.Projection == types.ProjectionTypeInclude && len(d.nonKey) == 0:
		return Index{}, indexFields{}, bad(d.projBy, "index "+q+" projects include, but no field is tagged project="+d.name)
	case ix.Projection != types.ProjectionTypeInclude && len(d.nonKey) > 0:
		return Index{}, indexFields{}, bad(d.nonKey[0], "project="+d.name+" needs index "+q+" to project include, not "+string(ix.Projection)+
			" (declare it once, e.g. index="+d.name+":hash:include)")
	}
	for _, f := range d.nonKey {
		if f.attr == ix.HashAttr || f.attr == ix.RangeAttr {
			return Index{}, indexFields{}, bad(f, "the field is a key of index "+q+", which always holds its keys: drop project="+d.name)
		}
		ix.NonKey = append(ix.NonKey, f.attr)
	}
	sort.Strings(ix.NonKey)
	return ix, k, nil
}

// indexKeyType checks the key field f of index name and returns the type
// it is stored as. Index keys are strings, numbers or []byte as table keys
// are, and also times (a string, or with unixtime or as the ttl field a
// number) and pointers with omitempty (a sparse index: an item whose
// pointer is nil is not in the index). An empty string or binary key is
// never stored (Schema.Marshal leaves it out): DynamoDB refuses one.
func indexKeyType(t reflect.Type, s *Schema, name string, f *taggedField) (types.ScalarAttributeType, error) {
	bad := func(reason string) error {
		return &SchemaError{Type: typeName(t), Field: f.goName, Reason: "index " + quote(name) + ": " + reason}
	}
	for _, o := range f.tag.options {
		if o != "string" && o != "omitempty" && o != "unixtime" {
			return "", bad("option " + quote(o) + " is not allowed on an index key")
		}
	}
	ft := f.typ
	if ft.Kind() == reflect.Pointer {
		if !f.tag.has("omitempty") {
			return "", bad("a pointer key needs omitempty: a nil pointer is stored as NULL, which DynamoDB refuses in an index key")
		}
		ft = ft.Elem()
	}
	switch {
	case ft == unixTimeType:
		return types.ScalarAttributeTypeN, nil
	case ft.Implements(avMarshaler) || reflect.PointerTo(ft).Implements(avMarshaler):
		return "", bad("a key field cannot have its own attributevalue marshaler; use a string, number, []byte or time type")
	case isTime(ft):
		if f.tag.has("unixtime") || (s.hasTTL && f.attr == s.ttl.attr) {
			return types.ScalarAttributeTypeN, nil
		}
		return types.ScalarAttributeTypeS, nil
	}
	st := scalarType(ft, f.tag.has("string"))
	if st == "" {
		return "", bad("type " + f.typ.String() + " cannot be an index key; use a string, number, []byte or time type")
	}
	return st, nil
}

// indexKeyAttrs lists the attributes of s that are a key of one of its
// indexes but not of the table.
func indexKeyAttrs(s *Schema) []string {
	var out []string
	for _, ix := range s.indexes {
		for _, a := range []string{ix.HashAttr, ix.RangeAttr} {
			if a != "" && a != s.hash.attr && (!s.hasRange || a != s.rng.attr) && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// dropEmptyIndexKeys leaves out of item the index keys that are an empty
// string or binary value (or NULL, a nil []byte): DynamoDB refuses those in an index key, and an
// item without the attribute is simply not in that index.
func (s *Schema) dropEmptyIndexKeys(item Item) {
	for _, a := range s.indexKeyAttrs {
		switch v := item[a].(type) {
		case *types.AttributeValueMemberS:
			if v.Value == "" {
				delete(item, a)
			}
		case *types.AttributeValueMemberB:
			if len(v.Value) == 0 {
				delete(item, a)
			}
		case *types.AttributeValueMemberNULL: // a nil []byte
			delete(item, a)
		}
	}
}
