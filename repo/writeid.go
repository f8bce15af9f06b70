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
// own random id under the version it creates, next to the ids of the item's
// few most recent writes: {"17": "k3J…", "16": "Qa9…", …}. When a write's
// response is lost, the stored item then tells whether that write took
// effect: its id under its version means yes; the id of the version it was
// based on, with that version still stored or another id under the next
// one, means no. Anything else is "unknown", and the call says so instead
// of writing again.

func newWriteID() string {
	var b [12]byte
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

// keptIDs returns the versions of base that a write creating version keeps:
// the newest keep-1 below version, ascending.
func keptIDs(base map[int64]string, version int64, keep int) []int64 {
	vs := sortedIDs(base)
	i := len(vs)
	for i > 0 && vs[i-1] >= version {
		i--
	}
	return vs[max(0, i-(keep-1)):i]
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

// idMap builds the id map a write stores: the newest keep-1 entries of the
// base below version, plus version -> id.
func idMap(base map[int64]string, version int64, id string, keep int) *types.AttributeValueMemberM {
	vs := keptIDs(base, version, keep)
	m := make(map[string]types.AttributeValue, len(vs)+1)
	for _, v := range vs {
		m[strconv.FormatInt(v, 10)] = &types.AttributeValueMemberS{Value: base[v]}
	}
	m[strconv.FormatInt(version, 10)] = &types.AttributeValueMemberS{Value: id}
	return &types.AttributeValueMemberM{Value: m}
}

type outcome int

const (
	notApplied outcome = iota
	applied
	unknown
)

// pending is a write whose response was lost.
type pending[T any] struct {
	kind    writeKind
	base    int64  // version the write was conditioned on (0: create)
	baseID  string // id stored under base, if known
	baseIDs bool   // whether baseID is known (false for a blind Save)
	version int64  // version the write would create
	id      string
	value   T // what the write stored
}

// outcome decides from the stored item (nil: none stored) whether p took
// effect.
func (p *pending[T]) outcome(cur versioned.Item, s *versioned.Schema, attr string) outcome {
	if cur == nil {
		switch p.kind {
		case kindDelete, kindDeleteKey:
			// Gone, as asked. (If another writer deleted it first, this
			// call still reports success: documented.)
			return applied
		}
		// A create that never arrived, or one that was stored and then
		// deleted by someone else: creating again could apply it twice.
		return unknown
	}
	ids := writeIDs(cur, attr)
	if p.id != "" && ids[p.version] == p.id {
		return applied
	}
	switch p.kind {
	case kindCreate:
		// An item that is not ours: it was created first, or ours was
		// stored, deleted and this one created since. Only the first
		// would make "already exists" true.
		return unknown
	case kindDeleteKey:
		// There is an item under the key: ours was not deleted, or it was
		// and someone created another; deleting it again could be a
		// second delete.
		return unknown
	}
	v, err := s.StoredVersion(cur)
	if err != nil {
		return unknown
	}
	if v == p.base && p.baseIDs && ids[p.base] == p.baseID {
		return notApplied // nothing happened since the base
	}
	if v == p.base && !p.baseIDs && p.kind == kindSave {
		// A blind Save: the same version is stored. Had ours landed, the
		// version would have moved on, unless the item was deleted and
		// created anew since; writing again is what a Save of that
		// version asks for either way.
		return notApplied
	}
	if p.baseIDs && p.baseID != "" && ids[p.base] == p.baseID {
		if other, ok := ids[p.version]; ok && other != p.id {
			return notApplied // another write made our version from our base
		}
	}
	return unknown
}
