package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/bench/internal/hotrec"
	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/repo"
)

// shape is a load: procs processes of goroutines goroutines each, every
// call on one of keys counters picked at random.
type shape struct {
	id                      string
	desc                    string
	procs, goroutines, keys int
}

var shapes = []shape{
	{"a", "1 process x 16 goroutines, 1 key", 1, 16, 1},
	{"b", "4 processes x 4 goroutines, 1 key", 4, 4, 1},
	{"c1", "16 goroutines over 1 key", 1, 16, 1},
	{"c4", "16 goroutines over 4 keys", 1, 16, 4},
	{"c16", "16 goroutines over 16 keys", 1, 16, 16},
	{"c64", "16 goroutines over 64 keys", 1, 16, 64},
	{"d", "1 goroutine, 1 key", 1, 1, 1},
}

// parseShapes reads a comma-separated list of shape ids; "c" is c1, c4,
// c16 and c64.
func parseShapes(s string) ([]shape, error) {
	var out []shape
	for _, id := range strings.Split(s, ",") {
		id = strings.TrimSpace(id)
		n := len(out)
		for _, sh := range shapes {
			if sh.id == id || (id == "c" && strings.HasPrefix(sh.id, "c")) {
				out = append(out, sh)
			}
		}
		if len(out) == n {
			return nil, fmt.Errorf("unknown shape %q (want a, b, c, c1, c4, c16, c64, d)", id)
		}
	}
	return out, nil
}

// parseContenders reads a comma-separated list of contender names.
func parseContenders(s string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if _, ok := contenderNamed(name); !ok {
			return nil, fmt.Errorf("unknown contender %q", name)
		}
		out = append(out, name)
	}
	return out, nil
}

// config is one run.
type config struct {
	endpoint   string
	window     time.Duration
	rounds     int
	warmup     time.Duration // per contender, before the first shape; 0: none
	shapes     []shape
	contenders []string
	naiveSleep time.Duration
	out        io.Writer        // JSON lines; nil: none
	log        io.Writer        // progress, and the children's stderr
	childCmd   func() *exec.Cmd // a child process (serveChild on its stdin and stdout)
}

// run measures every contender on every shape, in rounds with the order of
// the contenders rotated by one per round, on a new table, and returns
// every window's record.
func run(ctx context.Context, cfg config) ([]hotrec.Round, error) {
	cfg.log = &lockedWriter{w: cfg.log} // the children's stderr is copied to it concurrently
	setup := ddblocal.NewClient(cfg.endpoint)
	table := fmt.Sprintf("hot-%d", time.Now().UnixNano())
	items, err := repo.New[item](setup, table)
	if err != nil {
		return nil, err
	}
	if err := items.CreateTable(ctx); err != nil {
		return nil, err
	}
	defer setup.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(table)})

	meta := hotrec.Meta{
		Type: "meta", Run: time.Now().Format(time.RFC3339), Start: time.Now(),
		GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
		Window: cfg.window.Seconds(), Rounds: cfg.rounds, Warmup: cfg.warmup.Seconds(),
		Contenders: cfg.contenders, NaiveSleep: float64(cfg.naiveSleep) / 1e6,
		Table: table, Endpoint: cfg.endpoint,
	}
	for _, sh := range cfg.shapes {
		meta.Shapes = append(meta.Shapes, sh.id)
	}
	if err := emit(cfg.out, meta); err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, items: items, table: table, run: meta.Run}
	if err := b.warmUp(ctx); err != nil {
		return nil, err
	}
	for _, sh := range cfg.shapes {
		if err := b.shape(ctx, sh); err != nil {
			return b.rounds, err
		}
	}
	return b.rounds, nil
}

type bench struct {
	cfg    config
	items  *repo.Repository[item]
	table  string
	run    string
	rounds []hotrec.Round
}

func (b *bench) spec(contender string, goroutines int, keys []string, window time.Duration) windowSpec {
	return windowSpec{Endpoint: b.cfg.endpoint, Table: b.table, Contender: contender, Keys: keys,
		Goroutines: goroutines, Window: window, NaiveSleep: b.cfg.naiveSleep}
}

// warmUp runs every contender for cfg.warmup at 16 goroutines on one key:
// DynamoDB Local's JIT otherwise slows down whoever runs first.
func (b *bench) warmUp(ctx context.Context) error {
	if b.cfg.warmup <= 0 {
		return nil
	}
	for _, c := range b.cfg.contenders {
		keys, err := b.createKeys(ctx, "warm/"+c, 1)
		if err != nil {
			return err
		}
		w, err := prepare(ctx, b.spec(c, 16, keys, b.cfg.warmup))
		if err != nil {
			return err
		}
		res := w.run(ctx)
		fmt.Fprintf(b.cfg.log, "warm-up %-9s %6.0f commits/s\n", c, float64(res.Commits+res.Late)/res.Elapsed)
	}
	return ctx.Err()
}

// shape runs all rounds of one shape.
func (b *bench) shape(ctx context.Context, sh shape) (err error) {
	var children []*child
	if sh.procs > 1 {
		if children, err = startChildren(sh.procs, b.cfg.childCmd, b.cfg.log); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, stopChildren(children)) }()
	}
	n := len(b.cfg.contenders)
	for r := range b.cfg.rounds {
		for slot := range n {
			name := b.cfg.contenders[(slot+r)%n]
			keys, err := b.createKeys(ctx, fmt.Sprintf("%s/%s/r%d", sh.id, name, r), sh.keys)
			if err != nil {
				return err
			}
			spec := b.spec(name, sh.goroutines, keys, b.cfg.window)
			var res []procResult
			if children != nil {
				if res, err = runChildren(children, spec); err != nil {
					return err
				}
			} else {
				w, err := prepare(ctx, spec)
				if err != nil {
					return err
				}
				res = []procResult{w.run(ctx)}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			rec := record(sh, name, r, slot, b.cfg.window, res)
			rec.Run = b.run
			if rec.Stored, err = b.sum(ctx, keys); err != nil {
				return err
			}
			b.rounds = append(b.rounds, rec)
			if err := emit(b.cfg.out, rec); err != nil {
				return err
			}
			check := "ok"
			if p := rec.Check(); p != "" {
				check = "BAD: " + p
			}
			fmt.Fprintf(b.cfg.log, "%-3s round %d %-9s %6d commits %6.0f/s %5.2f req/commit %3d failed  %s\n",
				sh.id, r, name, rec.Commits, rec.Rate(), float64(rec.Requests)/float64(rec.Commits+rec.Late), rec.Failed, check)
		}
	}
	return nil
}

// createKeys creates n counters at 0 named after prefix.
func (b *bench) createKeys(ctx context.Context, prefix string, n int) ([]string, error) {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s/k%d", prefix, i)
		if _, err := b.items.Create(ctx, item{ID: keys[i]}); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// sum returns the sum of the counters under keys.
func (b *bench) sum(ctx context.Context, keys []string) (int64, error) {
	var s int64
	for _, k := range keys {
		it, err := b.items.Get(ctx, repo.Key(k))
		if err != nil {
			return 0, err
		}
		s += it.N
	}
	return s, nil
}

// record sums the processes' results of one window.
func record(sh shape, contender string, round, slot int, window time.Duration, res []procResult) hotrec.Round {
	rec := hotrec.Round{
		Type: "round", Shape: sh.id, ShapeDesc: sh.desc, Procs: sh.procs, Goroutines: sh.goroutines, Keys: sh.keys,
		Contender: contender, Round: round, Slot: slot, Window: window.Seconds(),
		RequestsByOp: map[string]int64{},
	}
	for _, p := range res {
		rec.Elapsed = max(rec.Elapsed, p.Elapsed)
		rec.Commits += p.Commits
		rec.Late += p.Late
		rec.Failed += p.Failed
		rec.Requests += p.Requests
		rec.Conflicts += p.Conflicts
		rec.Mallocs += p.Mallocs
		for op, n := range p.ByOp {
			rec.RequestsByOp[op] += n
		}
		rec.ProcCommits = append(rec.ProcCommits, p.Commits)
		rec.GoroutineCommits = append(rec.GoroutineCommits, p.GoroutineCommits...)
		rec.LatencyUS = append(rec.LatencyUS, p.LatencyUS...)
		rec.Errors = append(rec.Errors, p.Errors...)
	}
	rec.Errors = rec.Errors[:min(len(rec.Errors), 5)]
	slices.Sort(rec.LatencyUS)
	return rec
}

// emit writes v as one JSON line to w, if w is not nil.
func emit(w io.Writer, v any) error {
	if w == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
