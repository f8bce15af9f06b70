package lease

// record is the stored form of a lease, one item per name.
type record struct {
	Name     string `dynamo:"name,hash"`
	Owner    string `dynamo:"owner"`       // "" when free
	Token    int64  `dynamo:"token"`       // version stored by the acquiring write: the fencing token
	Duration int64  `dynamo:"duration_ms"` // the holder's lease duration
	Expires  int64  `dynamo:"expires"`     // epoch seconds: the holder's estimate of its expiry (free: when released); for people and MaxClockSkew
	TTL      int64  `dynamo:"ttl"`         // epoch seconds: RecordTTL after the last write; the table's TTL attribute
	Data     []byte `dynamo:"data,omitempty"`
	Version  int64  `dynamo:"version"` // bumped by every acquire, heartbeat and release
}

// Attribute names of the record, for conditions built by hand.
const (
	attrName  = "name"
	attrOwner = "owner"
	attrToken = "token"
	attrTTL   = "ttl"
)
