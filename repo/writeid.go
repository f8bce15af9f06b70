package repo

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/versioned"
)

// Write ids: every versioned write stores, in one hidden map attribute, its
// own random id under the version it creates: {"1": "k3J…", "16": "Qa9…",
// "17": …}. The map keeps the item's first entry (which names this
// incarnation of the item: it is never dropped while the item lives, and a
// re-created item gets a new one) and the Options.WriteIDs newest entries;
// older ones are dropped oldest first.
//
// A call remembers the id of every write it sent until it returns. When a
// write's response is lost, the stored item tells what became of it
// ([sentFate]): its id under the version it creates means stored. Anything
// else is not proof that it failed: a request can still land after the
// client gave up on it. It provably never will only once its base was
// superseded by a write that is not ours, in the same incarnation of the
// item. Until then the call re-sends the same write on the same base, so at
// most one of its writes can land.

// newWriteID returns a random 64-bit id, 11 characters of base64url. It
// only has to differ from the ids of the other writes of one item version.
func newWriteID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// writeIDs reads the id map of a stored item: version -> id. It is never
// nil, so that "known to hold no ids" differs from "not known".
func writeIDs(item versioned.Item, attr string) map[int64]string {
	m, ok := item[attr].(*types.AttributeValueMemberM)
	if !ok {
		return map[int64]string{}
	}
	ids := make(map[int64]string, len(m.Value))
	for k, v := range m.Value {
		n, err := strconv.ParseInt(k, 10, 64)
		s, ok := v.(*types.AttributeValueMemberS)
		if err == nil && ok {
			ids[n] = s.Value
		}
	}
	return ids
}

// keptIDs returns the versions of base that a write creating version keeps,
// ascending: the first entry of the item, and the newest keep-1 others
// below version (with the new entry, keep of them).
func keptIDs(base map[int64]string, version int64, keep int) []int64 {
	vs := sortedIDs(base)
	i := len(vs)
	for i > 0 && vs[i-1] >= version {
		i--
	}
	vs = vs[:i]
	if len(vs) == 0 {
		return nil
	}
	first, rest := vs[0], vs[1:]
	rest = rest[max(0, len(rest)-(keep-1)):]
	return append([]int64{first}, rest...)
}

// dropIDs returns the versions of base that a write creating version drops.
func dropIDs(base map[int64]string, version int64, keep int) []int64 {
	kept := keptIDs(base, version, keep)
	var drop []int64
	for _, v := range sortedIDs(base) {
		if !slices.Contains(kept, v) {
			drop = append(drop, v)
		}
	}
	return drop
}

func sortedIDs(base map[int64]string) []int64 {
	vs := make([]int64, 0, len(base))
	for v := range base {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

// idMap builds the whole id map a write w stores: the kept version entries
// of its base (keptIDs) plus its own, and the kept writer entries plus its
// writer's.
func idMap(w write) *types.AttributeValueMemberM {
	version := w.next
	vs := keptIDs(w.baseIDs, version, w.ids.keep)
	m := make(map[string]types.AttributeValue, len(vs)+1)
	for _, v := range vs {
		m[strconv.FormatInt(v, 10)] = &types.AttributeValueMemberS{Value: w.baseIDs[v]}
	}
	m[strconv.FormatInt(version, 10)] = &types.AttributeValueMemberS{Value: w.id}
	if len(w.baseIDs) == 0 && w.base > 0 {
		// A blind write (baseIDs nil) replaces whatever map is stored, and
		// a write on an item with no ids, whose map another program's put
		// may have wiped (adopt.go), starts a new one: mark from which
		// version on the map's history is complete.
		m[wipeMark] = &types.AttributeValueMemberS{Value: strconv.FormatInt(version, 10)}
	}
	if w.writer != "" {
		ws := writerEntries(w.old, w.ids.attr)
		for _, k := range keptWriters(ws, w.writer, keepWriters) {
			m[k] = ws[k].value()
		}
		m[w.writer] = writerEntry{version, w.id}.value()
	}
	return &types.AttributeValueMemberM{Value: m}
}

// wipeMark is the key under which a blind write (a Save of a value the
// caller holds, which does not know the stored map and replaces it) stores
// its version: entries of versions below it may have been wiped, so their
// absence proves nothing.
const wipeMark = "!"

// wipedAt returns the version of the last blind write that replaced the
// id map of item, 0 if none.
func wipedAt(item versioned.Item, attr string) int64 {
	m, _ := item[attr].(*types.AttributeValueMemberM)
	if m == nil {
		return 0
	}
	s, _ := m.Value[wipeMark].(*types.AttributeValueMemberS)
	if s == nil {
		return 0
	}
	n, _ := strconv.ParseInt(s.Value, 10, 64)
	return n
}

// fate is what became of writes a call sent without hearing the answer.
type fate int

const (
	// dead: none of them took effect, and none ever can.
	dead fate = iota
	// applied: one of them is stored.
	applied
	// notYet: none is stored so far, but one may still land.
	notYet
	// unknown: the stored item cannot tell.
	unknown
)

func (f fate) String() string {
	return [...]string{"dead", "applied", "not yet", "unknown"}[f]
}

// sentWrites are the writes of one plan whose answers a call did not get:
// all of the same kind, on the same base, with the same new item, under
// different ids. At most one of them can land.
type sentWrites struct {
	kind    writeKind
	base    int64            // the version conditioned on (0: create)
	next    int64            // the version they store
	baseIDs map[int64]string // the ids of the base item; nil for a blind write
	ids     []string
	writer  string // the key of the call's writer slot; "" for none
}

// has reports whether id is one of w's ids.
func (w sentWrites) has(id string) bool { return id != "" && slices.Contains(w.ids, id) }

// sentFate decides from the stored item cur (nil: none stored) what became
// of the writes w. It is the one place that says when a lost write may be
// given up: see docs/guarantees.md.
func sentFate(w sentWrites, cur versioned.Item, s *versioned.Schema, attr string) fate {
	switch w.kind {
	case kindCreate:
		return createFate(w, cur, attr)
	case kindDelete, kindDeleteKey:
		if cur == nil {
			// Gone, as asked. (If another writer deleted it first, the
			// call still reports success: documented.)
			return applied
		}
		// Not deleted yet, or deleted and created anew since: the
		// condition of a delete cannot tell the two apart, so it is not
		// sent again (a second delete could remove a new item).
		return notYet
	}
	return saveFate(w, cur, s, attr)
}

// createFate: a create is conditioned on there being no item, so it can
// land whenever the key is empty: after the call, after someone deleted an
// item it stored. Only its own id under version 1 is an answer.
func createFate(w sentWrites, cur versioned.Item, attr string) fate {
	if w.has(writeIDs(cur, attr)[1]) {
		return applied
	}
	if cur == nil {
		return notYet
	}
	return unknown
}

// saveFate: a write conditioned on version base (and, when known, on the id
// stored with it) that stores version next: base+1, or more for a combined
// write (combine.go). It is stored if our id is under next; it never will be
// once base was superseded by a write that is not ours in the same
// incarnation of the item.
func saveFate(w sentWrites, cur versioned.Item, s *versioned.Schema, attr string) fate {
	if cur == nil {
		return unknown // never stored, or stored and deleted since
	}
	ids, ws := writeIDs(cur, attr), writerEntries(cur, attr)
	next := w.next
	mine, wrote := ws[w.writer]
	if w.has(ids[next]) || (w.writer != "" && w.has(mine.id)) {
		return applied
	}
	v, err := s.StoredVersion(cur)
	if err != nil || !sameIncarnation(w.baseIDs, ids) || wipedAt(cur, attr) > next {
		return unknown // re-created, or our entries may have been wiped
	}
	switch {
	case v < w.base:
		return unknown // re-created, or written by someone who resets versions
	case v == w.base:
		if id := w.baseIDs[w.base]; id != "" && ids[w.base] != id {
			return unknown // another write made this version
		}
		return notYet
	}
	if _, ok := cur[attr].(*types.AttributeValueMemberM); !ok {
		// No id map, though ours would have stored one: none was ever
		// stored in this incarnation, or a program that does not keep it
		// replaced the item since (adopt.go).
		return unknown
	}
	if _, ok := ids[next]; ok || retained(ids, next) {
		// Another write superseded base: one that stores ids under
		// another id, or one that stores none (ours would be in the map).
		return dead
	}
	if w.writer != "" && (wrote || writerRetained(ws, next)) {
		// Our writer slot's entry shows no write of ours, and would.
		return dead
	}
	return unknown // the entry of next was dropped: too many writes since
}

// sameIncarnation reports whether the id map cur belongs to the same
// incarnation of the item as base: the first entry of base is still there.
// A base without ids gives no evidence (a blind write, or an item written
// only by others so far): true.
func sameIncarnation(base, cur map[int64]string) bool {
	if len(base) == 0 {
		return true
	}
	first := sortedIDs(base)[0]
	return cur[first] == base[first]
}

// retained reports whether an entry written under version x would still be
// in the id map ids: entries are dropped oldest first, never the first one
// of the item, so x is kept if it is at or above the oldest entry after the
// first (or there is none). A write at x at or below the first entry would
// be the first.
func retained(ids map[int64]string, x int64) bool {
	vs := sortedIDs(ids)
	return len(vs) <= 1 || x <= vs[0] || vs[1] <= x
}
