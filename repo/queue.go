package repo

import "github.com/ddbocc/ddbocc/versioned"

// Local queueing (internal/turns): Updates of one key through one
// Repository run one at a time, and each hands the item it stored to the next in line, which
// applies its function to it without reading. Goroutines of one process
// then never conflict with each other on a hot item, and a queued Update
// costs one request instead of a read, a write and the conflicts. Writers in
// other processes are still handled by the version condition: a handed-on
// item that another process changed fails its write, and the loop goes on
// from the item that write returned.

// stored returns the item as a successful versioned write of plan p with
// write id id left it: p's old item with p's attributes applied and the id
// map moved on. Only for a write based on a known stored item.
func (l *loop[T]) stored(p *plan[T], id string) versioned.Item {
	if p.old == nil || p.kind != kindSave {
		return nil
	}
	after := make(versioned.Item, len(p.old)+1)
	for k, v := range p.old {
		after[k] = v
	}
	for _, a := range l.r.schema.Attributes {
		if v, ok := p.item[a]; ok {
			after[a] = v
		} else {
			delete(after, a)
		}
	}
	if id != "" {
		after[l.o.WriteIDAttribute] = idMap(l.spec(p, id))
	}
	return after
}
