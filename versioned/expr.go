package versioned

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// name builds an expression name for a top-level attribute. Names always go
// through ExpressionAttributeNames, so reserved words (name, status, data)
// work, and are never split at dots: "a.b" is one attribute.
func name(attr string) expression.NameBuilder { return expression.NameNoDotSplit(attr) }

func number(n int64) expression.ValueBuilder {
	return expression.Value(&types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)})
}

// VersionIs is the condition "the stored version is n": the condition of a
// Save or Delete of an item read at version n. It fails when the item is
// missing, since a missing attribute equals nothing. VersionIs(0) is
// [Schema.Versionless].
func (s *Schema) VersionIs(n int64) expression.ConditionBuilder {
	if n == 0 {
		return s.Versionless()
	}
	return name(s.version.attr).Equal(number(n))
}

// Versionless is the condition "an item is stored at version 0": it exists
// and its version attribute is missing, NULL or 0, as [Schema.StoredVersion]
// reads it. It is the condition of the first versioned write of an item
// written without a version (by other code, or before the library): its
// adoption.
func (s *Schema) Versionless() expression.ConditionBuilder {
	v := name(s.version.attr)
	return name(s.hash.attr).AttributeExists().And(
		expression.Or(v.AttributeNotExists(), v.Equal(number(0)), v.AttributeType(expression.Null)))
}

// NotExists is the condition "no item with this key is stored": the
// condition of a Create.
func (s *Schema) NotExists() expression.ConditionBuilder {
	return name(s.hash.attr).AttributeNotExists()
}

// Exists is the condition "an item with this key is stored".
func (s *Schema) Exists() expression.ConditionBuilder {
	return name(s.hash.attr).AttributeExists()
}

// Replace builds the update that makes the stored item equal to item for
// every attribute the schema knows: it SETs each non-key attribute item has
// and REMOVEs each known attribute item leaves out (an omitempty zero).
// Attributes the type does not know are left as they are, so that fields
// added by newer code or by other writers survive. The key attributes are
// not part of an update, nor are the attributes named in except.
func (s *Schema) Replace(item Item, except ...string) expression.UpdateBuilder {
	var u expression.UpdateBuilder
	for _, a := range s.attributes {
		if a == s.hash.attr || (s.hasRange && a == s.rng.attr) || slices.Contains(except, a) {
			continue
		}
		if v, ok := item[a]; ok {
			u = u.Set(name(a), expression.Value(v))
		} else {
			u = u.Remove(name(a))
		}
	}
	return u
}

// Diff builds the update that turns the stored item old into item for the
// attributes the schema knows: it SETs each non-key attribute whose value
// differs or is new, and REMOVEs each known attribute old has and item
// lacks. Given a condition that the stored version is old's, the result
// equals [Schema.Replace] with a smaller request; with old nil it is
// Replace. It is [Schema.Changes] as an expression.UpdateBuilder. The
// second result is false when nothing differs.
func (s *Schema) Diff(old, item Item) (expression.UpdateBuilder, bool) {
	var u expression.UpdateBuilder
	changed := false
	s.Changes(old, item, func(a string, v types.AttributeValue) {
		if v == nil {
			u = u.Remove(name(a))
		} else {
			u = u.Set(name(a), expression.Value(v))
		}
		changed = true
	})
	return u, changed
}

// equal reports whether two attribute values are equal. Sets compare as
// sets; numbers compare by their text, so "1" and "1.0" differ (which only
// costs a redundant SET).
func equal(a, b types.AttributeValue) bool {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberN:
		y, ok := b.(*types.AttributeValueMemberN)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberB:
		y, ok := b.(*types.AttributeValueMemberB)
		return ok && bytes.Equal(x.Value, y.Value)
	case *types.AttributeValueMemberBOOL:
		y, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberNULL:
		y, ok := b.(*types.AttributeValueMemberNULL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberSS:
		y, ok := b.(*types.AttributeValueMemberSS)
		return ok && sameSet(x.Value, y.Value)
	case *types.AttributeValueMemberNS:
		y, ok := b.(*types.AttributeValueMemberNS)
		return ok && sameSet(x.Value, y.Value)
	case *types.AttributeValueMemberBS:
		y, ok := b.(*types.AttributeValueMemberBS)
		if !ok || len(x.Value) != len(y.Value) {
			return false
		}
		xs, ys := make([]string, len(x.Value)), make([]string, len(y.Value))
		for i := range x.Value {
			xs[i], ys[i] = string(x.Value[i]), string(y.Value[i])
		}
		return sameSet(xs, ys)
	case *types.AttributeValueMemberL:
		y, ok := b.(*types.AttributeValueMemberL)
		if !ok || len(x.Value) != len(y.Value) {
			return false
		}
		for i := range x.Value {
			if !equal(x.Value[i], y.Value[i]) {
				return false
			}
		}
		return true
	case *types.AttributeValueMemberM:
		y, ok := b.(*types.AttributeValueMemberM)
		if !ok || len(x.Value) != len(y.Value) {
			return false
		}
		for k, v := range x.Value {
			w, ok := y.Value[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]int, len(a))
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		if seen[s]--; seen[s] < 0 {
			return false
		}
	}
	return true
}

// Changes calls fn for every non-key attribute the schema knows that a
// write of item over the stored item old must change: with its new value
// if it differs or is new, with nil if old has it and item does not. With
// old nil (not known), every known non-key attribute is changed, as by
// [Schema.Replace]. It does not allocate.
func (s *Schema) Changes(old, item Item, fn func(attr string, v types.AttributeValue)) {
	for _, a := range s.attributes {
		if a == s.hash.attr || (s.hasRange && a == s.rng.attr) {
			continue
		}
		v, inNew := item[a]
		ov, inOld := old[a]
		switch {
		case inNew && (old == nil || !inOld || !equal(ov, v)):
			fn(a, v)
		case !inNew && (old == nil || inOld):
			fn(a, nil)
		}
	}
}
