package versioned_test

import (
	"errors"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbocc/ddbocc/versioned"
)

// doc has attribute names that are DynamoDB reserved words ("name",
// "status", "data"), a dotted name, a range key and an omitempty field.
type doc struct {
	ID      string `dynamo:"id,hash"`
	SK      int64  `dynamo:"sk,range"`
	Name    string `dynamo:"name"`
	Status  string `dynamo:"status,omitempty"`
	Data    []byte `dynamo:"data,omitempty"`
	Dotted  string `dynamo:"a.b"`
	Lock    string `dynamo:"lock"`
	Version int64  `dynamo:"version"`
}

var placeholder = regexp.MustCompile(`[#:][A-Za-z0-9_]+`)

// checkNoRawNames asserts that an expression string holds only
// placeholders, the given keywords and punctuation: every attribute name
// and value goes through ExpressionAttributeNames and -Values.
func checkNoRawNames(t *testing.T, what, expr string, keywords ...string) {
	t.Helper()
	rest := placeholder.ReplaceAllString(expr, " ")
	for _, w := range strings.FieldsFunc(rest, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '.' || r >= '0' && r <= '9')
	}) {
		if !slices.Contains(keywords, w) {
			t.Errorf("%s %q holds %q outside a placeholder", what, expr, w)
		}
	}
}

// update is an update expression resolved back to attribute names.
type update struct {
	set    map[string]types.AttributeValue
	remove []string
}

func resolveUpdate(t *testing.T, e expression.Expression) update {
	t.Helper()
	u := update{set: map[string]types.AttributeValue{}}
	if e.Update() == nil {
		t.Fatal("no update expression")
	}
	names, values := e.Names(), e.Values()
	for _, line := range strings.Split(strings.TrimSpace(*e.Update()), "\n") {
		clause, list, _ := strings.Cut(line, " ")
		for _, part := range strings.Split(list, ", ") {
			switch clause {
			case "SET":
				lhs, rhs, ok := strings.Cut(part, " = ")
				name, okName := names[lhs]
				value, okValue := values[rhs]
				if !ok || !okName || !okValue {
					t.Fatalf("cannot resolve SET %q in %q", part, *e.Update())
				}
				u.set[name] = value
			case "REMOVE":
				name, ok := names[part]
				if !ok {
					t.Fatalf("cannot resolve REMOVE %q in %q", part, *e.Update())
				}
				u.remove = append(u.remove, name)
			default:
				t.Fatalf("unexpected clause %q in %q", clause, *e.Update())
			}
		}
	}
	sort.Strings(u.remove)
	return u
}

func TestVersionIs(t *testing.T) {
	sc := mustSchema[event](t) // version attribute "rev"
	e, err := versioned.CondExpr(sc.VersionIs(7))
	if err != nil {
		t.Fatal(err)
	}
	cond := *e.Condition()
	checkNoRawNames(t, "condition", cond)
	m := regexp.MustCompile(`^(#\w+) = (:\w+)$`).FindStringSubmatch(cond)
	if m == nil {
		t.Fatalf("condition %q is not #name = :value", cond)
	}
	if got := e.Names()[m[1]]; got != "rev" {
		t.Errorf("%s names %q, want rev", m[1], got)
	}
	if got, ok := e.Values()[m[2]].(*types.AttributeValueMemberN); !ok || got.Value != "7" {
		t.Errorf("%s is %#v, want N 7", m[2], e.Values()[m[2]])
	}
	if e.Update() != nil || e.KeyCondition() != nil {
		t.Error("CondExpr built more than a condition")
	}
}

func TestNotExistsExists(t *testing.T) {
	sc := mustSchema[doc](t)
	for _, tt := range []struct {
		b  expression.ConditionBuilder
		fn string
	}{
		{b: sc.NotExists(), fn: "attribute_not_exists"},
		{b: sc.Exists(), fn: "attribute_exists"},
	} {
		e, err := versioned.CondExpr(tt.b)
		if err != nil {
			t.Fatal(err)
		}
		cond := *e.Condition()
		checkNoRawNames(t, "condition", cond, tt.fn)
		m := regexp.MustCompile(`^` + tt.fn + ` \((#\w+)\)$`).FindStringSubmatch(cond)
		if m == nil {
			t.Fatalf("condition %q, want %s (#name)", cond, tt.fn)
		}
		if got := e.Names()[m[1]]; got != "id" {
			t.Errorf("%s names %q, want the hash key id", m[1], got)
		}
		if len(e.Values()) != 0 {
			t.Errorf("values %v, want none", e.Values())
		}
	}
}

func TestReplace(t *testing.T) {
	sc := mustSchema[doc](t)
	item, err := sc.Marshal(doc{ID: "d", SK: 1, Name: "n", Dotted: "dot", Lock: "l", Version: 3})
	if err != nil {
		t.Fatal(err)
	}
	item["unknown"] = s("kept") // an attribute the type does not know
	e, err := versioned.Expr(sc.Replace(item, "lock"), sc.VersionIs(2))
	if err != nil {
		t.Fatal(err)
	}
	checkNoRawNames(t, "update", *e.Update(), "SET", "REMOVE")
	checkNoRawNames(t, "condition", *e.Condition())

	u := resolveUpdate(t, e)
	want := map[string]types.AttributeValue{"name": s("n"), "a.b": s("dot"), "version": n("3")}
	if !reflect.DeepEqual(u.set, want) {
		t.Errorf("SET %v, want %v", u.set, want)
	}
	if wantRemove := []string{"data", "status"}; !slices.Equal(u.remove, wantRemove) {
		t.Errorf("REMOVE %q, want %q", u.remove, wantRemove)
	}

	// Every name is a whole attribute name: "a.b" is one name, never the
	// path a → b.
	var names []string
	for _, v := range e.Names() {
		names = append(names, v)
	}
	sort.Strings(names)
	if want := []string{"a.b", "data", "name", "status", "version"}; !slices.Equal(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	for _, k := range []string{"id", "sk", "lock", "unknown", "a", "b"} {
		if slices.Contains(names, k) {
			t.Errorf("names hold %q", k)
		}
	}
	for placeholder := range e.Names() {
		if strings.Contains(*e.Update(), placeholder+".") {
			t.Errorf("update %q uses %s as a path", *e.Update(), placeholder)
		}
	}
}

func TestReplaceEmptyItem(t *testing.T) {
	// An item with only its key removes every other known attribute.
	sc := mustSchema[account](t)
	e, err := versioned.Expr(sc.Replace(versioned.Item{"id": s("a")}), sc.NotExists())
	if err != nil {
		t.Fatal(err)
	}
	u := resolveUpdate(t, e)
	if len(u.set) != 0 || !slices.Equal(u.remove, []string{"balance", "owner", "version"}) {
		t.Errorf("SET %v REMOVE %q", u.set, u.remove)
	}
}

func TestReplaceExceptAll(t *testing.T) {
	// With nothing left to update the builder is empty and Expr fails
	// instead of sending an empty update.
	sc := mustSchema[verT[int64]](t)
	if _, err := versioned.Expr(sc.Replace(versioned.Item{"id": s("a")}, "version"), sc.VersionIs(1)); err == nil {
		t.Error("Expr with an empty update succeeded")
	}
}

func TestExprReservedWordsEverywhere(t *testing.T) {
	// The hash key and the version can be reserved words too.
	type reserved struct {
		Key    string `dynamo:"name,hash"`
		Rng    string `dynamo:"data,range"`
		Status int64  `dynamo:"status,version"`
		Size   int    `dynamo:"size"`
	}
	sc := mustSchema[reserved](t)
	item, err := sc.Marshal(reserved{Key: "k", Rng: "r", Status: 2, Size: 5})
	if err != nil {
		t.Fatal(err)
	}
	e, err := versioned.Expr(sc.Replace(item), sc.VersionIs(1).And(sc.Exists()))
	if err != nil {
		t.Fatal(err)
	}
	checkNoRawNames(t, "update", *e.Update(), "SET", "REMOVE")
	checkNoRawNames(t, "condition", *e.Condition(), "AND", "attribute_exists")
	e, err = versioned.CondExpr(sc.NotExists())
	if err != nil {
		t.Fatal(err)
	}
	checkNoRawNames(t, "condition", *e.Condition(), "attribute_not_exists")
}

func TestDiff(t *testing.T) {
	sc := mustSchema[doc](t)
	old, err := sc.Marshal(doc{ID: "d", SK: 1, Name: "n", Status: "on", Dotted: "x", Lock: "l", Version: 3})
	if err != nil {
		t.Fatal(err)
	}
	same, err := sc.Marshal(doc{ID: "d", SK: 1, Name: "n", Status: "on", Dotted: "x", Lock: "l", Version: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, changed := sc.Diff(old, same); changed {
		t.Error("Diff of equal items reports a change")
	}
	item, err := sc.Marshal(doc{ID: "d", SK: 1, Name: "m", Data: []byte{1}, Dotted: "x", Lock: "l", Version: 4})
	if err != nil {
		t.Fatal(err)
	}
	ub, changed := sc.Diff(old, item)
	if !changed {
		t.Fatal("Diff reports no change")
	}
	e, err := versioned.Expr(ub, sc.VersionIs(3))
	if err != nil {
		t.Fatal(err)
	}
	checkNoRawNames(t, "update", *e.Update(), "SET", "REMOVE")
	u := resolveUpdate(t, e)
	want := map[string]types.AttributeValue{"name": s("m"), "data": b(1), "version": n("4")}
	if !reflect.DeepEqual(u.set, want) {
		t.Errorf("SET %v, want %v", u.set, want)
	}
	if !slices.Equal(u.remove, []string{"status"}) {
		t.Errorf("REMOVE %q, want [status]", u.remove)
	}
	// Key attributes are never part of the update.
	old2 := versioned.Item{"id": s("other"), "sk": n("9"), "name": s("m")}
	if _, changed := sc.Diff(old2, versioned.Item{"id": s("d"), "sk": n("1"), "name": s("m")}); changed {
		t.Error("Diff reports a change in the key only")
	}
}

func TestExprErrorWraps(t *testing.T) {
	// An empty condition builder cannot be built.
	_, err := versioned.CondExpr(expression.ConditionBuilder{})
	if err == nil || !strings.HasPrefix(err.Error(), "versioned: build expression: ") {
		t.Errorf("CondExpr(empty) = %v", err)
	}
	var unset expression.UnsetParameterError
	if !errors.As(err, &unset) {
		t.Errorf("CondExpr(empty): %v does not wrap the SDK's error", err)
	}
}
