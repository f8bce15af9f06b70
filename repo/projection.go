package repo

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/versioned"
)

// Partial is an item read only in part: by a query or scan with a
// projection (QueryOptions.Project, ScanOptions.Project), or on an index
// that stores only some attributes (KEYS_ONLY or INCLUDE). Such reads return
// Partial values from [Repository.QueryPartial], [Repository.ScanPartial]
// and their page forms; [Repository.Query] and [Repository.Scan] refuse
// them, so a T is always a whole item.
//
// A Partial cannot be passed to Save, and Item cannot be saved by mistake
// either: its version field is zero ("never stored"), so Save of it is a
// create, which DynamoDB refuses with [ErrAlreadyExists] while the item
// exists, and Delete and the transaction writes refuse it with
// [ErrInvalidArgument]. No versioned write can therefore replace a stored
// item with a partial copy and drop the attributes the read left out. To
// change the item, call [Repository.Update] with its key: it reads the
// whole item. Two writes are outside this guard, do not give them a
// partial item: Overwrite, the unconditional escape hatch, which stores
// what it is given; and a Save with Options.Adopt, which writes a version-0
// item over a stored item that has no version attribute (one that does
// refuses it with [ErrConflict]).
//
// A Partial is a plain value; it is safe to read from several goroutines.
type Partial[T any] struct {
	// Item holds the attributes the read returned; fields of the other
	// attributes are zero, which says nothing about what is stored. Its
	// version field is always zero (see above).
	Item T
	// Version is the stored version of the item, or 0 if the read did not
	// return the version attribute (an index projection without it).
	Version int64
	// attrs are the attributes of T the read asked for, sorted; shared by
	// the items of one read.
	attrs []string
}

// Attributes returns, sorted, the attribute names of T that the read
// returned: the fields of Item for these attributes hold what is stored (a
// zero value is a stored zero value or an absent attribute); the others are
// unknown. It returns a copy the caller may change. It does not block.
func (p Partial[T]) Attributes() []string { return slices.Clone(p.attrs) }

// Has reports whether the read returned attribute name, so that the field
// of Item for it holds what is stored. It does not block.
func (p Partial[T]) Has(name string) bool {
	_, ok := slices.BinarySearch(p.attrs, name)
	return ok
}

// projection is what one query or scan reads of each item, checked.
type projection struct {
	// expr lists the attributes for the ProjectionExpression; nil asks for
	// every attribute the table or index holds.
	expr []string
	// attrs are the attributes of T the read returns, sorted.
	attrs []string
	// partial: attrs do not cover every attribute of T.
	partial bool
}

// keyAttrs returns the key attributes of the table and of ix (nil: none),
// without repeats.
func (r *Repository[T]) keyAttrs(ix *versioned.Index) []string {
	s := r.schema
	keys := []string{s.HashAttr()}
	if s.HasRange() {
		keys = append(keys, s.RangeAttr())
	}
	if ix != nil {
		for _, a := range []string{ix.HashAttr, ix.RangeAttr} {
			if a != "" && !slices.Contains(keys, a) {
				keys = append(keys, a)
			}
		}
	}
	return keys
}

// stored returns the attributes of T that ix holds (every one for the
// table, nil ix, and for an ALL projection).
func (r *Repository[T]) stored(ix *versioned.Index) []string {
	all := r.schema.Attributes()
	if ix == nil || ix.Projection == types.ProjectionTypeAll || ix.Projection == "" {
		return all
	}
	held := r.keyAttrs(ix)
	if ix.Projection == types.ProjectionTypeInclude {
		held = append(held, ix.NonKey...)
	}
	return slices.DeleteFunc(all, func(a string) bool { return !slices.Contains(held, a) })
}

// project checks the attributes asked for (opt names the option in
// errors) against T and the index ix, and returns what the read returns.
// The keys of the table and of the index are always read, and so is the
// version when the index holds it (or, for a local index, can fetch it from
// the table), so that a Partial carries its key and version.
func (r *Repository[T]) project(opt string, names []string, ix *versioned.Index) (projection, error) {
	all := r.schema.Attributes()
	held := r.stored(ix)
	if len(names) == 0 {
		return projection{attrs: held, partial: len(held) < len(all)}, nil
	}
	// A global index can return only what it holds; a local one fetches
	// the other attributes from the table.
	reachable := all
	if ix != nil && ix.Global {
		reachable = held
	}
	want := r.keyAttrs(ix)
	for _, n := range names {
		switch {
		case !slices.Contains(all, n):
			return projection{}, invalid("%s: %q is not an attribute of %s (attributes: %v)", opt, n, r.schema.Type(), all)
		case !slices.Contains(reachable, n):
			return projection{}, invalid("%s: global index %q does not hold attribute %q (it projects %s %v)", opt, ix.Name, n, ix.Projection, ix.NonKey)
		}
		if !slices.Contains(want, n) {
			want = append(want, n)
		}
	}
	if v := r.schema.VersionAttr(); slices.Contains(reachable, v) && !slices.Contains(want, v) {
		want = append(want, v)
	}
	attrs := slices.Clone(want)
	slices.Sort(attrs)
	return projection{expr: want, attrs: attrs, partial: len(attrs) < len(all)}, nil
}

// decodePartial decodes a projected item into a Partial whose version field
// is zero.
func (r *Repository[T]) decodePartial(p *projection, item versioned.Item) (Partial[T], error) {
	n, err := r.schema.StoredVersion(item)
	if err != nil {
		return Partial[T]{}, fmt.Errorf("repo: table %s: %w", r.table, err)
	}
	t, err := r.decode(item)
	if err != nil {
		return Partial[T]{}, err
	}
	r.schema.SetVersion(reflect.ValueOf(&t), 0)
	return Partial[T]{Item: t, Version: n, attrs: p.attrs}, nil
}
