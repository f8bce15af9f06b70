package repo

import (
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/versioned"
)

type acct struct {
	ID      string `dynamo:"id,hash"`
	Version int64  `dynamo:"version"`
}

const attr = "_w"

func stored(version int64, ids map[int64]string, writers ...string) versioned.Item {
	m := map[string]types.AttributeValue{}
	for i := 0; i+1 < len(writers); i += 2 {
		m[writers[i]] = &types.AttributeValueMemberS{Value: writers[i+1]}
	}
	for v, id := range ids {
		m[strconv.FormatInt(v, 10)] = &types.AttributeValueMemberS{Value: id}
	}
	return versioned.Item{
		"id":      &types.AttributeValueMemberS{Value: "a"},
		"version": &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)},
		attr:      &types.AttributeValueMemberM{Value: m},
	}
}

// sentFate, table-driven: when a lost write is stored, provably never
// stored, may still land, or cannot be told.
func TestSentFate(t *testing.T) {
	s, err := versioned.SchemaOf[acct]()
	if err != nil {
		t.Fatal(err)
	}
	// An Update based on version 3 (id x), first entry 1 (id f).
	upd := sentWrites{kind: kindSave, base: 3, next: 4, baseIDs: map[int64]string{1: "f", 3: "x"}, ids: []string{"me", "me2"}}
	blind := sentWrites{kind: kindSave, base: 3, next: 4, ids: []string{"me"}}
	create := sentWrites{kind: kindCreate, ids: []string{"me"}}
	del := sentWrites{kind: kindDelete, base: 3}
	// Three combined Updates based on version 3: the write stores 6.
	comb := sentWrites{kind: kindSave, base: 3, next: 6, baseIDs: map[int64]string{1: "f", 3: "x"}, ids: []string{"me"}}
	// The same Update by writer slot ~me.
	slot := upd
	slot.writer = "~me"
	cases := []struct {
		name string
		w    sentWrites
		cur  versioned.Item
		want fate
	}{
		{"update: our id under base+1", upd, stored(6, map[int64]string{1: "f", 3: "x", 4: "me", 5: "y", 6: "z"}), applied},
		{"update: our second write under base+1", upd, stored(4, map[int64]string{1: "f", 3: "x", 4: "me2"}), applied},
		{"update: still at the base: not yet", upd, stored(3, map[int64]string{1: "f", 2: "w", 3: "x"}), notYet},
		{"update: another write made base+1", upd, stored(5, map[int64]string{1: "f", 3: "x", 4: "other", 5: "y"}), dead},
		{"update: a writer without ids made base+1", upd, stored(5, map[int64]string{1: "f", 2: "w", 3: "x"}), dead},
		{"update: another write made base+1, the base entry since dropped", upd, stored(9, map[int64]string{1: "f", 4: "o", 9: "p"}), dead},
		{"update: base+1 dropped", upd, stored(12, map[int64]string{1: "f", 11: "p", 12: "q"}), unknown},
		{"update: item deleted", upd, nil, unknown},
		{"update: re-created (other first entry)", upd, stored(5, map[int64]string{1: "g", 4: "o", 5: "p"}), unknown},
		{"update: same version, other id", upd, stored(3, map[int64]string{1: "f", 3: "not-x"}), unknown},
		{"update: version went back", upd, stored(2, map[int64]string{1: "f", 2: "w"}), unknown},
		{"slot: our entry shows our write, version ids gone", slot, stored(40, map[int64]string{1: "f", 39: "a", 40: "b"}, "~me", "4 me2", "~o", "40 b"), applied},
		{"slot: our entry shows an older write of the slot", slot, stored(40, map[int64]string{1: "f", 39: "a", 40: "b"}, "~me", "2 old", "~o", "40 b"), dead},
		{"slot: no entry of ours, few writers", slot, stored(40, map[int64]string{1: "f", 39: "a", 40: "b"}, "~o", "40 b", "~p", "39 a"), dead},
		{"slot: no entry of ours, eight newer writers", slot, stored(40, map[int64]string{1: "f", 39: "a", 40: "b"},
			"~a", "33 x", "~b", "34 x", "~c", "35 x", "~d", "36 x", "~e", "37 x", "~g", "38 x", "~h", "39 a", "~i", "40 b"), unknown},
		{"slot: no entry of ours, an entry at or below base+1 kept", slot, stored(40, map[int64]string{1: "f", 39: "a", 40: "b"},
			"~a", "4 x", "~b", "34 x", "~c", "35 x", "~d", "36 x", "~e", "37 x", "~g", "38 x", "~h", "39 a", "~i", "40 b"), dead},
		{"slot: still at the base", slot, stored(3, map[int64]string{1: "f", 3: "x"}, "~me", "2 old"), notYet},
		{"blind save: still at the base", blind, stored(3, map[int64]string{3: "any"}), notYet},
		{"blind save: applied", blind, stored(5, map[int64]string{4: "me", 5: "y"}), applied},
		{"blind save: another write made base+1", blind, stored(5, map[int64]string{4: "other", 5: "y"}), dead},
		{"blind save: written by others without ids", blind, stored(5, nil), dead},
		{"blind save: first entry above base+1", blind, stored(9, map[int64]string{7: "a", 9: "b"}), dead},
		{"blind save: map replaced by another blind save after base+1", blind, stored(7, map[int64]string{7: "z"}, "!", "7", "~o", "7 z"), unknown},
		{"blind save: map replaced by the write that made base+1", blind, stored(5, map[int64]string{4: "other", 5: "y"}, "!", "4"), dead},
		{"blind save: our write replaced the map", blind, stored(6, map[int64]string{4: "me", 6: "y"}, "!", "4"), applied},
		{"blind save: base+1 dropped", blind, stored(9, map[int64]string{2: "a", 8: "b", 9: "c"}), unknown},
		{"combined: our id under base+3", comb, stored(8, map[int64]string{1: "f", 3: "x", 6: "me", 7: "y", 8: "z"}), applied},
		{"combined: still at the base", comb, stored(3, map[int64]string{1: "f", 3: "x"}), notYet},
		{"combined: another write made base+1", comb, stored(5, map[int64]string{1: "f", 3: "x", 4: "o", 5: "p"}), dead},
		{"combined: another combined write jumped past base+3", comb, stored(7, map[int64]string{1: "f", 3: "x", 7: "o"}), dead},
		{"combined: another combined write made base+3", comb, stored(6, map[int64]string{1: "f", 3: "x", 6: "o"}), dead},
		{"create: nothing stored: may still land", create, nil, notYet},
		{"create: ours", create, stored(2, map[int64]string{1: "me", 2: "y"}), applied},
		{"create: someone else's (first, or after ours was deleted)", create, stored(1, map[int64]string{1: "other"}), unknown},
		{"delete: gone", del, nil, applied},
		{"delete: an item at the version (not yet, or re-created)", del, stored(3, map[int64]string{3: "x"}), notYet},
		{"delete by key: an item is there", sentWrites{kind: kindDeleteKey}, stored(1, map[int64]string{1: "y"}), notYet},
	}
	for _, c := range cases {
		if got := sentFate(c.w, c.cur, s, attr); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestIDMapBounds(t *testing.T) {
	base := map[int64]string{1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}
	// The first entry names the incarnation and stays; of the others the
	// newest keep-1 stay.
	if got := keptIDs(base, 6, 3); !slices.Equal(got, []int64{1, 4, 5}) {
		t.Errorf("keptIDs(keep 3) = %v, want [1 4 5]", got)
	}
	if got := dropIDs(base, 6, 3); !slices.Equal(got, []int64{2, 3}) {
		t.Errorf("dropIDs(keep 3) = %v, want [2 3]", got)
	}
	if got := keptIDs(base, 6, 1); !slices.Equal(got, []int64{1}) {
		t.Errorf("keptIDs(keep 1) = %v, want [1]", got)
	}
	m := idMap(write{baseIDs: base, base: 5, next: 6, id: "f", ids: idOptions{keep: 3}})
	if len(m.Value) != 4 || m.Value["6"].(*types.AttributeValueMemberS).Value != "f" || m.Value["4"] == nil || m.Value["1"] == nil {
		t.Errorf("idMap = %v, want entries 1, 4, 5, 6", m.Value)
	}
	if got := keptIDs(nil, 1, 8); len(got) != 0 {
		t.Errorf("keptIDs(nil) = %v", got)
	}
	if a, b := newWriteID(), newWriteID(); a == b || len(a) != 11 {
		t.Errorf("write ids %q, %q: want distinct 11-character ids", a, b)
	}
}

// Writer entries: a write keeps the newest keepWriters-1 others and its
// own; slots are reused only once given back.
func TestWriterEntries(t *testing.T) {
	ws := map[string]writerEntry{}
	for i := 0; i < 10; i++ {
		ws["~w"+strconv.Itoa(i)] = writerEntry{int64(10 + i), "id"}
	}
	ws["~me"] = writerEntry{3, "mine"}
	kept := keptWriters(ws, "~me", keepWriters)
	if len(kept) != keepWriters-1 || kept[0] != "~w9" || slices.Contains(kept, "~w2") {
		t.Errorf("keptWriters = %v, want the %d newest others", kept, keepWriters-1)
	}
	if drop := dropWriters(ws, "~me", keepWriters); !slices.Equal(drop, []string{"~w0", "~w1", "~w2"}) {
		t.Errorf("dropWriters = %v, want ~w0 ~w1 ~w2", drop)
	}
	item := stored(5, nil, "~a", "5 k3", "~b", "bad")
	if got := writerEntries(item, attr); len(got) != 1 || got["~a"] != (writerEntry{5, "k3"}) {
		t.Errorf("writerEntries = %v", got)
	}
	s := newWriterSlots()
	a, ka := s.take()
	b, kb := s.take()
	if a == b || ka == kb || ka[:1] != writerMark {
		t.Errorf("slots %d %q, %d %q", a, ka, b, kb)
	}
	s.give(a)
	if c, kc := s.take(); c != a || kc != ka {
		t.Errorf("slot after give: %d %q, want %d %q", c, kc, a, ka)
	}
}
