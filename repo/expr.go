package repo

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// exprBuf writes the expressions of a save directly, with a placeholder
// for every name and value: the hot path's update and condition, without
// the SDK expression builder's trees (about a hundred allocations a
// write). Names never split at dots, so reserved words and "a.b" work.
type exprBuf struct {
	names       map[string]string // placeholder -> name
	byName      map[string]string // name -> placeholder
	values      map[string]types.AttributeValue
	set, remove strings.Builder
}

func newExprBuf() *exprBuf {
	return &exprBuf{names: map[string]string{}, byName: map[string]string{}, values: map[string]types.AttributeValue{}}
}

// name returns the placeholder of attribute or map key n.
func (e *exprBuf) name(n string) string {
	if ph, ok := e.byName[n]; ok {
		return ph
	}
	ph := "#" + strconv.Itoa(len(e.names))
	e.names[ph], e.byName[n] = n, ph
	return ph
}

// path returns the placeholder path of attr, or of key k in the map attr.
func (e *exprBuf) path(attr string, k ...string) string {
	p := e.name(attr)
	for _, x := range k {
		p += "." + e.name(x)
	}
	return p
}

// value returns the placeholder of v.
func (e *exprBuf) value(v types.AttributeValue) string {
	ph := ":" + strconv.Itoa(len(e.values))
	e.values[ph] = v
	return ph
}

// setTo adds "path = value" to the SET clause.
func (e *exprBuf) setTo(path string, v types.AttributeValue) {
	if e.set.Len() > 0 {
		e.set.WriteString(", ")
	}
	e.set.WriteString(path)
	e.set.WriteString(" = ")
	e.set.WriteString(e.value(v))
}

// drop adds path to the REMOVE clause.
func (e *exprBuf) drop(path string) {
	if e.remove.Len() > 0 {
		e.remove.WriteString(", ")
	}
	e.remove.WriteString(path)
}

// update is the update expression: its SET and REMOVE clauses.
func (e *exprBuf) update() string {
	var b strings.Builder
	if e.set.Len() > 0 {
		b.WriteString("SET ")
		b.WriteString(e.set.String())
	}
	if e.remove.Len() > 0 {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString("REMOVE ")
		b.WriteString(e.remove.String())
	}
	return b.String()
}

// equals is the condition "path = v".
func (e *exprBuf) equals(path string, v types.AttributeValue) string {
	return path + " = " + e.value(v)
}
