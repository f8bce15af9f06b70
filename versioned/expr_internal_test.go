package versioned

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestEqual(t *testing.T) {
	s := func(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) *types.AttributeValueMemberN { return &types.AttributeValueMemberN{Value: v} }
	b := func(v ...byte) *types.AttributeValueMemberB { return &types.AttributeValueMemberB{Value: v} }
	m := func(kv ...any) *types.AttributeValueMemberM {
		v := map[string]types.AttributeValue{}
		for i := 0; i < len(kv); i += 2 {
			v[kv[i].(string)] = kv[i+1].(types.AttributeValue)
		}
		return &types.AttributeValueMemberM{Value: v}
	}
	l := func(v ...types.AttributeValue) *types.AttributeValueMemberL {
		return &types.AttributeValueMemberL{Value: v}
	}
	ss := func(v ...string) *types.AttributeValueMemberSS { return &types.AttributeValueMemberSS{Value: v} }
	ns := func(v ...string) *types.AttributeValueMemberNS { return &types.AttributeValueMemberNS{Value: v} }
	bs := func(v ...[]byte) *types.AttributeValueMemberBS { return &types.AttributeValueMemberBS{Value: v} }
	boolean := func(v bool) *types.AttributeValueMemberBOOL { return &types.AttributeValueMemberBOOL{Value: v} }
	null := &types.AttributeValueMemberNULL{Value: true}
	tests := []struct {
		a, b types.AttributeValue
		want bool
	}{
		{s("a"), s("a"), true},
		{s("a"), s("b"), false},
		{s("1"), n("1"), false},
		{n("1"), n("1"), true},
		{n("1"), n("1.0"), false},
		{b(1, 2), b(1, 2), true},
		{b(1, 2), b(1), false},
		{b(), &types.AttributeValueMemberB{}, true},
		{boolean(true), boolean(true), true},
		{boolean(true), boolean(false), false},
		{null, &types.AttributeValueMemberNULL{Value: true}, true},
		{null, boolean(true), false},
		{ss("a", "b"), ss("b", "a"), true},
		{ss("a", "b"), ss("a", "c"), false},
		{ss("a", "a"), ss("a", "b"), false},
		{ss("a"), ss("a", "b"), false},
		{ns("1", "2"), ns("2", "1"), true},
		{ns("1"), ss("1"), false},
		{bs([]byte{1}, []byte{2}), bs([]byte{2}, []byte{1}), true},
		{bs([]byte{1}), bs([]byte{2}), false},
		{l(s("a"), n("1")), l(s("a"), n("1")), true},
		{l(s("a"), n("1")), l(n("1"), s("a")), false},
		{l(s("a")), l(s("a"), s("a")), false},
		{l(), l(), true},
		{m("k", s("v"), "n", l(n("1"))), m("n", l(n("1")), "k", s("v")), true},
		{m("k", s("v")), m("k", s("w")), false},
		{m("k", s("v")), m("j", s("v")), false},
		{m("k", s("v")), m("k", s("v"), "j", s("v")), false},
		{m(), l(), false},
		{nil, nil, false},
		{s("a"), nil, false},
		{nil, s("a"), false},
	}
	for _, tt := range tests {
		if got := equal(tt.a, tt.b); got != tt.want {
			t.Errorf("equal(%#v, %#v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if tt.a != nil && tt.b != nil {
			if got := equal(tt.b, tt.a); got != tt.want {
				t.Errorf("equal(%#v, %#v) = %v, want %v (not symmetric)", tt.b, tt.a, got, tt.want)
			}
		}
	}
}
