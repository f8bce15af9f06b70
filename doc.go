// Package ddbocc is a toolkit for safe concurrent writes to Amazon DynamoDB.
//
// The work is done by its sub-packages:
//
//   - [github.com/ddbocc/ddbocc/versioned]: the item model (struct tags, versions, expressions).
//   - [github.com/ddbocc/ddbocc/retry]: retry policies and error classification.
//   - [github.com/ddbocc/ddbocc/repo]: Repository[T] with optimistic, version-checked writes,
//     and transactions over several repositories and tables.
//   - [github.com/ddbocc/ddbocc/lease]: pessimistic leases on the same primitive: acquire,
//     heartbeat, release, takeover, fencing tokens, lease-guarded writes, run-once jobs.
package ddbocc
