package repo_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/repo"
)

// The process side of TestLateWrites (latewrites_test.go): one process's
// goroutines making calls through their own fault transport and recording
// each call's outcome. A child process is this test binary re-run with
// DDBOCC_LW_CHILD set to its lwConfig; the parent runs process 0 itself.

const lwChildEnv = "DDBOCC_LW_CHILD"

// lwItem is the item of the suite: every change stores the id of the call
// that made it in Last and appends it to Ids, so the stream tells which
// calls each write was (several, for combined Updates).
type lwItem struct {
	ID      string   `dynamo:"id,hash"`
	N       int64    `dynamo:"n"`
	Last    string   `dynamo:"last"`
	Ids     []string `dynamo:"ids"`
	Version int64    `dynamo:"version"`
}

// lwKeepIDs bounds lwItem.Ids: more than a write combines.
const lwKeepIDs = 128

// mark is call id's change of a: N moves on by one, and id is recorded.
func (a *lwItem) mark(id string) {
	a.N++
	a.Last = id
	a.Ids = append(a.Ids, id)
	if len(a.Ids) > lwKeepIDs {
		a.Ids = a.Ids[len(a.Ids)-lwKeepIDs:]
	}
}

// lwNew is a new item created by call id.
func lwNew(key, id string) lwItem { return lwItem{ID: key, Last: id, Ids: []string{id}} }

// lwScenario is one scenario of TestLateWrites. It is plain data, so that
// a child gets it as JSON.
type lwScenario struct {
	Name string
	// Op is what each call does: "update", "guarded" (an Update with a
	// Guard), "save" (Get, then Save), "keys" (a mix of Update, Get,
	// Create and Delete), "createdelete" (Create of a new key, then its
	// Delete), "tx" (Transact incrementing two items).
	Op         string
	Procs      int // processes, the parent's own included
	Goroutines int // per process
	Keys       int // keys k0.. written; 0: one per process (p0..)
	Foreign    int // goroutines of a plain SDK writer in process 0
	Faults     faults.Config
	// FixOff runs every call with repo.SetUnsafeForgetLostWrites.
	FixOff bool
	// MustCatch: with FixOff, the run must show a double apply or a false
	// failure, or the suite would not catch the bug.
	MustCatch bool
	// MaxUnknown is the largest share of calls allowed to end with
	// ErrOutcomeUnknown (fix on).
	MaxUnknown float64
	// Long is the number of calls per goroutine at the long size
	// (DDBOCC_STRESS=1); the short size runs for a few seconds.
	Long int
}

// lwConfig is what the parent tells one process.
type lwConfig struct {
	lwScenario
	Table string
	// Prefix starts the scenario's keys and call ids: the scenarios share
	// one table.
	Prefix   string
	Locks    string // the lock table of "guarded"
	Proc     int
	Seed     uint64
	Budget   int   // calls per goroutine
	Deadline int64 // unix nanoseconds: start no call after it
	Out      string
}

// lwCall is one recorded call.
type lwCall struct {
	ID      string   `json:"id"`   // <prefix>p<process>.g<goroutine>.<seq>, written into Last
	Kind    string   `json:"kind"` // update, get, create, delete, save, tx, foreign
	Keys    []string `json:"keys"`
	Outcome string   `json:"out"` // ok, unknown, fail
	Err     string   `json:"err,omitempty"`
	// Version is the version a successful call returned; for a delete,
	// the version it was conditioned on.
	Version int64 `json:"ver,omitempty"`
	// Last is, for a delete, the Last of the item it was conditioned on.
	Last string `json:"last,omitempty"`
	// Reqs is the number of requests the call sent, retries included (for
	// the first call of an operation making several: theirs together).
	Reqs int64 `json:"reqs"`
}

func lwOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, repo.ErrOutcomeUnknown):
		return "unknown"
	}
	return "fail"
}

func lwResult(id, kind string, keys []string, a lwItem, err error) lwCall {
	c := lwCall{ID: id, Kind: kind, Keys: keys, Outcome: lwOutcome(err)}
	if err != nil {
		c.Err = err.Error()
	} else {
		c.Version = a.Version
	}
	return c
}

func lwKey(prefix string, i int) string { return fmt.Sprintf("%sk%d", prefix, i) }

func lwProcKey(prefix string, proc int) string { return fmt.Sprintf("%sp%d", prefix, proc) }

// lwProc is one process's clients.
type lwProc struct {
	cfg    lwConfig
	client *dynamodb.Client // through the fault transport
	plain  *dynamodb.Client // the plain writer's, without faults
	items  *repo.Repository[lwItem]
	opts   []func(*repo.Options) // per call
}

// key picks the key of a call.
func (p *lwProc) key(rng *rand.Rand) string {
	if p.cfg.Keys == 0 {
		return lwProcKey(p.cfg.Prefix, p.cfg.Proc)
	}
	return lwKey(p.cfg.Prefix, rng.IntN(p.cfg.Keys))
}

// lwRun runs one process's goroutines until their budget or the deadline,
// waits for every late delivery of its transport, and returns the calls.
func lwRun(ctx context.Context, t *testing.T, cfg lwConfig) ([]lwCall, faults.Stats) {
	client, tr := faults.Client(ddblocal.Endpoint(t), cfg.Faults, faults.FastRetries)
	items := mustNew[lwItem](t, client, cfg.Table, patient, func(o *repo.Options) {
		if cfg.FixOff {
			repo.SetUnsafeForgetLostWrites(o)
		}
	})
	p := &lwProc{cfg: cfg, client: client, plain: ddblocal.Client(t), items: items}
	if cfg.Op == "guarded" {
		p.opts = append(p.opts, repo.Guard(heldBy(cfg.Locks, "me", 1)))
	}
	ops := map[string]lwOp{
		"update": p.update, "guarded": p.update, "save": p.save, "keys": p.mixed, "createdelete": p.createDelete, "tx": p.tx,
	}
	var mu sync.Mutex
	var calls []lwCall
	var wg sync.WaitGroup
	run := func(g int, op lwOp) {
		defer wg.Done()
		cs := p.worker(ctx, g, op)
		mu.Lock()
		calls = append(calls, cs...)
		mu.Unlock()
	}
	for g := 0; g < cfg.Goroutines; g++ {
		wg.Add(1)
		go run(g, ops[cfg.Op])
	}
	for g := 0; cfg.Proc == 0 && g < cfg.Foreign; g++ {
		wg.Add(1)
		go run(cfg.Goroutines+g, p.foreign)
	}
	wg.Wait()
	tr.Wait()
	return calls, tr.Stats()
}

// lwOp makes one call, or two (a Create and its Delete), with call id id.
type lwOp func(ctx context.Context, rng *rand.Rand, id string) []lwCall

// worker makes calls until the budget or the deadline.
func (p *lwProc) worker(ctx context.Context, g int, op lwOp) []lwCall {
	rng := rand.New(rand.NewPCG(p.cfg.Seed, uint64(g)))
	var calls []lwCall
	for seq := 0; seq < p.cfg.Budget && time.Now().UnixNano() < p.cfg.Deadline && ctx.Err() == nil; seq++ {
		var reqs atomic.Int64
		cctx := faults.WithReport(ctx, func(string, faults.Decision) { reqs.Add(1) })
		cs := op(cctx, rng, fmt.Sprintf("%sp%d.g%d.%d", p.cfg.Prefix, p.cfg.Proc, g, seq))
		cs[0].Reqs = reqs.Load()
		calls = append(calls, cs...)
	}
	return calls
}

// update increments a key's N and stores the call id.
func (p *lwProc) update(ctx context.Context, rng *rand.Rand, id string) []lwCall {
	key := p.key(rng)
	a, err := p.items.Update(ctx, repo.Key(key), func(a *lwItem) error { a.mark(id); return nil }, p.opts...)
	return []lwCall{lwResult(id, "update", []string{key}, a, err)}
}

// save reads a key, then Saves it with N incremented: a conflict is a
// definite failure.
func (p *lwProc) save(ctx context.Context, rng *rand.Rand, id string) []lwCall {
	key := p.key(rng)
	a, err := p.items.Get(ctx, repo.Key(key))
	if err == nil {
		a.mark(id)
		a, err = p.items.Save(ctx, a, p.opts...)
	}
	return []lwCall{lwResult(id, "save", []string{key}, a, err)}
}

// mixed is 70% Updates, 10% Gets, 15% Creates and 5% Deletes (after a
// Get), which keeps about three keys in four stored.
func (p *lwProc) mixed(ctx context.Context, rng *rand.Rand, id string) []lwCall {
	switch r := rng.IntN(20); {
	case r < 14:
		return p.update(ctx, rng, id)
	case r < 16:
		key := p.key(rng)
		a, err := p.items.Get(ctx, repo.Key(key))
		return []lwCall{lwResult(id, "get", []string{key}, a, err)}
	case r < 19:
		key := p.key(rng)
		a, err := p.items.Create(ctx, lwNew(key, id), p.opts...)
		return []lwCall{lwResult(id, "create", []string{key}, a, err)}
	}
	key := p.key(rng)
	a, err := p.items.Get(ctx, repo.Key(key))
	if err != nil {
		return []lwCall{lwResult(id, "delete", []string{key}, a, err)}
	}
	return []lwCall{p.delete(ctx, id, a)}
}

// delete deletes a by its version.
func (p *lwProc) delete(ctx context.Context, id string, a lwItem) lwCall {
	err := p.items.Delete(ctx, a, p.opts...)
	c := lwResult(id, "delete", []string{a.ID}, a, err)
	c.Version, c.Last = a.Version, a.Last
	return c
}

// createDelete creates a key of its own, then deletes it: two calls.
func (p *lwProc) createDelete(ctx context.Context, _ *rand.Rand, id string) []lwCall {
	a, err := p.items.Create(ctx, lwNew(id, id), p.opts...)
	c := lwResult(id, "create", []string{id}, a, err)
	switch {
	case err == nil:
	case errors.Is(err, repo.ErrOutcomeUnknown):
		if a, err = p.items.Get(ctx, repo.Key(id)); err != nil {
			return []lwCall{c}
		}
	default:
		return []lwCall{c}
	}
	return []lwCall{c, p.delete(ctx, id+"/del", a)}
}

// tx increments two distinct keys in one transaction.
func (p *lwProc) tx(ctx context.Context, rng *rand.Rand, id string) []lwCall {
	i := rng.IntN(p.cfg.Keys)
	keys := []string{lwKey(p.cfg.Prefix, i), lwKey(p.cfg.Prefix, (i+1+rng.IntN(p.cfg.Keys-1))%p.cfg.Keys)}
	err := repo.Transact(ctx, p.client, func(tx *repo.Tx) error {
		items, found, err := p.items.TxGetMany(tx, repo.Key(keys[0]), repo.Key(keys[1]))
		if err != nil {
			return err
		}
		for j := range items {
			if !found[j] {
				return fmt.Errorf("%s: %w", keys[j], repo.ErrNotFound)
			}
			items[j].mark(id)
			if err := p.items.TxSave(tx, &items[j]); err != nil {
				return err
			}
		}
		return nil
	}, patientTx)
	return []lwCall{lwResult(id, "tx", keys, lwItem{}, err)}
}

// foreign is a plain SDK writer that knows nothing of write ids: it reads
// the item and increments it on condition of the version it read, again
// on a failed condition, with the SDK's retries off. An error other than a
// failed condition leaves it not knowing: "unknown".
func (p *lwProc) foreign(ctx context.Context, rng *rand.Rand, id string) []lwCall {
	key := p.key(rng)
	c := lwCall{ID: id, Kind: "foreign", Keys: []string{key}, Outcome: "unknown"}
	k := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: key}}
	noRetry := func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }
	for ctx.Err() == nil {
		got, err := p.plain.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(p.cfg.Table), Key: k, ConsistentRead: aws.Bool(true)}, noRetry)
		if err != nil || got.Item == nil {
			c.Outcome, c.Err = "fail", fmt.Sprintf("read: %v (item %v)", err, got != nil && got.Item != nil)
			return []lwCall{c}
		}
		v := got.Item["version"]
		_, err = p.plain.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(p.cfg.Table), Key: k,
			UpdateExpression:         aws.String("SET #n = #n + :one, #v = #v + :one, #l = :call"),
			ConditionExpression:      aws.String("#v = :v"),
			ExpressionAttributeNames: map[string]string{"#n": "n", "#v": "version", "#l": "last"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": &types.AttributeValueMemberN{Value: "1"}, ":v": v, ":call": &types.AttributeValueMemberS{Value: id},
			},
		}, noRetry)
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			continue
		}
		if err == nil {
			c.Outcome = "ok"
		} else {
			c.Err = err.Error()
		}
		return []lwCall{c}
	}
	c.Err = ctx.Err().Error()
	return []lwCall{c}
}

// TestLateWritesChild is the body of a child process of TestLateWrites; it
// does nothing unless DDBOCC_LW_CHILD is set.
func TestLateWritesChild(t *testing.T) {
	var cfg lwConfig
	childConfig(t, lwChildEnv, "TestLateWrites", &cfg)
	ctx, stop := watchParent()
	calls, stats := lwRun(ctx, t, cfg)
	stop()
	if err := lwWrite(cfg.Out, calls, stats); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "process %d: %d calls; %v\n", cfg.Proc, len(calls), stats)
}

// lwWrite writes the fault stats as the first JSON line of path, then one
// line per call.
func lwWrite(path string, calls []lwCall, stats faults.Stats) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	if err := enc.Encode(stats); err != nil {
		f.Close()
		return err
	}
	for _, c := range calls {
		if err := enc.Encode(c); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// lwReadCalls reads what lwWrite wrote.
func lwReadCalls(path string) ([]lwCall, faults.Stats, error) {
	var stats faults.Stats
	f, err := os.Open(path)
	if err != nil {
		return nil, stats, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	if err := dec.Decode(&stats); err != nil {
		return nil, stats, fmt.Errorf("%s: stats: %w", path, err)
	}
	var calls []lwCall
	for dec.More() {
		var c lwCall
		if err := dec.Decode(&c); err != nil {
			return nil, stats, fmt.Errorf("%s: %w", path, err)
		}
		calls = append(calls, c)
	}
	return calls, stats, nil
}
