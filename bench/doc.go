// Package bench holds the benchmarks of the lease package against
// repo.Update and a hand-written lock, run against DynamoDB Local. It is a
// separate module so that its dependencies never reach users of ddbocc;
// everything is in _test.go files. See README.md.
package bench
