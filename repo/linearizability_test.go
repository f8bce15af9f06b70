package repo_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/repo"
)

// The linearizability check of issue 5. Clients in this process and in
// child processes (this test binary re-executed with DDBOCC_LIN_CHILD set)
// run Get, Update (add a random amount), Create and Delete (by version,
// after a Get) on three keys through the fault injector, each with one
// Repository per process (so local queueing is on). Every call is recorded
// with its call and return time (time.Now().UnixNano(), one clock for all
// processes of one machine) and checked by porcupine against a sequential
// model of one item per key.
//
// A call that returned ErrOutcomeUnknown may or may not have happened: the
// model lets it either take effect or not. It keeps its own return time
// rather than staying open until the end of the run: the fault injector
// never leaves a request in flight when a call returns (a dropped response
// is read in full before the error; other faults are answered without
// forwarding), so whatever the call did, it did before it returned. Open
// until the end, a few dozen unknown calls in a run of thousands made the
// search blow up (minutes, gigabytes). A call that failed otherwise (a Get
// whose reads all failed, say) wrote nothing and is left out.

const (
	linChildEnv = "DDBOCC_LIN_CHILD" // set in a child: its config, as JSON
	linKeys     = 3
)

// linConfig is what the parent tells a child.
type linConfig struct {
	Table    string
	Out      string // JSON lines of linOp
	Seed     uint64
	Deadline int64 // unix nanoseconds: stop starting calls
	Workers  int
	Client0  int // client id of the first worker
	Faults   faults.Config
	// UnsafeNoWriteIDs switches the write ids off (repo.SetUnsafeNoWriteIDs).
	UnsafeNoWriteIDs bool
	// UnsafeTrustStale trusts decisions on stale items
	// (repo.SetUnsafeTrustStale).
	UnsafeTrustStale bool
}

// linOp is one recorded call.
type linOp struct {
	Client int    `json:"c"`
	Kind   string `json:"k"` // get, update, capped, create, delete
	Key    int    `json:"key"`
	Arg    int64  `json:"arg"` // update, capped: amount; create: value; delete: version
	Call   int64  `json:"call"`
	Return int64  `json:"ret"`
	// Status: ok, notfound, exists, conflict, refused (capped), unknown.
	Status  string `json:"st"`
	Value   int64  `json:"v"`
	Version int64  `json:"ver"`
	// Ambiguous: a fault made this call's delete or create request
	// ambiguous; see linStep.
	Ambiguous bool `json:"amb,omitempty"`
}

type linState struct {
	exists         bool
	value, version int64
}

// linStep is the sequential model of one key. Get returns the item; Update
// adds to an existing item and bumps its version, or is NotFound; a capped
// Update (linCapped) decides on the item: it returns it unchanged
// (NoChange) at linCap or more, refuses on a multiple of 5, and adds
// otherwise, so a decision made on a stale item shows; Create
// succeeds iff there is no item; Delete(version) succeeds iff the item is
// there at that version, is a conflict at another version, NotFound if
// there is none.
//
// Two documented weakenings, for a Delete whose request met an ambiguous
// fault (a lost response, a 500, a reset, a late or slow delivery): it
// resolves "item gone" as success even if another call deleted it, so an
// ambiguous Delete that returned nil may also be a no-op on an absent
// item; and its request, conditioned on the version alone (a blind write,
// docs/guarantees.md), may still land after it returned, on an item
// deleted and created again up to the same version. linWorker records such
// a Delete as unknown, whose effect may come up to linLateBound after its
// return.
func linStep(s linState, op linOp) []linState {
	ok := func(b bool) []linState {
		if b {
			return []linState{s}
		}
		return nil
	}
	switch op.Kind {
	case "get":
		if op.Status == "notfound" {
			return ok(!s.exists)
		}
		return ok(s.exists && s.value == op.Value && s.version == op.Version)
	case "update":
		next := linState{true, s.value + op.Arg, s.version + 1}
		switch op.Status {
		case "ok":
			if s.exists && next.value == op.Value && next.version == op.Version {
				return []linState{next}
			}
			return nil
		case "notfound":
			return ok(!s.exists)
		case "unknown":
			if s.exists {
				return []linState{s, next}
			}
			return []linState{s}
		}
	case "capped":
		next, writes, refuses := linCapped(s, op.Arg)
		switch op.Status {
		case "ok": // added, or NoChange: next is s
			if s.exists && !refuses && next.value == op.Value && next.version == op.Version {
				return []linState{next}
			}
			return nil
		case "refused":
			return ok(s.exists && refuses)
		case "notfound":
			return ok(!s.exists)
		case "unknown":
			if s.exists && writes {
				return []linState{s, next}
			}
			return []linState{s}
		}
	case "create":
		next := linState{true, op.Arg, 1}
		switch op.Status {
		case "ok":
			if !s.exists {
				return []linState{next}
			}
			return nil
		case "exists":
			return ok(s.exists)
		case "unknown":
			if !s.exists {
				return []linState{s, next}
			}
			return []linState{s}
		}
	case "delete":
		match := s.exists && s.version == op.Arg
		switch op.Status {
		case "ok":
			if match {
				return []linState{{}}
			}
			if op.Ambiguous && !s.exists {
				return []linState{s}
			}
			return nil
		case "conflict":
			return ok(s.exists && s.version != op.Arg)
		case "notfound":
			return ok(!s.exists)
		case "unknown":
			if match {
				return []linState{s, {}}
			}
			return []linState{s}
		}
	}
	return nil
}

// linCap is the balance at which a capped Update says NoChange.
const linCap = 60

var errCapped = errors.New("capped: the balance is a multiple of 5")

// linCapped is a capped Update of arg on s: the state after it, whether it
// writes, and whether it refuses (errCapped).
func linCapped(s linState, arg int64) (next linState, writes, refuses bool) {
	switch {
	case s.value >= linCap:
		return s, false, false
	case s.value%5 == 0:
		return s, false, true
	}
	return linState{true, s.value + arg, s.version + 1}, true, false
}

// cappedFn is the fn of a capped Update of arg.
func cappedFn(arg int64) func(*Account) error {
	return func(a *Account) error {
		switch {
		case a.Balance >= linCap:
			return repo.NoChange
		case a.Balance%5 == 0:
			return errCapped
		}
		a.Balance += arg
		return nil
	}
}

func linModel() porcupine.Model {
	m := &porcupine.NondeterministicModel{
		Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
			parts := make([][]porcupine.Operation, linKeys)
			for _, op := range h {
				k := op.Input.(linOp).Key
				parts[k] = append(parts[k], op)
			}
			return parts
		},
		Init: func() []interface{} { return []interface{}{linState{}} },
		Step: func(state, input, output interface{}) []interface{} {
			var out []interface{}
			for _, s := range linStep(state.(linState), input.(linOp)) {
				out = append(out, s)
			}
			return out
		},
		DescribeOperation: func(input, output interface{}) string {
			op := input.(linOp)
			switch op.Kind {
			case "get":
				if op.Status == "notfound" {
					return fmt.Sprintf("k%d get -> notfound", op.Key)
				}
				return fmt.Sprintf("k%d get -> %d@v%d", op.Key, op.Value, op.Version)
			case "update":
				return fmt.Sprintf("k%d +%d -> %s %d@v%d", op.Key, op.Arg, op.Status, op.Value, op.Version)
			case "capped":
				return fmt.Sprintf("k%d +%d capped -> %s %d@v%d", op.Key, op.Arg, op.Status, op.Value, op.Version)
			case "create":
				amb := ""
				if op.Ambiguous {
					amb = " (ambiguous)"
				}
				return fmt.Sprintf("k%d create %d -> %s%s", op.Key, op.Arg, op.Status, amb)
			default:
				amb := ""
				if op.Ambiguous {
					amb = " (ambiguous)"
				}
				return fmt.Sprintf("k%d delete v%d -> %s%s", op.Key, op.Arg, op.Status, amb)
			}
		},
		DescribeState: func(state interface{}) string {
			s := state.(linState)
			if !s.exists {
				return "absent"
			}
			return fmt.Sprintf("%d@v%d", s.value, s.version)
		},
	}
	return m.ToModel()
}

// linWorker runs calls until the deadline and returns them, and the calls
// that failed with an error that is neither an answer nor unknown.
func linWorker(bg context.Context, r *repo.Repository[Account], client int, seed uint64, deadline int64) (ops []linOp, failed []error) {
	rng := rand.New(rand.NewPCG(seed, uint64(client)))
	for time.Now().UnixNano() < deadline && bg.Err() == nil {
		key := rng.IntN(linKeys)
		k := repo.Key(fmt.Sprintf("k%d", key))
		// amb: a delete or create request met an ambiguous fault, or its
		// answer was lost for another reason (the client's timeout on a
		// loaded machine), so it may have been applied unseen.
		var amb atomic.Bool
		ctx := faults.WithReport(bg, func(op string, d faults.Decision) {
			if (op == "DeleteItem" || op == "PutItem") && (d.Fault != faults.None && d.Fault != faults.Throttle || d.ServerDelay > 0) {
				amb.Store(true)
			}
		})
		ctx = faults.WithLost(ctx, func(op string) {
			if op == "DeleteItem" || op == "PutItem" {
				amb.Store(true)
			}
		})
		op := linOp{Client: client, Key: key, Call: time.Now().UnixNano()}
		var err error
		var a Account
		status := func(err error) string {
			switch {
			case err == nil:
				return "ok"
			case errors.Is(err, repo.ErrOutcomeUnknown):
				return "unknown"
			case errors.Is(err, repo.ErrNotFound):
				return "notfound"
			case errors.Is(err, repo.ErrAlreadyExists):
				return "exists"
			case errors.Is(err, repo.ErrConflict):
				return "conflict"
			case errors.Is(err, errCapped):
				return "refused"
			}
			return ""
		}
		switch p := rng.IntN(20); {
		case p < 5:
			op.Kind = "get"
			a, err = r.Get(ctx, k)
		case p < 10:
			op.Kind, op.Arg = "update", 1+rng.Int64N(9)
			a, err = r.Update(ctx, k, func(a *Account) error { a.Balance += op.Arg; return nil })
		case p < 12:
			op.Kind, op.Arg = "capped", 1+rng.Int64N(9)
			a, err = r.Update(ctx, k, cappedFn(op.Arg))
		case p < 16:
			op.Kind, op.Arg = "create", rng.Int64N(100)
			a, err = r.Create(ctx, Account{ID: fmt.Sprintf("k%d", key), Balance: op.Arg})
		default:
			// Delete by version after a Get: two calls in the history.
			op.Kind = "get"
			a, err = r.Get(ctx, k)
			op.Return = time.Now().UnixNano()
			op.Status = status(err)
			if op.Status == "" {
				failed = append(failed, err)
				continue
			}
			op.Value, op.Version = a.Balance, a.Version
			ops = append(ops, op)
			if err != nil {
				continue
			}
			op = linOp{Client: client, Key: key, Kind: "delete", Arg: a.Version, Call: time.Now().UnixNano()}
			err = r.Delete(ctx, a)
			op.Ambiguous = amb.Load()
		}
		op.Return = time.Now().UnixNano()
		op.Status = status(err)
		if op.Status == "" || (op.Kind == "get" && op.Status == "unknown") {
			failed = append(failed, fmt.Errorf("%s k%d: %w", op.Kind, key, err))
			continue
		}
		if err == nil {
			op.Value, op.Version = a.Balance, a.Version
		}
		if op.Kind == "delete" && op.Ambiguous && op.Status == "ok" {
			op.Status = "unknown" // see linStep
		}
		ops = append(ops, op)
	}
	return ops, failed
}

// linRun runs cfg.Workers workers in this process until the deadline or
// ctx is done, and returns their calls.
func linRun(ctx context.Context, t *testing.T, cfg linConfig) ([]linOp, []error, faults.Stats) {
	client, tr := faults.Client(ddblocal.Endpoint(t), cfg.Faults, faults.FastRetries)
	r := mustNew[Account](t, client, cfg.Table, patient, func(o *repo.Options) {
		if cfg.UnsafeNoWriteIDs {
			repo.SetUnsafeNoWriteIDs(o)
		}
		if cfg.UnsafeTrustStale {
			repo.SetUnsafeTrustStale(o)
		}
	})
	var mu sync.Mutex
	var ops []linOp
	var failed []error
	var wg sync.WaitGroup
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, f := linWorker(ctx, r, cfg.Client0+w, cfg.Seed, cfg.Deadline)
			mu.Lock()
			ops, failed = append(ops, o...), append(failed, f...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	tr.Wait() // the late deliveries this process's transport still owns
	return ops, failed, tr.Stats()
}

// TestLinearizabilityChild is the body of a child process; it does nothing
// unless DDBOCC_LIN_CHILD is set.
func TestLinearizabilityChild(t *testing.T) {
	var cfg linConfig
	childConfig(t, linChildEnv, "TestLinearizability", &cfg)
	// Stop if the parent dies: its test may have been killed.
	ctx, stop := watchParent()
	ops, failed, stats := linRun(ctx, t, cfg)
	stop()
	f, err := os.Create(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, op := range ops {
		if err := enc.Encode(op); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range failed {
		fmt.Fprintf(os.Stderr, "child: call failed: %v\n", e)
	}
	fmt.Fprintf(os.Stderr, "child %d: %d calls, %d failed; %v\n", cfg.Client0, len(ops), len(failed), stats)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLinearizability runs rounds of 6 s (one round in `make test`; 30
// rounds of 12 s, six minutes and over 100,000 operations, with
// DDBOCC_STRESS=1), each on a fresh table with its own child processes, and
// checks each round's history. Updates run with the defaults: combined
// callers are recorded, and checked, one by one.
func TestLinearizability(t *testing.T) {
	t.Parallel()
	seed := faults.Seed(t)
	rounds, dur := 1, 6*time.Second
	if faults.Stress() {
		rounds, dur = 30, 12*time.Second
	}
	total := 0
	for round := 0; round < rounds; round++ {
		total += linRound(t, seed+uint64(round)*1000, dur)
	}
	t.Logf("porcupine checked %d operations in %d rounds: linearizable", total, rounds)
}

// linRound runs one round and checks it; it returns the number of
// operations checked.
func linRound(t *testing.T, seed uint64, dur time.Duration) int {
	e := newEnv(t)
	newRepo[Account](t, e)
	children, perProcess := 2, 2
	// Late deliveries and requests that outlive the client's timeout are
	// the faults that a call must not take for failures.
	fcfg := faults.Config{Seed: seed, Drop: 0.1, Throttle: 0.03, Error500: 0.03, Reset: 0.03, Latency: 3 * time.Millisecond, LatencyP: 0.2,
		Late: 0.04, LateDelay: 10 * time.Millisecond, Slow: 0.02, SlowMin: 200 * time.Millisecond, SlowMax: 250 * time.Millisecond,
		ClientTimeout: 200 * time.Millisecond}
	t.Logf("round seed %d: %s; %d processes × %d workers for %v", seed, fcfg, children+1, perProcess, dur)
	// The children need a second or so to start: give everyone the same
	// window.
	deadline := time.Now().Add(2*time.Second + dur).UnixNano()
	dir := t.TempDir()

	ctx, cancel := context.WithTimeout(context.Background(), dur+2*time.Minute)
	defer cancel()
	var cmds []*exec.Cmd
	var outs []string
	waited := 0
	defer func() { // on an early exit: stop and wait for the children
		cancel()
		for _, cmd := range cmds[waited:] {
			_ = cmd.Wait()
		}
	}()
	for c := 0; c < children; c++ {
		cfg := linConfig{Table: e.table, Out: filepath.Join(dir, fmt.Sprintf("child%d.jsonl", c)), Seed: seed + uint64(c+1),
			Deadline: deadline, Workers: perProcess, Client0: (c + 1) * perProcess, Faults: fcfg}
		cfg.Faults.Seed = seed + uint64(c+1)
		cmd := startChild(ctx, t, "TestLinearizabilityChild", linChildEnv, cfg, fmt.Sprintf("child %d: ", c))
		cmds, outs = append(cmds, cmd), append(outs, cfg.Out)
	}
	ops, failed, stats := linRun(ctx, t, linConfig{Table: e.table, Seed: seed, Deadline: deadline, Workers: perProcess, Client0: 0, Faults: fcfg})
	t.Logf("parent: %d calls, %d failed; %v", len(ops), len(failed), stats)
	for _, err := range failed {
		t.Logf("call failed (left out of the history): %v", err)
	}
	for i, cmd := range cmds {
		err := cmd.Wait()
		waited++
		if err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
		ops = append(ops, readLinOps(t, outs[i])...)
	}
	history, count := linHistory(ops)
	if len(failed) > len(ops)/20 {
		t.Errorf("%d of %d calls in this process failed without an answer", len(failed), len(ops))
	}
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(linModel(), history, 2*time.Minute)
	t.Logf("porcupine: %s over %d operations (%v) in %v", res, len(history), count, time.Since(start).Round(time.Millisecond))
	if res == porcupine.Ok {
		return len(history)
	}
	out := os.Getenv("TEST_ARTIFACTS")
	if out == "" {
		var err error
		if out, err = os.MkdirTemp("", "ddbocc-porcupine-"); err != nil {
			t.Fatal(err)
		}
	}
	base := filepath.Join(out, "linearizability-"+strconv.FormatUint(seed, 10))
	if err := porcupine.VisualizePath(linModel(), info, base+".html"); err != nil {
		t.Errorf("visualisation: %v", err)
	}
	if f, err := os.Create(base + ".jsonl"); err == nil {
		enc := json.NewEncoder(f)
		for _, op := range ops {
			_ = enc.Encode(op)
		}
		f.Close()
	}
	if res == porcupine.Illegal {
		t.Fatalf("history of %d operations is not linearizable (round seed %d); visualisation: %s.html, calls: %s.jsonl", len(history), seed, base, base)
	}
	t.Fatalf("porcupine gave up after 2 minutes on %d operations (round seed %d), no violation found so far; visualisation: %s.html", len(history), seed, base)
	return 0
}

// linLateBound bounds how long after its call returned a request of the
// call can land under linRound's faults: LateDelay and SlowMax are well
// below it, with room for a loaded machine.
const linLateBound = 2 * time.Second

// linHistory turns calls into porcupine's history, and counts them by kind
// and outcome. A call whose outcome is unknown may have left a request in
// flight that lands after it returned (a late delivery, or one that
// outlived the client's timeout): its effect may come up to linLateBound
// after its return.
func linHistory(ops []linOp) ([]porcupine.Operation, map[string]int) {
	history := make([]porcupine.Operation, 0, len(ops))
	count := map[string]int{}
	for _, op := range ops {
		count[op.Kind+" "+op.Status]++
		ret := op.Return
		if op.Status == "unknown" {
			ret += int64(linLateBound)
		}
		history = append(history, porcupine.Operation{ClientId: op.Client, Input: op, Call: op.Call, Return: ret})
	}
	return history, count
}

// The checker catches a naive loop: with the write ids off, lost responses
// are re-applied, and porcupine must find the history not linearizable
// within a few short runs.
func TestLinearizabilityCatchesNaiveLoop(t *testing.T) {
	t.Parallel()
	seed := faults.Seed(t)
	fcfg := faults.Config{Seed: seed, Drop: 0.2}
	start := time.Now()
	for run := 0; time.Since(start) < 30*time.Second; run++ {
		e := newEnv(t)
		newRepo[Account](t, e)
		fcfg.Seed = seed + uint64(run)
		ops, _, _ := linRun(context.Background(), t, linConfig{Table: e.table, Seed: fcfg.Seed, Deadline: time.Now().Add(2 * time.Second).UnixNano(),
			Workers: 4, Faults: fcfg, UnsafeNoWriteIDs: true})
		history, _ := linHistory(ops)
		res := porcupine.CheckOperationsTimeout(linModel(), history, 30*time.Second)
		t.Logf("run %d without write ids: %s over %d operations", run, res, len(history))
		if res == porcupine.Illegal {
			return
		}
	}
	t.Fatalf("with the write ids off, porcupine found no violation in 30 s: the check would not catch double applies")
}

// prefixWriter logs a child's output lines through t.
type prefixWriter struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := indexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.t.Log(w.prefix + string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// The checker catches a decision made on a stale item: with
// repo.SetUnsafeTrustStale, a capped Update returns NoChange or its error
// on the item its process handed on or kept, which another process may
// have changed since. Two repositories in this process stand for two
// processes; no faults are needed.
func TestLinearizabilityCatchesTrustStale(t *testing.T) {
	t.Parallel()
	seed := faults.Seed(t)
	start := time.Now()
	for run := 0; time.Since(start) < 30*time.Second; run++ {
		e := newEnv(t)
		newRepo[Account](t, e)
		deadline := time.Now().Add(2 * time.Second).UnixNano()
		var mu sync.Mutex
		var ops []linOp
		var wg sync.WaitGroup
		for p := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o, _, _ := linRun(context.Background(), t, linConfig{Table: e.table, Seed: seed + uint64(run*2+p), Deadline: deadline,
					Workers: 2, Client0: p * 2, UnsafeTrustStale: true})
				mu.Lock()
				ops = append(ops, o...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		history, count := linHistory(ops)
		res := porcupine.CheckOperationsTimeout(linModel(), history, 30*time.Second)
		t.Logf("run %d trusting stale items: %s over %d operations (%v)", run, res, len(history), count)
		if res == porcupine.Illegal {
			return
		}
	}
	t.Fatalf("trusting stale items, porcupine found no violation in 30 s: the check would not catch decisions on stale items")
}

// Found by TestLinearizability: Update's write is conditioned on the version
// only, and a deleted and re-created item starts again at version 1. An
// Update that read the old item writes fn's result, computed from the
// deleted item, over the new one: the new item's contents are lost, and the
// history (create 19; Update +1 reads 19@v1; delete v1; create 77; the
// Update returns 20@v2) is not linearizable. The write ids tell the two
// items apart: the write should also be conditioned on the base version's id.
func TestLinearizabilityUpdateAcrossRecreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := newRepo[Account](t, e)
	other := competitor[Account](t, e)
	ctx := context.Background()
	first := mustCreate(t, accounts, Account{ID: "a1", Balance: 19})
	calls := 0
	got, err := accounts.Update(ctx, repo.Key("a1"), func(a *Account) error {
		calls++
		if calls == 1 { // between our read and our write: delete and re-create
			if err := other.Delete(ctx, first); err != nil {
				t.Fatal(err)
			}
			if _, err := other.Create(ctx, Account{ID: "a1", Balance: 77}); err != nil {
				t.Fatal(err)
			}
		}
		a.Balance++
		return nil
	})
	stored, _ := accounts.Get(ctx, repo.Key("a1"))
	if err != nil || got.Balance != 78 || stored.Balance != 78 || calls != 2 {
		t.Fatalf("Update across a delete and re-create: returned %+v, %v after %d fn calls; stored %+v; "+
			"want fn re-applied to the new item: 78 at version 2", got, err, calls, stored)
	}
}

// readLinOps reads the operations a child process or a saved round wrote
// to path, one JSON object per line.
func readLinOps(t *testing.T, path string) []linOp {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ops []linOp
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var op linOp
		if err := json.Unmarshal(sc.Bytes(), &op); err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ops
}

// TestLinearizabilityReplay checks again, key by key, a history that a
// round saved when porcupine gave up on it or found it illegal:
// DDBOCC_LIN_REPLAY names the .jsonl file, DDBOCC_LIN_TIMEOUT (default
// 30m) bounds each key's check. It tells a search that ran out of time
// from a violation. Without DDBOCC_LIN_REPLAY it has nothing to do.
func TestLinearizabilityReplay(t *testing.T) {
	path := os.Getenv("DDBOCC_LIN_REPLAY")
	if path == "" {
		t.Skip("replays a history saved by TestLinearizability: set DDBOCC_LIN_REPLAY to its .jsonl file")
	}
	timeout := 30 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("DDBOCC_LIN_TIMEOUT")); err == nil && d > 0 {
		timeout = d
	}
	ops := readLinOps(t, path)
	for k := range linKeys {
		var mine []linOp
		for _, op := range ops {
			if op.Key == k {
				mine = append(mine, op)
			}
		}
		history, count := linHistory(mine)
		start := time.Now()
		res, info := porcupine.CheckOperationsVerbose(linModel(), history, timeout)
		t.Logf("key %d: porcupine %s over %d operations (%v) in %v", k, res, len(history), count, time.Since(start).Round(time.Millisecond))
		if res == porcupine.Illegal {
			out := path + fmt.Sprintf(".key%d.html", k)
			_ = porcupine.VisualizePath(linModel(), info, out)
			t.Errorf("key %d: not linearizable; visualisation: %s", k, out)
		}
	}
}
