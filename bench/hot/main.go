// Command hot measures increments of hot counters in DynamoDB Local: a
// raw ADD (the limit), ddbocc's Repository.Update with its defaults and
// with combining or local queueing off, the best hand-written
// optimistic loop and the common naive recipe, for fixed time windows, in
// rotating rounds, on several shapes of load. It prints a table per shape
// and writes every window's raw numbers as JSON lines (see
// bench/internal/hotrec) for bench/hotplot. See bench/README.md.
//
//	cd bench && go run ./hot -window 3s -rounds 3 -out results/hot.jsonl
//
// It uses $DYNAMODB_ENDPOINT (or -endpoint), or starts its own DynamoDB
// Local from <repo>/.cache/dynamodb-local.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/ddbocc/ddbocc/bench/internal/hotrec"
	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
)

// childFlag makes the program a child process of shape b (serveChild).
const childFlag = "child"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := mainErr(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hot:", err)
		stop()
		os.Exit(1)
	}
}

func mainErr(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("hot", flag.ContinueOnError)
	var (
		window     = fs.Duration("window", 3*time.Second, "time each contender runs per round and shape")
		rounds     = fs.Int("rounds", 3, "rounds per shape; the contenders' order rotates by one per round")
		warmup     = fs.Duration("warmup", time.Second, "warm-up per contender before the first shape (0: none)")
		shapeList  = fs.String("shapes", "a,b,c,d", "shapes: a (1 proc x 16 g), b (4 procs x 4 g), c (16 g over 1, 4, 16, 64 keys; or c1, c4, c16, c64), d (1 g)")
		contList   = fs.String("contenders", names(), "contenders, comma-separated")
		naiveSleep = fs.Duration("naive-sleep", 5*time.Millisecond, "naive's fixed sleep after a conflict")
		out        = fs.String("out", "results/hot.jsonl", "JSON lines file for every window's raw numbers (\"\": none)")
		endpoint   = fs.String("endpoint", os.Getenv(ddblocal.EnvEndpoint), "DynamoDB Local endpoint (default $"+ddblocal.EnvEndpoint+"; empty: start one)")
		quick      = fs.Bool("quick", false, "smoke-test settings: -window 200ms -rounds 1 -warmup 0 unless given")
		isChild    = fs.Bool(childFlag, false, "internal: serve windows to a parent over stdin/stdout")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *isChild {
		return serveChild(ctx, os.Stdin, os.Stdout)
	}
	if *quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["window"] {
			*window = 200 * time.Millisecond
		}
		if !set["rounds"] {
			*rounds = 1
		}
		if !set["warmup"] {
			*warmup = 0
		}
	}
	if *window <= 0 || *rounds < 1 {
		return fmt.Errorf("-window must be > 0 and -rounds >= 1")
	}
	cfg := config{window: *window, rounds: *rounds, warmup: *warmup, naiveSleep: *naiveSleep, log: os.Stderr}
	var err error
	if cfg.shapes, err = parseShapes(*shapeList); err != nil {
		return err
	}
	if cfg.contenders, err = parseContenders(*contList); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cfg.childCmd = func() *exec.Cmd { return exec.Command(self, "-"+childFlag) }

	if *endpoint != "" {
		os.Setenv(ddblocal.EnvEndpoint, *endpoint) // Start then only checks that it answers
	}
	inst, err := ddblocal.Start(ctx)
	if err != nil {
		return err
	}
	defer inst.Stop()
	cfg.endpoint = inst.Endpoint

	if *out != "" {
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			return err
		}
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		cfg.out = f
	}
	recs, err := run(ctx, cfg)
	if len(recs) > 0 {
		fmt.Println()
		err = errors.Join(err, printTable(os.Stdout, hotrec.Summarize(recs)))
	}
	if f, ok := cfg.out.(*os.File); ok {
		err = errors.Join(err, f.Close())
		if err == nil {
			fmt.Fprintf(os.Stderr, "\nraw numbers: %s (plot: go run ./hotplot -in %s)\n", *out, *out)
		}
	}
	return err
}

func names() string {
	var ns []string
	for _, c := range contenders {
		ns = append(ns, c.name)
	}
	return strings.Join(ns, ",")
}
