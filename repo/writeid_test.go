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

func stored(version int64, ids map[int64]string) versioned.Item {
	m := map[string]types.AttributeValue{}
	for v, id := range ids {
		m[strconv.FormatInt(v, 10)] = &types.AttributeValueMemberS{Value: id}
	}
	return versioned.Item{
		"id":      &types.AttributeValueMemberS{Value: "a"},
		"version": &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)},
		attr:      &types.AttributeValueMemberM{Value: m},
	}
}

func TestPendingOutcome(t *testing.T) {
	s, err := versioned.SchemaOf[acct]()
	if err != nil {
		t.Fatal(err)
	}
	upd := pending[acct]{kind: kindSave, base: 3, baseID: "x", baseIDs: true, version: 4, id: "me"}
	blind := pending[acct]{kind: kindSave, base: 3, version: 4, id: "me"}
	create := pending[acct]{kind: kindCreate, version: 1, id: "me"}
	del := pending[acct]{kind: kindDelete, base: 3, baseID: "x", baseIDs: true, version: 4}
	cases := []struct {
		name string
		p    pending[acct]
		cur  versioned.Item
		want outcome
	}{
		{"update: our id under our version", upd, stored(6, map[int64]string{3: "x", 4: "me", 5: "y", 6: "z"}), applied},
		{"update: nothing happened", upd, stored(3, map[int64]string{2: "w", 3: "x"}), notApplied},
		{"update: another write made our version", upd, stored(5, map[int64]string{3: "x", 4: "other", 5: "y"}), notApplied},
		{"update: ids pushed out", upd, stored(12, map[int64]string{11: "p", 12: "q"}), unknown},
		{"update: item deleted", upd, nil, unknown},
		{"update: same version, other lineage", upd, stored(3, map[int64]string{3: "not-x"}), unknown},
		{"blind save: nothing happened", blind, stored(3, map[int64]string{3: "any"}), notApplied},
		{"blind save: applied", blind, stored(5, map[int64]string{4: "me", 5: "y"}), applied},
		{"blind save: moved on", blind, stored(5, map[int64]string{4: "other", 5: "y"}), unknown},
		{"create: nothing stored (never arrived, or created and deleted)", create, nil, unknown},
		{"create: ours", create, stored(2, map[int64]string{1: "me", 2: "y"}), applied},
		{"create: someone else's (first, or after ours was deleted)", create, stored(1, map[int64]string{1: "other"}), unknown},
		{"delete: gone", del, nil, applied},
		{"delete: still there, same lineage", del, stored(3, map[int64]string{3: "x"}), notApplied},
		{"blind delete: an item at the same version (maybe re-created)", pending[acct]{kind: kindDelete, base: 3, version: 4}, stored(3, map[int64]string{3: "y"}), unknown},
		{"delete by key: an item is there", pending[acct]{kind: kindDeleteKey}, stored(1, map[int64]string{1: "y"}), unknown},
	}
	for _, c := range cases {
		if got := c.p.outcome(c.cur, s, attr); got != c.want {
			t.Errorf("%s: outcome %d, want %d", c.name, got, c.want)
		}
	}
}

func TestIDMapBounds(t *testing.T) {
	base := map[int64]string{1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}
	if got := keptIDs(base, 6, 3); !slices.Equal(got, []int64{4, 5}) {
		t.Errorf("keptIDs(keep 3) = %v, want [4 5]", got)
	}
	if got := dropIDs(base, 6, 3); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("dropIDs(keep 3) = %v, want [1 2 3]", got)
	}
	if got := keptIDs(base, 6, 1); len(got) != 0 {
		t.Errorf("keptIDs(keep 1) = %v, want none", got)
	}
	m := idMap(base, 6, "f", 3)
	if len(m.Value) != 3 || m.Value["6"].(*types.AttributeValueMemberS).Value != "f" || m.Value["4"] == nil {
		t.Errorf("idMap = %v, want entries 4, 5, 6", m.Value)
	}
	if got := keptIDs(nil, 1, 8); len(got) != 0 {
		t.Errorf("keptIDs(nil) = %v", got)
	}
	if a, b := newWriteID(), newWriteID(); a == b || len(a) != 16 {
		t.Errorf("write ids %q, %q: want distinct 16-character ids", a, b)
	}
}
