// Package lease provides pessimistic leases (locks with heartbeats) on
// DynamoDB, built on the versioned write of package repo: a lease record is a
// versioned item; acquiring, renewing and releasing it are versioned writes;
// the version stored at acquisition is the fencing token.
//
// A waiter takes over a record held by another owner only after it has seen
// the record's version unchanged for a full lease duration on its own
// monotonic clock. A held lease runs one heartbeat goroutine; a lease that
// cannot renew before its safe time, or finds itself replaced, is lost:
// Done closes, Context is cancelled and Err says why.
package lease
