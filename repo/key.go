package repo

// ItemKey is the key of one item as Go values; build it with [Key].
type ItemKey struct {
	hash any
	rng  []any
}

// Key names an item by its hash key value and, for a table with a range
// key, its range key value:
//
//	repo.Key("a1")            // hash key only
//	repo.Key("user-7", 42)    // hash and range key
//
// The values are checked against the item type's key fields when the key is
// used, before any request is sent.
func Key(hash any, rangeValue ...any) ItemKey {
	return ItemKey{hash: hash, rng: rangeValue}
}
