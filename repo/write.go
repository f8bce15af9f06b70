package repo

import (
	"github.com/ddbocc/ddbocc/versioned"
)

// The one description of a versioned write, from plan to wire: what it
// writes (kind, key, new item), what it is based on (version, write ids,
// old item) and under which write id it goes out. wire.go turns it into a
// single-item request or a transaction item; writeid.go decides what
// became of it when its answer was lost.

// writeKind is what a write does to its item. Every kind can be sent alone
// or in a transaction; checks, which write nothing, are txCheck (tx.go).
type writeKind int

const (
	kindCreate    writeKind = iota // put, on condition that no item exists
	kindSave                       // update, on condition of the base version
	kindDelete                     // delete, on condition of the base version
	kindDeleteKey                  // delete, on condition that an item exists
	kindOverwrite                  // update with no condition; the version moves on by one
)

func (k writeKind) String() string {
	return [...]string{"create", "save", "delete", "delete by key", "overwrite"}[k]
}

// write is one versioned write.
type write struct {
	table   string
	schema  *versioned.Schema
	key     versioned.Item
	kind    writeKind
	base    int64            // the version conditioned on (0: create, delete by key, overwrite)
	next    int64            // the version it stores: base+1, or base+n for n combined Updates
	baseIDs map[int64]string // the write ids of the base item; nil when unknown
	old     versioned.Item   // the stored item it is based on; nil for a blind write
	item    versioned.Item   // the new item (create, save, overwrite)
	ids     idOptions        // how the item's id map is kept
	id      string           // this sending's write id; "" stores none
	writer  string           // the key of the call's writer slot; "" for none
}

// idOptions say where an item's write ids are kept and how many.
type idOptions struct {
	attr string // Options.WriteIDAttribute
	keep int    // Options.WriteIDs
}

// newWrite describes a write of kind to the item under key, based on the
// stored item old (nil when not known) at version base.
func (r *Repository[T]) newWrite(kind writeKind, key versioned.Item, base int64, old, item versioned.Item) write {
	w := write{table: r.table, schema: r.schema, key: key, kind: kind, base: base, old: old, item: item,
		next: base + 1, ids: idOptions{attr: r.opts.WriteIDAttribute, keep: r.opts.WriteIDs}}
	if old != nil {
		w.baseIDs = writeIDs(old, w.ids.attr)
	}
	return w
}

// sending returns w as sent under write id id by the writer slot writer.
func (w write) sending(id, writer string) write {
	w.id = id
	if id != "" {
		w.writer = writer
	}
	return w
}

// after returns the item as w leaves it when stored: old with w's
// attributes applied and the id map moved on, or the item a create put.
// Only for a save based on a known stored item or a create; nil otherwise.
// Update (and Upsert) hands it to the next local Update of the key, which
// then needs no read.
func (w write) after() versioned.Item {
	if w.kind == kindCreate {
		return w.createItem()
	}
	if w.old == nil || w.kind != kindSave {
		return nil
	}
	after := make(versioned.Item, len(w.old)+1)
	for k, v := range w.old {
		after[k] = v
	}
	for _, a := range w.schema.Attributes() {
		if v, ok := w.item[a]; ok {
			after[a] = v
		} else {
			delete(after, a)
		}
	}
	if w.id != "" {
		after[w.ids.attr] = idMap(w)
	}
	return after
}

// plan is a write a call makes, and the value it returns once the write is
// stored. It is sent again, unchanged but for its write id, while its base
// stands.
type plan[T any] struct {
	write
	value T
	skip  bool // fn said NoChange: nothing to write, value is the current item
}

// fixed returns a build step that plans p whatever is stored: for writes
// that do not depend on the stored item (Create, Save, Delete).
func fixed[T any](p *plan[T]) func(versioned.Item, bool) (*plan[T], error) {
	return func(versioned.Item, bool) (*plan[T], error) { return p, nil }
}
