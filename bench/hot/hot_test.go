package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/bench/internal/hotrec"
	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
)

// childEnv makes the test binary a child of shape b.
const childEnv = "HOT_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := serveChild(context.Background(), os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	ddblocal.RunTests(m)
}

// TestSmoke runs the program's core at a tiny window, so that the
// benchmark keeps building and working; it checks the records, never a
// timing.
func TestSmoke(t *testing.T) {
	cases := []struct{ shapes, contenders string }{
		{"a,b,c,d", "ddbocc,best"},
		{"d", names()},
	}
	for _, c := range cases {
		t.Run(c.shapes+"/"+c.contenders, func(t *testing.T) {
			sh, err := parseShapes(c.shapes)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := parseContenders(c.contenders)
			if err != nil {
				t.Fatal(err)
			}
			var out, log bytes.Buffer
			cfg := config{
				endpoint: ddblocal.Endpoint(t), window: 150 * time.Millisecond, rounds: 1, warmup: 50 * time.Millisecond,
				shapes: sh, contenders: cs, naiveSleep: 5 * time.Millisecond, out: &out, log: &log,
				childCmd: func() *exec.Cmd {
					cmd := exec.Command(os.Args[0], "-test.run=^$")
					cmd.Env = append(os.Environ(), childEnv+"=1")
					return cmd
				},
			}
			recs, err := run(context.Background(), cfg)
			t.Log("\n" + log.String())
			if err != nil {
				t.Fatal(err)
			}
			meta, read, err := hotrec.Read(&out)
			if err != nil {
				t.Fatal(err)
			}
			if want := len(sh) * len(cs); len(recs) != want || len(read) != want || meta.Rounds != 1 {
				t.Fatalf("%d records, %d read back, meta %+v; want %d", len(recs), len(read), meta, want)
			}
			for _, r := range read {
				if r.Commits+r.Late == 0 || r.Requests == 0 || len(r.ProcCommits) != r.Procs ||
					len(r.GoroutineCommits) != r.Procs*r.Goroutines || int64(len(r.LatencyUS)) != r.Commits+r.Late {
					t.Errorf("%s/%s: %+v", r.Shape, r.Contender, r)
				}
				if p := r.Check(); p != "" || r.Failed != 0 {
					t.Errorf("%s/%s: %s, errors %q", r.Shape, r.Contender, p, r.Errors)
				}
			}
			var table bytes.Buffer
			if err := printTable(&table, hotrec.Summarize(read)); err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + table.String())
			if !strings.Contains(table.String(), "allocs/commit") {
				t.Errorf("no allocations column for shape d:\n%s", table.String())
			}
		})
	}
}

func TestParseShapes(t *testing.T) {
	sh, err := parseShapes("a,c,d")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range sh {
		ids = append(ids, s.id)
	}
	if got := strings.Join(ids, ","); got != "a,c1,c4,c16,c64,d" {
		t.Errorf("got %s", got)
	}
	if _, err := parseShapes("e"); err == nil {
		t.Error("shape e accepted")
	}
	if _, err := parseContenders("ddbocc,nope"); err == nil {
		t.Error("contender nope accepted")
	}
}
