package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ddbocc/ddbocc/bench/internal/hotrec"
)

// TestPlotAll draws made-up rounds of a one-process, a four-process and
// two shape c runs, and checks that every file is there.
func TestPlotAll(t *testing.T) {
	var rounds []hotrec.Round
	for _, sh := range []struct {
		id          string
		procs, g, k int
	}{{"a", 1, 16, 1}, {"b", 4, 4, 1}, {"c1", 1, 16, 1}, {"c4", 1, 16, 4}} {
		for r := range 2 {
			for i, c := range []string{"ddbocc", "best"} {
				n := int64(100 * (i + 1) * (r + 1))
				rd := hotrec.Round{Type: "round", Shape: sh.id, ShapeDesc: "test", Procs: sh.procs, Goroutines: sh.g, Keys: sh.k,
					Contender: c, Round: r, Window: 1, Elapsed: 1.1, Commits: n, Requests: 2 * n, Conflicts: n / 2, Stored: n}
				for p := range sh.procs {
					rd.ProcCommits = append(rd.ProcCommits, n/int64(sh.procs)+int64(p))
				}
				for j := range n {
					rd.LatencyUS = append(rd.LatencyUS, 500+j*37)
				}
				rounds = append(rounds, rd)
			}
		}
	}
	dir := t.TempDir()
	files, err := plotAll(hotrec.Meta{Contenders: []string{"ddbocc", "best"}}, rounds, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a-commits.png", "a-requests.png", "a-latency.png", "b-share.png", "c4-latency.png", "c-keys.png"}
	for _, w := range want {
		fi, err := os.Stat(filepath.Join(dir, w))
		if err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", w, err)
		}
	}
	if len(files) != 4*3+1+1 {
		t.Errorf("%d files: %q", len(files), files)
	}
}
