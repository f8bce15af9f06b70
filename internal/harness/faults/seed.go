package faults

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// Stress reports whether the long sizes of the fault suites are asked for
// ($DDBOCC_STRESS=1, set by `make stress`).
func Stress() bool { return os.Getenv("DDBOCC_STRESS") == "1" }

// Sized returns short, or long under [Stress].
func Sized(short, long int) int {
	if Stress() {
		return long
	}
	return short
}

// Seed returns $DDBOCC_SEED, or else a random seed, and logs it with the
// way to replay the run.
func Seed(tb testing.TB) uint64 {
	tb.Helper()
	if s := os.Getenv("DDBOCC_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			tb.Fatalf("DDBOCC_SEED=%q: %v", s, err)
		}
		tb.Logf("seed %d (from DDBOCC_SEED)", n)
		return n
	}
	n := rand.Uint64() >> 1
	tb.Logf("seed %d (replay with DDBOCC_SEED=%d)", n, n)
	return n
}
