package repo

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// SetUnsafeNoWriteIDs switches the no-double-apply mechanism off for a
// repository or a call: no write ids are stored, the SDK retries writes
// itself, and a write whose response was lost is re-read and re-applied as
// a naive loop would. Only the fault tests use it, to show that they catch
// double applies.
func SetUnsafeNoWriteIDs(o *Options) { o.rules = noWriteIDs{} }

// SetUnsafeForgetLostWrites makes a call forget a write whose response was
// lost as soon as the item still shows the write's base version, as the
// library did before late deliveries were handled: a request that lands
// after that is then applied on top of a second write. Only the late-write
// tests use it, to show that they catch the double applies.
func SetUnsafeForgetLostWrites(o *Options) { o.rules = forgetLostWrites{} }

// noWriteIDs: a naive loop.
type noWriteIDs struct{}

func (noWriteIDs) writeID() string                  { return "" }
func (noWriteIDs) requestOptions(*dynamodb.Options) {}
func (noWriteIDs) remember() bool                   { return false }
func (noWriteIDs) resend(writeKind) bool            { return false }
func (noWriteIDs) fate(f fate, _ writeKind) fate    { return f }
func (noWriteIDs) trustStale() bool                 { return false }

// SetUnsafeTrustStale makes a call return a decision that writes nothing
// (fn failed or said NoChange) on a handed-on or kept item without reading
// it: on an item another process has changed since, the decision is not
// one fn would make on the current item. Only the kept-item tests use it,
// to show that they catch it.
func SetUnsafeTrustStale(o *Options) { o.rules = trustStale{} }

// trustStale: decisions on stale items stand.
type trustStale struct{ keepLostWrites }

func (trustStale) trustStale() bool { return true }

// forgetLostWrites: "still at the base version" taken as "failed".
type forgetLostWrites struct{ keepLostWrites }

func (forgetLostWrites) resend(writeKind) bool { return false }
func (forgetLostWrites) fate(f fate, k writeKind) fate {
	if f == notYet && k == kindSave {
		return dead
	}
	return f
}
