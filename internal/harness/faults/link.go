package faults

import (
	"net/http"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Link is an [http.RoundTripper] for a test that must break the link to
// DynamoDB at chosen moments, for as long as it likes (a [Transport] draws
// its faults, or takes them from a script, one request at a time):
//
//   - [Link.SetDown] cuts the link: every request fails at once with a
//     reset connection, unsent, until the link is up again;
//   - [Link.DropWrites] loses the responses of the next n writes
//     (PutItem, UpdateItem, DeleteItem) after DynamoDB applied them, the
//     ambiguous case; after each lost response the next ReadsAfterDrop
//     GetItem calls fail unsent, so that the read that would tell the
//     write's outcome fails too.
//
// The errors it returns match [ErrInjected]. It is safe for concurrent use.
type Link struct {
	// ReadsAfterDrop is how many GetItem calls fail after each lost
	// response. Set it before first use.
	ReadsAfterDrop int64

	next    http.RoundTripper
	down    atomic.Bool
	drops   atomic.Int64 // write responses still to lose
	reads   atomic.Int64 // GetItem calls still to fail
	dropped atomic.Int64
	writes  atomic.Int64
}

// NewLink returns a Link in front of next (nil: a clone of
// http.DefaultTransport, as for [New]), with no fault ordered.
func NewLink(next http.RoundTripper) *Link {
	if next == nil {
		next = defaultNext
	}
	return &Link{next: next}
}

// Option returns a dynamodb client option that sends the client's requests
// through l.
func (l *Link) Option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: l} }
}

// SetDown cuts the link (true) or restores it (false).
func (l *Link) SetDown(down bool) { l.down.Store(down) }

// DropWrites loses the responses of the next n writes, replacing any
// number still ordered.
func (l *Link) DropWrites(n int) { l.drops.Store(int64(n)) }

// Dropped returns the number of responses lost so far.
func (l *Link) Dropped() int64 { return l.dropped.Load() }

// Writes returns the number of writes forwarded so far.
func (l *Link) Writes() int64 { return l.writes.Load() }

// ReadsToFail returns the number of GetItem calls still to fail.
func (l *Link) ReadsToFail() int64 { return l.reads.Load() }

// RoundTrip implements [http.RoundTripper].
func (l *Link) RoundTrip(req *http.Request) (*http.Response, error) {
	op := Operation(req)
	if l.down.Load() || (op == "GetItem" && takeOne(&l.reads)) {
		closeBody(req)
		return nil, resetError("write")
	}
	resp, err := l.next.RoundTrip(req)
	if op != "PutItem" && op != "UpdateItem" && op != "DeleteItem" {
		return resp, err
	}
	l.writes.Add(1)
	if err != nil || !takeOne(&l.drops) {
		return resp, err
	}
	discard(resp)
	l.dropped.Add(1)
	l.reads.Store(l.ReadsAfterDrop)
	return nil, resetError("read")
}

// takeOne decrements n if it is positive, and reports whether it did.
func takeOne(n *atomic.Int64) bool {
	for {
		v := n.Load()
		if v <= 0 {
			return false
		}
		if n.CompareAndSwap(v, v-1) {
			return true
		}
	}
}
