// Package bench holds the benchmarks of the lease package against
// repo.Update and a hand-written lock, run against DynamoDB Local, in
// _test.go files. The hot-item benchmark is the program in hot/, and
// hotplot/ draws its results. It is a separate module so that its
// dependencies never reach users of ddbocc. See README.md.
package bench
