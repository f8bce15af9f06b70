package versioned

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MaxItemSize is DynamoDB's limit on one item: 400 KB, attribute names
// included.
const MaxItemSize = 400 * 1024

// ItemSize returns the size of item as DynamoDB counts it against the
// 400 KB item limit: the UTF-8 length of every attribute name plus the size
// of its value. Numbers are counted at their upper bound, so the result may
// overestimate by a few bytes per number but never underestimates.
func ItemSize(item Item) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(av types.AttributeValue) int {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// numberSize bounds the stored size of a number: DynamoDB needs about one
// byte per two significant digits plus one, at most 21. Counting every digit
// of the mantissa never underestimates.
func numberSize(s string) int {
	mantissa, _, _ := strings.Cut(strings.ToLower(s), "e")
	digits := 0
	for _, c := range mantissa {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	return min((digits+1)/2+1, 21)
}

// CheckSize returns an error matching [ErrItemTooLarge] if item is over
// [MaxItemSize].
func (s *Schema) CheckSize(item Item) error {
	if n := ItemSize(item); n > MaxItemSize {
		return fmt.Errorf("%w: %s item is %d bytes, over DynamoDB's limit of %d", ErrItemTooLarge, s.typ, n, MaxItemSize)
	}
	return nil
}
