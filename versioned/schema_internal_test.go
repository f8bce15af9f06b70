package versioned

import (
	"errors"
	"reflect"
	"testing"
)

// The Go side of a schema's fields (path, index, type) is not exported; these
// tests check it, and schemaFor, directly.

type internalAccount struct {
	ID      string `dynamo:"id,hash"`
	Owner   string `dynamo:"owner"`
	Balance int64  `dynamo:"balance"`
	Version int64  `dynamo:"version"`
}

// InnerBase is embedded by value, exported and unexported.
type InnerBase struct {
	ID      string `dynamo:"id,hash"`
	Created int64  `dynamo:"created"`
}

type innerBase struct {
	ID string `dynamo:"id,hash"`
}

type withInnerBase struct {
	InnerBase
	Note    string `dynamo:"note"`
	Version int64  `dynamo:"version"`
}

type withUnexportedInnerBase struct {
	innerBase
	Version int64 `dynamo:"version"`
}

type internalNoHash struct {
	Name    string
	Version int64 `dynamo:"version"`
}

func mustSchemaFor(t *testing.T, typ reflect.Type) *Schema {
	t.Helper()
	s, err := schemaFor(typ)
	if err != nil {
		t.Fatalf("schemaFor(%v): %v", typ, err)
	}
	return s
}

func TestSchemaFields(t *testing.T) {
	s := mustSchemaFor(t, reflect.TypeFor[internalAccount]())
	wantHash := field{attr: "id", goName: "ID", index: []int{0}, typ: reflect.TypeFor[string]()}
	if !reflect.DeepEqual(s.hash, wantHash) {
		t.Errorf("hash = %+v, want %+v", s.hash, wantHash)
	}
	if !reflect.DeepEqual(s.rng, field{}) {
		t.Errorf("rng = %+v, want none", s.rng)
	}
	wantVer := field{attr: "version", goName: "Version", index: []int{3}, typ: reflect.TypeFor[int64]()}
	if !reflect.DeepEqual(s.version, wantVer) {
		t.Errorf("version = %+v, want %+v", s.version, wantVer)
	}
}

func TestSchemaEmbeddedFields(t *testing.T) {
	s := mustSchemaFor(t, reflect.TypeFor[withInnerBase]())
	if s.hash.goName != "InnerBase.ID" || s.hash.attr != "id" || !reflect.DeepEqual(s.hash.index, []int{0, 0}) {
		t.Errorf("hash = %+v, want InnerBase.ID at [0 0]", s.hash)
	}
	s = mustSchemaFor(t, reflect.TypeFor[withUnexportedInnerBase]())
	if s.hash.goName != "innerBase.ID" {
		t.Errorf("hash.goName = %q, want innerBase.ID", s.hash.goName)
	}
}

func TestSchemaOfMatchesSchemaFor(t *testing.T) {
	_, err1 := SchemaOf[internalNoHash]()
	_, err2 := schemaFor(reflect.TypeFor[internalNoHash]())
	if err1 == nil || err1.Error() != err2.Error() {
		t.Errorf("SchemaOf: %v, schemaFor: %v", err1, err2)
	}
	s1, err := SchemaOf[internalAccount]()
	if err != nil {
		t.Fatal(err)
	}
	if s2 := mustSchemaFor(t, reflect.TypeFor[internalAccount]()); s1 != s2 {
		t.Error("schemaFor and SchemaOf returned different schemas")
	}
}

func TestSchemaForNil(t *testing.T) {
	s, err := schemaFor(nil)
	var se *SchemaError
	if s != nil || !errors.As(err, &se) || se.Type != "<nil>" {
		t.Errorf("schemaFor(nil) = %v, %v", s, err)
	}
}
