package versioned

import (
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Index is a secondary index declared on an item type's tags (see
// docs/concepts.md for the tag grammar).
type Index struct {
	// Name is the index name in DynamoDB.
	Name string
	// Global: a global secondary index (GSI). Otherwise a local one (LSI),
	// whose hash key is the table's.
	Global bool
	// HashAttr and HashType: the index's hash key.
	HashAttr string
	HashType types.ScalarAttributeType
	// RangeAttr and RangeType: the index's range key; "" if it has none.
	RangeAttr string
	RangeType types.ScalarAttributeType
	// Projection is what the index stores of each item: ALL, KEYS_ONLY or
	// INCLUDE (then NonKey lists the included attributes).
	Projection types.ProjectionType
	NonKey     []string
}

// HasRange reports whether the index has a range key.
func (ix Index) HasRange() bool { return ix.RangeAttr != "" }

// Indexes returns the secondary indexes declared on the type, sorted by
// name. The slice is a copy the caller may change.
func (s *Schema) Indexes() []Index { return slices.Clone(s.indexes) }

// Index returns the index called name, and whether the type declares it.
func (s *Schema) Index(name string) (Index, bool) {
	i := slices.IndexFunc(s.indexes, func(ix Index) bool { return ix.Name == name })
	if i < 0 {
		return Index{}, false
	}
	return s.indexes[i], true
}
