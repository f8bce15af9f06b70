package versioned

import (
	"errors"
	"fmt"
)

var (
	// ErrSchema is matched by every [*SchemaError] with errors.Is.
	ErrSchema = errors.New("versioned: invalid schema")
	// ErrVersionOverflow is returned when the next version does not fit the
	// version field's type. Versions never wrap around.
	ErrVersionOverflow = errors.New("versioned: version overflow")
	// ErrInvalidKey is returned for a key value of the wrong type, a missing
	// or surplus range value, or an empty key.
	ErrInvalidKey = errors.New("versioned: invalid key")
	// ErrItemTooLarge is returned for an item over DynamoDB's 400 KB limit.
	ErrItemTooLarge = errors.New("versioned: item too large")
	// ErrBadItem is returned when a stored item cannot be decoded into the
	// type, or lacks its key or version attribute.
	ErrBadItem = errors.New("versioned: bad stored item")
)

// SchemaError says why a type cannot be used as a versioned item. It names
// the Go type and, where one is at fault, the field. errors.Is(err,
// [ErrSchema]) matches it.
type SchemaError struct {
	Type   string // the Go type, e.g. "main.Account"
	Field  string // the Go field path, e.g. "Base.ID"; empty when the type as a whole is at fault
	Reason string
}

// Error implements error.
func (e *SchemaError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("versioned: type %s: %s", e.Type, e.Reason)
	}
	return fmt.Sprintf("versioned: type %s, field %s: %s", e.Type, e.Field, e.Reason)
}

// Is reports whether target is [ErrSchema].
func (e *SchemaError) Is(target error) bool { return target == ErrSchema }
