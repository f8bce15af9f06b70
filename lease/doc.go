// Package lease provides pessimistic leases (locks with heartbeats) on
// DynamoDB, built on the versioned write of package repo: a lease record is a
// versioned item; acquiring, renewing and releasing it are versioned writes;
// the version stored at acquisition is the fencing token.
//
// A waiter takes over a record held by another owner only after it has seen
// the record's version unchanged for a full lease duration on its own
// monotonic clock. A held [Lease] is shaped like etcd's concurrency.Session:
// it owns one heartbeat goroutine and one context. A lease that cannot renew
// before its safe time, or finds itself replaced, is lost: its Context is
// cancelled and Err says why. Release cancels the context, waits for the
// heartbeat and marks the record free.
//
// Time comes from one [retry.Clock] (Options.Clock), for both the durations
// measured and the wall times stored in records, so tests control all of it.
// The decisions (take, wait or take over; what a write's result calls for)
// are pure functions of what was seen, in decide.go.
package lease
