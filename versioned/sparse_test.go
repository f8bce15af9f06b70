package versioned_test

import (
	"testing"

	"github.com/ddbocc/ddbocc/versioned"
)

type sparseKeys struct {
	ID      string `dynamo:"id,hash"`
	Email   string `dynamo:"email,index=byEmail:hash"`
	Tag     []byte `dynamo:"tag,index=byTag:hash"`
	Note    string `dynamo:"note"`
	Version int64  `dynamo:"version"`
}

// TestEmptyIndexKeysLeftOut: an empty string or binary index key is not
// marshaled (DynamoDB refuses one; the item is left out of that index),
// while an empty attribute that is no index key is kept, and a non-empty
// key is stored.
func TestEmptyIndexKeysLeftOut(t *testing.T) {
	s, err := versioned.SchemaOf[sparseKeys]()
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Marshal(sparseKeys{ID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"email", "tag"} {
		if _, ok := m[a]; ok {
			t.Errorf("empty index key %s marshaled: %v", a, m[a])
		}
	}
	if _, ok := m["note"]; !ok {
		t.Error("empty attribute that is no index key left out")
	}
	m, err = s.Marshal(sparseKeys{ID: "a", Email: "x@y", Tag: []byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m["email"]; !ok {
		t.Error("index key left out")
	}
	if _, ok := m["tag"]; !ok {
		t.Error("binary index key left out")
	}
	var back sparseKeys
	if err := s.Unmarshal(m, &back); err != nil || back.Email != "x@y" {
		t.Fatalf("round trip: %+v %v", back, err)
	}
}
