package repo

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/versioned"
)

// Writer entries: next to the version entries, the id map keeps one entry
// per writer slot, "~<repository><slot>": "<version> <write id>", the last
// write that slot stored. A Repository hands each running call a slot of
// its own, and a slot is reused only by a later call, so while a call runs
// its slot's entry changes only when one of its own writes lands. Entries
// are dropped lowest version first beyond Options.Writers. The version
// entries of a hot item are pushed out within a few writes of others; the
// entry of a writer stays until as many other writers have written, so a
// call whose answer was lost still finds out what became of its write after
// any number of writes by a few others.

const writerMark = "~"

// writerSlots hands out the slots of one Repository's running calls.
type writerSlots struct {
	prefix string // writerMark and 8 random characters
	mu     sync.Mutex
	free   []int
	next   int
}

func newWriterSlots() *writerSlots {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &writerSlots{prefix: writerMark + base64.RawURLEncoding.EncodeToString(b[:])}
}

// take returns a free slot and its key. Safe for concurrent use.
func (s *writerSlots) take() (slot int, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.free); n > 0 {
		slot, s.free = s.free[n-1], s.free[:n-1]
	} else {
		slot, s.next = s.next, s.next+1
	}
	return slot, s.prefix + strconv.FormatInt(int64(slot), 36)
}

// give returns a slot taken with take.
func (s *writerSlots) give(slot int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.free = append(s.free, slot)
}

// writerEntry is the last write a writer slot stored.
type writerEntry struct {
	version int64
	id      string
}

func (e writerEntry) value() *types.AttributeValueMemberS {
	return &types.AttributeValueMemberS{Value: strconv.FormatInt(e.version, 10) + " " + e.id}
}

// writerEntries reads the writer entries of a stored item's id map.
func writerEntries(item versioned.Item, attr string) map[string]writerEntry {
	m, ok := item[attr].(*types.AttributeValueMemberM)
	if !ok {
		return nil
	}
	var ws map[string]writerEntry
	for k, v := range m.Value {
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok || !strings.HasPrefix(k, writerMark) {
			continue
		}
		ver, id, ok := strings.Cut(s.Value, " ")
		n, err := strconv.ParseInt(ver, 10, 64)
		if !ok || err != nil {
			continue
		}
		if ws == nil {
			ws = map[string]writerEntry{}
		}
		ws[k] = writerEntry{n, id}
	}
	return ws
}

// keptWriters returns the writer entries of base that a write by self keeps
// besides its own: the keep-1 newest of the others.
func keptWriters(base map[string]writerEntry, self string, keep int) []string {
	others := make([]string, 0, len(base))
	for k := range base {
		if k != self {
			others = append(others, k)
		}
	}
	slices.SortFunc(others, func(a, b string) int {
		return cmp.Or(cmp.Compare(base[b].version, base[a].version), strings.Compare(a, b))
	})
	return others[:min(len(others), keep-1)]
}

// dropWriters returns the writer entries of base that a write by self
// drops.
func dropWriters(base map[string]writerEntry, self string, keep int) []string {
	kept := keptWriters(base, self, keep)
	var drop []string
	for k := range base {
		if k != self && !slices.Contains(kept, k) {
			drop = append(drop, k)
		}
	}
	slices.Sort(drop)
	return drop
}

// keepWriters is how many writer entries an item keeps. It is not an
// option: writerRetained counts on every writer of an item dropping entries
// alike.
const keepWriters = 8

// writerRetained reports whether an entry written under version x would
// still be among the writer entries ws: entries are dropped lowest version
// first, so x is kept if some entry is at most x, or fewer than
// keepWriters are there.
func writerRetained(ws map[string]writerEntry, x int64) bool {
	if len(ws) < keepWriters {
		return true
	}
	for _, e := range ws {
		if e.version <= x {
			return true
		}
	}
	return false
}
