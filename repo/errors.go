package repo

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/retry"
)

var (
	// ErrNotFound: no item is stored under the key.
	ErrNotFound = errors.New("repo: not found")
	// ErrAlreadyExists: Create found an item under the key.
	ErrAlreadyExists = errors.New("repo: already exists")
	// ErrConflict: the stored version is not the one the write was based
	// on. A [*ConflictError] carries the data.
	ErrConflict = errors.New("repo: conflict")
	// ErrOutcomeUnknown: a write may or may not have been stored: its
	// answer was lost and the item could not tell, or it has not landed
	// yet but still may. A request can reach DynamoDB up to five minutes
	// (the signing window, plus the client's clock error) after it was
	// sent. The call did not re-apply the change; read the item after that
	// to find out. The error wraps the cause when there is one.
	ErrOutcomeUnknown = errors.New("repo: outcome unknown")
	// ErrTableNotFound: the table does not exist. The error names it.
	ErrTableNotFound = errors.New("repo: table not found")
	// ErrInvalidArgument: a bad argument (nil client, empty table name, nil
	// fn, a key of the wrong type, a changed key, a bad option). No request
	// was sent.
	ErrInvalidArgument = errors.New("repo: invalid argument")
	// ErrTableMismatch: the table has another key schema than the item
	// type (found by CreateTable, or by DynamoDB refusing a key).
	ErrTableMismatch = errors.New("repo: table key schema mismatch")
)

// NoChange is returned by an Update function to say that the item needs no
// write: Update then returns the current item and a nil error, like
// fs.SkipDir for a walk.
//
//lint:ignore ST1012 a signal, not a failure, named like fs.SkipDir
var NoChange = errors.New("repo: no change")

// ConflictError is the typed form of [ErrConflict], and for a create (an
// Expected version of 0) of [ErrAlreadyExists]: the write was conditioned on version Expected and the
// table holds version Actual. Current is the stored item, decoded from the
// failed write's ALL_OLD response, so no extra read is needed to see it.
type ConflictError[T any] struct {
	Table    string
	Key      map[string]types.AttributeValue
	Expected int64 // the version the write expected; 0 for a create, or a write on an item without a version
	Actual   int64 // the stored version
	Current  T     // the stored item
	// versionless: Expected 0 was not a create but a write on a stored
	// item without a version (adopt.go), or an Upsert's create: a conflict.
	versionless bool
}

// Error implements error.
func (e *ConflictError[T]) Error() string {
	if e.Expected == 0 && !e.versionless {
		return fmt.Sprintf("repo: %s %s already exists at version %d", e.Table, FormatKey(e.Key), e.Actual)
	}
	return fmt.Sprintf("repo: conflict on %s %s: expected version %d, found %d", e.Table, FormatKey(e.Key), e.Expected, e.Actual)
}

// Is matches [ErrConflict], or [ErrAlreadyExists] for a failed create.
func (e *ConflictError[T]) Is(target error) bool {
	if e.Expected == 0 && !e.versionless {
		return target == ErrAlreadyExists
	}
	return target == ErrConflict
}

// RetryClass marks a conflict for [retry.Classify].
func (e *ConflictError[T]) RetryClass() retry.Class { return retry.Conflict }

// FormatKey renders a key for messages: {id: "a1", sk: 3}.
func FormatKey(key map[string]types.AttributeValue) string {
	names := make([]string, 0, len(key))
	for k := range key {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		switch v := key[k].(type) {
		case *types.AttributeValueMemberS:
			fmt.Fprintf(&b, "%q", v.Value)
		case *types.AttributeValueMemberN:
			b.WriteString(v.Value)
		case *types.AttributeValueMemberB:
			fmt.Fprintf(&b, "0x%x", v.Value)
		default:
			fmt.Fprintf(&b, "%T", v)
		}
	}
	b.WriteByte('}')
	return b.String()
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}

// ErrNotSent: a write of [Repository.SaveAll] was not sent, because ctx was
// done before its turn; nothing of it is stored and it may be sent again.
// The error also matches ctx's error.
var ErrNotSent = errors.New("repo: not sent")

// ErrInvalidCursor: a page call was given a cursor that a read with its
// own arguments did not make (another table, index, operation or query), or
// one that was changed or is not a cursor at all. A [*CursorError] says
// which; it also matches [ErrInvalidArgument]. No request was sent.
var ErrInvalidCursor = errors.New("repo: invalid cursor")
