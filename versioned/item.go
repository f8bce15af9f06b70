package versioned

import (
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item is a marshaled item: attribute name to value.
type Item = map[string]types.AttributeValue

var (
	encoder = attributevalue.NewEncoder(func(o *attributevalue.EncoderOptions) { o.TagKey = TagKey })
	decoder = attributevalue.NewDecoder(func(o *attributevalue.DecoderOptions) { o.TagKey = TagKey })
)

// Marshal encodes v, a value or pointer of the schema's type, into an item
// with attributevalue under the `dynamo` tag key. It checks that the key
// attributes are present and not empty. A time in the ttl field is stored
// as a number of epoch seconds, and a zero time is left out (no expiry).
func (s *Schema) Marshal(v any) (Item, error) {
	av, err := encoder.Encode(v)
	if err != nil {
		return nil, fmt.Errorf("versioned: marshal %s: %w", s.typ, err)
	}
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return nil, fmt.Errorf("versioned: marshal %s: got %T, not a map", s.typ, av)
	}
	if _, err := s.KeyOf(m.Value); err != nil {
		return nil, err
	}
	if s.ttlTime {
		s.ttlSeconds(v, m.Value)
	}
	s.dropEmptyIndexKeys(m.Value)
	return m.Value, nil
}

// ttlSeconds stores the time in v's ttl field in item as a number of epoch
// seconds, the form DynamoDB's TTL reads, instead of attributevalue's
// RFC 3339 string; a zero time or nil pointer leaves the attribute out (no
// expiry). The decoder reads such a number back into a time.
func (s *Schema) ttlSeconds(v any, item Item) {
	f, err := reflect.Indirect(reflect.ValueOf(v)).FieldByIndexErr(s.ttl.index)
	if err != nil { // in a nil embedded pointer: nothing was stored
		return
	}
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			delete(item, s.ttl.attr)
			return
		}
		f = f.Elem()
	}
	t := f.Convert(timeType).Interface().(time.Time)
	if t.IsZero() {
		delete(item, s.ttl.attr)
		return
	}
	item[s.ttl.attr] = &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

// Unmarshal decodes item into out, a non-nil pointer to the schema's type.
// A stored item that does not fit the type, or lacks its key or version
// attribute, is an error matching [ErrBadItem]; it never panics.
func (s *Schema) Unmarshal(item Item, out any) error {
	if _, err := s.KeyOf(item); err != nil {
		return fmt.Errorf("%w: %w", ErrBadItem, err)
	}
	if _, err := s.StoredVersion(item); err != nil {
		return err
	}
	if err := decoder.Decode(&types.AttributeValueMemberM{Value: item}, out); err != nil {
		return fmt.Errorf("%w: decode into %s: %w", ErrBadItem, s.typ, err)
	}
	return nil
}

// VersionOf returns the version held by v, the schema's struct value (or a
// pointer to one).
func (s *Schema) VersionOf(v reflect.Value) int64 {
	f := reflect.Indirect(v).FieldByIndex(s.version.index)
	if f.CanInt() {
		return f.Int()
	}
	u := f.Uint()
	if u > uint64(s.maxVersion) {
		return s.maxVersion
	}
	return int64(u)
}

// SetVersion stores n in the version field of v, which must be addressable
// (a pointer to the struct, or an addressable struct value). n must be in
// [0, [Schema.MaxVersion]].
func (s *Schema) SetVersion(v reflect.Value, n int64) {
	f := reflect.Indirect(v).FieldByIndex(s.version.index)
	if f.CanInt() {
		f.SetInt(n)
		return
	}
	f.SetUint(uint64(n))
}

// Next returns n+1, or an error matching [ErrVersionOverflow] if that does
// not fit the version field. A negative n is stored garbage, also an error.
func (s *Schema) Next(n int64) (int64, error) {
	if n < 0 {
		return 0, fmt.Errorf("%w: negative version %d", ErrBadItem, n)
	}
	if n >= s.maxVersion {
		return 0, fmt.Errorf("%w: %s.%s is at %d, the largest a %s holds",
			ErrVersionOverflow, s.typ, s.version.goName, n, s.version.typ)
	}
	return n + 1, nil
}

// StoredVersion reads the version attribute of a stored item. A missing
// version attribute reads as 0 (an item written by other code); one of the
// wrong type is an error matching [ErrBadItem].
func (s *Schema) StoredVersion(item Item) (int64, error) {
	av, ok := item[s.version.attr]
	if !ok {
		return 0, nil
	}
	switch v := av.(type) {
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%w: version attribute %q is %q, not a non-negative integer", ErrBadItem, s.version.attr, v.Value)
		}
		return n, nil
	case *types.AttributeValueMemberNULL:
		return 0, nil
	default:
		return 0, fmt.Errorf("%w: version attribute %q has type %T, not a number", ErrBadItem, s.version.attr, av)
	}
}

// KeyOf returns the key attributes of item, checking that they are present,
// of the schema's key types and not empty.
func (s *Schema) KeyOf(item Item) (Item, error) {
	n := 1
	if s.hasRange {
		n = 2
	}
	key := make(Item, n)
	if err := s.keyAttr(key, item, s.hash.attr, s.hashType, "hash"); err != nil {
		return nil, err
	}
	if s.hasRange {
		if err := s.keyAttr(key, item, s.rng.attr, s.rangeType, "range"); err != nil {
			return nil, err
		}
	}
	return key, nil
}

func (s *Schema) keyAttr(dst, item Item, name string, want types.ScalarAttributeType, role string) error {
	av, ok := item[name]
	if !ok {
		return fmt.Errorf("%w: %s: %s key %q is missing", ErrInvalidKey, s.typ, role, name)
	}
	if err := checkKeyValue(av, want); err != nil {
		return fmt.Errorf("%w: %s: %s key %q: %s", ErrInvalidKey, s.typ, role, name, err.Error())
	}
	dst[name] = av
	return nil
}

func checkKeyValue(av types.AttributeValue, want types.ScalarAttributeType) error {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		if want != types.ScalarAttributeTypeS {
			return fmt.Errorf("want a %s, got a string", typeWord(want))
		}
		if v.Value == "" {
			return fmt.Errorf("empty string")
		}
	case *types.AttributeValueMemberN:
		if want != types.ScalarAttributeTypeN {
			return fmt.Errorf("want a %s, got a number", typeWord(want))
		}
	case *types.AttributeValueMemberB:
		if want != types.ScalarAttributeTypeB {
			return fmt.Errorf("want a %s, got binary", typeWord(want))
		}
		if len(v.Value) == 0 {
			return fmt.Errorf("empty binary")
		}
	default:
		return fmt.Errorf("want a %s, got %T", typeWord(want), av)
	}
	return nil
}

func typeWord(t types.ScalarAttributeType) string {
	switch t {
	case types.ScalarAttributeTypeS:
		return "string"
	case types.ScalarAttributeTypeN:
		return "number"
	}
	return "binary"
}

// Key marshals a key given as Go values: the hash value and, for a schema
// with a range key, exactly one range value. Values of the wrong type, a
// missing or surplus range value, and empty keys are errors matching
// [ErrInvalidKey].
func (s *Schema) Key(hash any, rng []any) (Item, error) {
	switch {
	case s.hasRange && len(rng) == 0:
		return nil, fmt.Errorf("%w: %s has range key %q: give its value too", ErrInvalidKey, s.typ, s.rng.attr)
	case !s.hasRange && len(rng) > 0:
		return nil, fmt.Errorf("%w: %s has no range key, but a range value was given", ErrInvalidKey, s.typ)
	case len(rng) > 1:
		return nil, fmt.Errorf("%w: %s: %d range values given, want 1", ErrInvalidKey, s.typ, len(rng))
	}
	item := make(Item, 2)
	if err := s.keyValue(item, s.hash, s.hashType, hash, "hash"); err != nil {
		return nil, err
	}
	if s.hasRange {
		if err := s.keyValue(item, s.rng, s.rangeType, rng[0], "range"); err != nil {
			return nil, err
		}
	}
	return item, nil
}

func (s *Schema) keyValue(dst Item, f field, want types.ScalarAttributeType, v any, role string) error {
	if v == nil {
		return fmt.Errorf("%w: %s: %s key %q is nil", ErrInvalidKey, s.typ, role, f.attr)
	}
	av, err := encoder.Encode(v)
	if err != nil {
		return fmt.Errorf("%w: %s: %s key %q: %w", ErrInvalidKey, s.typ, role, f.attr, err)
	}
	// A number field tagged ",string" is stored as a string: encode the
	// number the way Marshal does.
	if n, ok := av.(*types.AttributeValueMemberN); ok && want == types.ScalarAttributeTypeS && isNumberKind(f.typ.Kind()) {
		av = &types.AttributeValueMemberS{Value: n.Value}
	}
	if err := checkKeyValue(av, want); err != nil {
		return fmt.Errorf("%w: %s: %s key %q (%s): %s", ErrInvalidKey, s.typ, role, f.attr, f.goName, err.Error())
	}
	dst[f.attr] = av
	return nil
}

func isNumberKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// HashValue marshals a hash key value alone, for a query; errors as for
// [Schema.Key].
func (s *Schema) HashValue(hash any) (types.AttributeValue, error) {
	item := make(Item, 1)
	if err := s.keyValue(item, s.hash, s.hashType, hash, "hash"); err != nil {
		return nil, err
	}
	return item[s.hash.attr], nil
}

// RangeValue marshals a range key value alone, for a query's range
// condition; errors as for [Schema.Key], and for a schema without a range
// key.
func (s *Schema) RangeValue(v any) (types.AttributeValue, error) {
	if !s.hasRange {
		return nil, fmt.Errorf("%w: %s has no range key, but a range value was given", ErrInvalidKey, s.typ)
	}
	item := make(Item, 1)
	if err := s.keyValue(item, s.rng, s.rangeType, v, "range"); err != nil {
		return nil, err
	}
	return item[s.rng.attr], nil
}
