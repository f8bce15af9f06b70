package repo

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/versioned"
)

// Page is one page of a query or scan: [Repository.QueryPage],
// [Repository.ScanPage] and their Partial forms. It is a plain value.
type Page[T any] struct {
	// Items are the page's items, in the order DynamoDB returned them.
	Items []T
	// Next is the cursor of the following page: pass it to the same call
	// with the same arguments to go on. It is "" after the last page. A
	// page can be empty and still have a Next (a filter dropped every item
	// read), and the last page can be empty.
	Next string
	// ConsumedCapacity is the read capacity the page's requests consumed,
	// as DynamoDB reported it (ReturnConsumedCapacity TOTAL).
	ConsumedCapacity float64
}

// Stats add up what the requests of one query, count or scan read and
// cost. Point QueryOptions.Stats or ScanOptions.Stats at one to have the
// call add to it; it is only written by the goroutine that called (or
// ranges over the iterator), after each page is answered, so read it after
// the call or the loop. A Stats is not safe for concurrent use.
type Stats struct {
	// Requests is the number of requests answered (a request re-sent after
	// a transient error counts once).
	Requests int
	// Items is the number of items DynamoDB returned (after the filter),
	// including those of a page the caller stopped reading.
	Items int64
	// Scanned is the number of items DynamoDB read (before the filter).
	Scanned int64
	// ConsumedCapacity is the read capacity units consumed, as DynamoDB
	// reports it (ReturnConsumedCapacity TOTAL): table and indexes.
	ConsumedCapacity float64
}

func (s *Stats) add(count, scanned int32, cc *types.ConsumedCapacity) float64 {
	units := total(cc)
	if s != nil {
		s.Requests++
		s.Items += int64(count)
		s.Scanned += int64(scanned)
		s.ConsumedCapacity += units
	}
	return units
}

// CursorReason says why a cursor was refused; see [CursorError].
type CursorReason string

// The reasons for refusing a cursor.
const (
	// CursorMalformed: not a cursor of this library (bad encoding, unknown
	// version, a key that is not the table's or index's).
	CursorMalformed CursorReason = "malformed"
	// CursorTampered: the cursor was changed after it was made (its
	// checksum does not match).
	CursorTampered CursorReason = "tampered"
	// CursorOtherTable: made by a read of another table.
	CursorOtherTable CursorReason = "another table"
	// CursorOtherIndex: made by a read of another index (or of the table
	// for an index read, or the other way round).
	CursorOtherIndex CursorReason = "another index"
	// CursorOtherOperation: made by a Scan for a Query or the other way
	// round, or by a scan of another segment.
	CursorOtherOperation CursorReason = "another operation"
	// CursorOtherQuery: made by a read with another hash value, range
	// condition, filter, projection or order.
	CursorOtherQuery CursorReason = "another query"
)

// CursorError is the typed form of [ErrInvalidCursor]: a page call was
// given a cursor that its own arguments did not make. It matches
// [ErrInvalidCursor] and [ErrInvalidArgument]; it is found before any
// request is sent.
type CursorError struct {
	Reason CursorReason
	// Detail says what differs, e.g. the two table names.
	Detail string
}

// Error implements error.
func (e *CursorError) Error() string {
	return fmt.Sprintf("%s: %s: %s", ErrInvalidCursor, e.Reason, e.Detail)
}

// Is matches [ErrInvalidCursor] and [ErrInvalidArgument].
func (e *CursorError) Is(target error) bool {
	return target == ErrInvalidCursor || target == ErrInvalidArgument
}

// cursorVersion is the format of the cursors made now.
const cursorVersion = 1

// binding is what a cursor is bound to: the read that made it.
type binding struct {
	op       string // "Query" or "Scan"
	table    string
	index    string
	segment  int // scans: the segment and the number of segments
	segments int
	query    string // hex of the digest of the read's expressions
	keys     map[string]types.ScalarAttributeType
}

// cursorBody is a cursor's JSON.
type cursorBody struct {
	V        int                   `json:"v"`
	Op       string                `json:"op"`
	Table    string                `json:"t"`
	Index    string                `json:"i,omitempty"`
	Segment  int                   `json:"s,omitempty"`
	Segments int                   `json:"n,omitempty"`
	Query    string                `json:"q"`
	Key      map[string]cursorAttr `json:"k"`
}

// cursorAttr is one key attribute; exactly one field is set.
type cursorAttr struct {
	S *string `json:"S,omitempty"`
	N *string `json:"N,omitempty"`
	B []byte  `json:"B,omitempty"`
}

// cursorSumLen is how many bytes of SHA-256 a cursor's checksum keeps.
const cursorSumLen = 12

// encode makes the cursor for key, LastEvaluatedKey of a read bound to b;
// "" for an empty key (the end).
func (b *binding) encode(key map[string]types.AttributeValue) (string, error) {
	if len(key) == 0 {
		return "", nil
	}
	body := cursorBody{V: cursorVersion, Op: b.op, Table: b.table, Index: b.index,
		Segment: b.segment, Segments: b.segments, Query: b.query, Key: make(map[string]cursorAttr, len(key))}
	for name, av := range key {
		switch v := av.(type) {
		case *types.AttributeValueMemberS:
			body.Key[name] = cursorAttr{S: aws.String(v.Value)}
		case *types.AttributeValueMemberN:
			body.Key[name] = cursorAttr{N: aws.String(v.Value)}
		case *types.AttributeValueMemberB:
			body.Key[name] = cursorAttr{B: v.Value}
		default:
			return "", fmt.Errorf("repo: table %s: LastEvaluatedKey attribute %q has type %T", b.table, name, av)
		}
	}
	js, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("repo: encode cursor: %w", err)
	}
	sum := sha256.Sum256(js)
	return base64.RawURLEncoding.EncodeToString(js) + "." + base64.RawURLEncoding.EncodeToString(sum[:cursorSumLen]), nil
}

// decode checks that cursor was made by a read bound to b and returns its
// key, the ExclusiveStartKey; nil for "".
func (b *binding) decode(cursor string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	bad := func(r CursorReason, format string, args ...any) error {
		return &CursorError{Reason: r, Detail: fmt.Sprintf(format, args...)}
	}
	payload, sum, ok := strings.Cut(cursor, ".")
	if !ok {
		return nil, bad(CursorMalformed, "no checksum")
	}
	js, err1 := base64.RawURLEncoding.DecodeString(payload)
	got, err2 := base64.RawURLEncoding.DecodeString(sum)
	if err1 != nil || err2 != nil {
		return nil, bad(CursorMalformed, "not base64url")
	}
	want := sha256.Sum256(js)
	if !bytes.Equal(got, want[:cursorSumLen]) {
		return nil, bad(CursorTampered, "checksum mismatch")
	}
	var body cursorBody
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return nil, bad(CursorMalformed, "%v", err)
	}
	switch {
	case body.V != cursorVersion:
		return nil, bad(CursorMalformed, "format version %d, want %d", body.V, cursorVersion)
	case body.Table != b.table:
		return nil, bad(CursorOtherTable, "made for table %q, used on table %q", body.Table, b.table)
	case body.Index != b.index:
		return nil, bad(CursorOtherIndex, "made for %s, used on %s", indexWords(body.Index), indexWords(b.index))
	case body.Op != b.op:
		return nil, bad(CursorOtherOperation, "made by a %s, used for a %s", body.Op, b.op)
	case body.Segment != b.segment || body.Segments != b.segments:
		return nil, bad(CursorOtherOperation, "made for segment %d of %d, used for segment %d of %d", body.Segment, body.Segments, b.segment, b.segments)
	case body.Query != b.query:
		return nil, bad(CursorOtherQuery, "made by a %s with another hash value, range condition, filter, projection or order", b.op)
	}
	if len(body.Key) != len(b.keys) {
		return nil, bad(CursorMalformed, "key has %d attributes, want %d", len(body.Key), len(b.keys))
	}
	key := make(map[string]types.AttributeValue, len(body.Key))
	for name, a := range body.Key {
		typ, ok := b.keys[name]
		var av types.AttributeValue
		switch {
		case !ok:
			return nil, bad(CursorMalformed, "%q is not a key attribute", name)
		case a.S != nil && a.N == nil && a.B == nil && typ == types.ScalarAttributeTypeS:
			av = &types.AttributeValueMemberS{Value: *a.S}
		case a.N != nil && a.S == nil && a.B == nil && typ == types.ScalarAttributeTypeN:
			av = &types.AttributeValueMemberN{Value: *a.N}
		case a.B != nil && a.S == nil && a.N == nil && typ == types.ScalarAttributeTypeB:
			av = &types.AttributeValueMemberB{Value: a.B}
		default:
			return nil, bad(CursorMalformed, "key attribute %q is not a %s", name, typ)
		}
		key[name] = av
	}
	return key, nil
}

func indexWords(index string) string {
	if index == "" {
		return "the table"
	}
	return fmt.Sprintf("index %q", index)
}

// bindingOf builds the binding of a read of r's table, from the request's
// expressions: the digest covers the key condition (hash value and range
// condition), filter, projection and order.
func (r *Repository[T]) bindingOf(op string, ix *versioned.Index, segment, segments int,
	keyCond, filter, proj *string, names map[string]string, values map[string]types.AttributeValue, forward bool) *binding {
	h := sha256.New()
	str := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	str(op)
	str(r.table)
	b := &binding{op: op, table: r.table, segment: segment, segments: segments,
		keys: map[string]types.ScalarAttributeType{r.schema.HashAttr(): r.schema.HashType()}}
	if r.schema.HasRange() {
		b.keys[r.schema.RangeAttr()] = r.schema.RangeType()
	}
	if ix != nil {
		b.index = ix.Name
		b.keys[ix.HashAttr] = ix.HashType
		if ix.HasRange() {
			b.keys[ix.RangeAttr] = ix.RangeType
		}
	}
	str(b.index)
	str(fmt.Sprint(segment, "/", segments, "/", forward))
	str(aws.ToString(keyCond))
	str(aws.ToString(filter))
	str(aws.ToString(proj))
	for _, k := range slices.Sorted(maps.Keys(names)) {
		str(k)
		str(names[k])
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		str(k)
		writeAV(str, values[k])
	}
	b.query = fmt.Sprintf("%x", h.Sum(nil)[:16])
	return b
}

// writeAV writes a canonical form of av (sets and maps in sorted order).
func writeAV(str func(string), av types.AttributeValue) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		str("S")
		str(v.Value)
	case *types.AttributeValueMemberN:
		str("N")
		str(v.Value)
	case *types.AttributeValueMemberB:
		str("B")
		str(string(v.Value))
	case *types.AttributeValueMemberBOOL:
		str(fmt.Sprint("BOOL", v.Value))
	case *types.AttributeValueMemberNULL:
		str("NULL")
	case *types.AttributeValueMemberSS:
		str(fmt.Sprint("SS", len(v.Value)))
		for _, s := range slices.Sorted(slices.Values(v.Value)) {
			str(s)
		}
	case *types.AttributeValueMemberNS:
		str(fmt.Sprint("NS", len(v.Value)))
		for _, s := range slices.Sorted(slices.Values(v.Value)) {
			str(s)
		}
	case *types.AttributeValueMemberBS:
		bs := make([]string, len(v.Value))
		for i, b := range v.Value {
			bs[i] = string(b)
		}
		slices.Sort(bs)
		str(fmt.Sprint("BS", len(bs)))
		for _, s := range bs {
			str(s)
		}
	case *types.AttributeValueMemberL:
		str(fmt.Sprint("L", len(v.Value)))
		for _, e := range v.Value {
			writeAV(str, e)
		}
	case *types.AttributeValueMemberM:
		str(fmt.Sprint("M", len(v.Value)))
		for _, k := range slices.Sorted(maps.Keys(v.Value)) {
			str(k)
			writeAV(str, v.Value[k])
		}
	default:
		str(fmt.Sprintf("%T", av))
	}
}

// queryBinding is bindingOf for a query input.
func (r *Repository[T]) queryBinding(ix *versioned.Index, in *dynamodb.QueryInput) *binding {
	return r.bindingOf("Query", ix, 0, 0, in.KeyConditionExpression, in.FilterExpression, in.ProjectionExpression,
		in.ExpressionAttributeNames, in.ExpressionAttributeValues, aws.ToBool(in.ScanIndexForward))
}

// scanBinding is bindingOf for a scan input of one segment.
func (r *Repository[T]) scanBinding(ix *versioned.Index, in *dynamodb.ScanInput) *binding {
	return r.bindingOf("Scan", ix, int(aws.ToInt32(in.Segment)), int(aws.ToInt32(in.TotalSegments)), nil, in.FilterExpression, in.ProjectionExpression,
		in.ExpressionAttributeNames, in.ExpressionAttributeValues, true)
}
