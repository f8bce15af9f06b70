package repo_test

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/internal/harness/streamlog"
)

// The late-write suite: writes whose request lands after the client gave
// up on it (a reset connection while the request still reaches DynamoDB
// 0-10 ms later, a client timeout while the server still works on it),
// besides lost responses, throttling, 500s and resets. Several processes
// (this test binary re-run, see latewrites_child_test.go), each with its own
// fault transport, make calls that write their call id into the item; the
// table's DynamoDB stream then says, write by write, what was stored:
//
//   - a call that returned nil was applied exactly once (one stream record
//     carries its id and a new version), an ErrOutcomeUnknown one at most
//     once, one that failed otherwise never, and no call twice;
//   - each MODIFY of a key is based on the record before it (N and version
//     one up, the old image the previous new image): no lost update; the
//     final N is the number of writes since the item was created;
//   - the stream's final images are what the table holds.
//
// The "fix off" scenarios run the same with repo.SetUnsafeForgetLostWrites
// (the old resolution of lost writes) and must show the double applies and
// false failures, so that the suite is known to catch them. Sizes are small
// in `make test`; DDBOCC_STRESS=1 runs the long ones (over 100,000 calls in
// all). DDBOCC_SEED=n replays a seed (up to scheduling).

// lwClientTimeout is the client timeout of the timeout scenarios, whose
// slow requests land up to 15 ms after it. It is far above DynamoDB Local's
// latency, or the suite tips over: at 50 ms, and at 200 ms on a DynamoDB
// Local slowed down by its streams, requests timed out of their own accord,
// every timed-out write still landed, the patient retries sent it again at
// once, and the extra load kept the latency above the timeout: a few calls
// in minutes, thousands of requests.
const lwClientTimeout = 500 * time.Millisecond

// lwScenarios are the scenarios, fix on, then fix off.
func lwScenarios() []lwScenario {
	late := faults.Config{Late: 0.05, LateDelay: 10 * time.Millisecond}
	timeouts := faults.Config{ClientTimeout: lwClientTimeout, Slow: 0.05, SlowMin: lwClientTimeout, SlowMax: lwClientTimeout + 15*time.Millisecond}
	with := func(c faults.Config, f func(*faults.Config)) faults.Config { f(&c); return c }
	// The long sizes make about 100,000 calls in all, most of them in the
	// scenarios whose calls cost one or two requests.
	scs := []lwScenario{
		{Name: "counter/drops", Op: "update", Procs: 4, Goroutines: 4, Keys: 1, MaxUnknown: 0.001, Long: 200,
			Faults: faults.Config{Drop: 0.2, Throttle: 0.05, Error500: 0.05, Reset: 0.03}},
		{Name: "counter/timeouts", Op: "update", Procs: 4, Goroutines: 4, Keys: 0, MaxUnknown: 0.005, Long: 800, Faults: timeouts},
		{Name: "counter/late", Op: "update", Procs: 4, Goroutines: 4, Keys: 1, MaxUnknown: 0.005, Long: 200, Faults: late},
		{Name: "keys/late", Op: "keys", Procs: 3, Goroutines: 4, Keys: 64, MaxUnknown: 0.02, Long: 2300,
			Faults: with(late, func(c *faults.Config) { c.Drop = 0.05 })},
		// A Save of a value the caller holds does not know the stored id
		// map and replaces it; a lost Save whose entries another such Save
		// wiped ends unknown (about 4% here, where every writer Saves).
		{Name: "save/late", Op: "save", Procs: 3, Goroutines: 4, Keys: 8, MaxUnknown: 0.06, Long: 600,
			Faults: with(timeouts, func(c *faults.Config) { c.Late, c.LateDelay, c.Slow = 0.05, 10*time.Millisecond, 0.03 })},
		{Name: "guarded/late", Op: "guarded", Procs: 3, Goroutines: 4, Keys: 1, MaxUnknown: 0.01, Long: 300, Faults: late},
		{Name: "createdelete/late", Op: "createdelete", Procs: 3, Goroutines: 4, MaxUnknown: 0.02, Long: 1400, Faults: late},
		{Name: "tx/late", Op: "tx", Procs: 3, Goroutines: 4, Keys: 4, MaxUnknown: 0.01, Long: 200, Faults: late},
		{Name: "counter/foreign", Op: "update", Procs: 4, Goroutines: 4, Keys: 1, Foreign: 4, MaxUnknown: 0.01, Long: 200,
			Faults: faults.Config{Drop: 0.2}},
	}
	// Fix off, with three times the late and slow requests, so that even
	// a short run catches the bug. Drops alone cannot make a late write (a
	// dropped request is stored before its error), so "counter/drops" fix
	// off is a control that need not show anything; the others must.
	for _, sc := range slices.Clone(scs) {
		switch sc.Name {
		case "counter/drops", "counter/timeouts", "counter/late", "save/late":
			sc.FixOff, sc.MustCatch, sc.MaxUnknown, sc.Long = true, sc.Name != "counter/drops", 0, 100
			sc.Name += " fix off"
			sc.Faults.Late, sc.Faults.Slow = 3*sc.Faults.Late, 3*sc.Faults.Slow
			scs = append(scs, sc)
		}
	}
	return scs
}

// TestLateWrites runs every scenario, in parallel, and logs one row per
// scenario. The scenarios share one table, each with keys of its own: in
// DynamoDB Local a stream write costs more the more stream records the
// instance's other tables hold (see streamlog.ReadUntil), and a table each
// made the long sizes quadratic.
func TestLateWrites(t *testing.T) {
	t.Parallel()
	seed := faults.Seed(t)
	table := ddblocal.TableName(t)
	if err := streamlog.CreateTable(context.Background(), ddblocal.Client(t), table); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	rows := map[string]string{}
	total := 0
	scs := lwScenarios()
	t.Run("scenarios", func(t *testing.T) {
		for i, sc := range scs {
			t.Run(sc.Name, func(t *testing.T) {
				t.Parallel()
				row, calls := lwScenarioRun(t, lwConfig{lwScenario: sc, Table: table, Prefix: fmt.Sprintf("s%d/", i), Seed: seed + uint64(i)*1000})
				mu.Lock()
				rows[sc.Name], total = row, total+calls
				mu.Unlock()
			})
		}
	})
	var b strings.Builder
	for _, sc := range scs {
		if row, ok := rows[sc.Name]; ok {
			fmt.Fprintf(&b, "\n%-26s %s", sc.Name, row)
		}
	}
	t.Logf("seed %d; %d calls; one row per scenario:%s", seed, total, b.String())
}

// lwSizes: calls per goroutine and the time they may take. Short sizes are
// bounded by time, a few seconds (fix off a little longer, so that it sees
// enough late writes to catch a double apply almost surely); long ones by
// sc.Long.
func lwSizes(sc lwScenario) (budget int, dur time.Duration) {
	switch {
	case faults.Stress():
		return sc.Long, 20 * time.Minute
	case sc.FixOff:
		return 1000, 5 * time.Second
	}
	return 1000, 3 * time.Second
}

// lwScenarioRun runs one scenario, checks it against the stream and
// returns its summary row and the number of calls.
func lwScenarioRun(t *testing.T, base lwConfig) (string, int) {
	base.Faults.Seed = base.Seed // process p adds p
	client := ddblocal.Client(t)
	if base.Op == "guarded" {
		le, _ := newLock(t, "me", 1)
		base.Locks = le.table
	}
	lwSetup(t, client, base)
	calls, stats := lwProcesses(t, base)
	st := lwReplay(lwRecords(t, client, base), base.Op == "createdelete")
	lwCompareTable(t, client, base, st.final)
	tl := lwJudge(calls, st)
	row := tl.row(stats)
	t.Logf("%s, keys %s*, %s: %s", base.Name, base.Prefix, base.Faults, row)
	tl.verdict(t, base.lwScenario)
	return row, len(calls)
}

// lwRecords returns the stream records of the scenario's keys, once all
// its writes have landed: it writes the marker item <prefix>end and reads
// the stream up to it, while other scenarios may still be writing.
func lwRecords(t *testing.T, client *dynamodb.Client, cfg lwConfig) []streamlog.Record {
	ctx := context.Background()
	marker := cfg.Prefix + "end"
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(cfg.Table),
		Item: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: marker}}}); err != nil {
		t.Fatal(err)
	}
	recs, err := streamlog.ReadUntil(ctx, streamlog.NewClient(ddblocal.Endpoint(t)), cfg.Table,
		func(r streamlog.Record) bool { return lwRecordKey(r) == marker },
		func(r streamlog.Record) bool {
			k := lwRecordKey(r)
			return strings.HasPrefix(k, cfg.Prefix) && k != marker
		})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func lwRecordKey(r streamlog.Record) string {
	if k, ok := r.Keys["id"].(*types.AttributeValueMemberS); ok {
		return k.Value
	}
	return ""
}

// lwSetup creates the items the scenario writes, at N 0 with Last "setup".
func lwSetup(t *testing.T, client *dynamodb.Client, sc lwConfig) {
	r := mustNew[lwItem](t, client, sc.Table)
	var keys []string
	switch {
	case sc.Op == "createdelete":
	case sc.Keys == 0:
		for p := 0; p < sc.Procs; p++ {
			keys = append(keys, lwProcKey(sc.Prefix, p))
		}
	default:
		for k := 0; k < sc.Keys; k++ {
			keys = append(keys, lwKey(sc.Prefix, k))
		}
	}
	for _, k := range keys {
		mustCreate(t, r, lwNew(k, "setup"))
	}
}

// lwProcesses runs process 0 here and the others as children, all with
// the same deadline, and returns every call and the sum of the fault
// stats once every process is done (children exited, late deliveries
// landed).
func lwProcesses(t *testing.T, base lwConfig) ([]lwCall, faults.Stats) {
	budget, dur := lwSizes(base.lwScenario)
	// The children need a second or so to start: give everyone the same
	// window. Calls still running long after it are stopped.
	grace := 2 * time.Minute
	if faults.Stress() {
		grace = 5 * time.Minute
	}
	base.Budget, base.Deadline = budget, time.Now().Add(2*time.Second+dur).UnixNano()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second+dur+grace)
	defer cancel()
	dir := t.TempDir()
	var cmds []*exec.Cmd
	waited := 0
	defer func() { // on an early exit: stop and wait for the children
		cancel()
		for _, cmd := range cmds[waited:] {
			_ = cmd.Wait()
		}
	}()
	var outs []string
	for p := 1; p < base.Procs; p++ {
		cfg := base
		cfg.Proc, cfg.Seed, cfg.Faults.Seed = p, base.Seed+uint64(p), base.Seed+uint64(p)
		cfg.Out = filepath.Join(dir, fmt.Sprintf("process%d.jsonl", p))
		cmds, outs = append(cmds, lwStart(ctx, t, cfg)), append(outs, cfg.Out)
	}
	calls, stats := lwRun(ctx, t, base)
	for i, cmd := range cmds {
		err := cmd.Wait()
		waited++
		if err != nil {
			t.Fatalf("process %d: %v (a process still calling %v after the deadline is stopped)", i+1, err, grace)
		}
		cs, s, err := lwReadCalls(outs[i])
		if err != nil {
			t.Fatal(err)
		}
		calls, stats = append(calls, cs...), lwAddStats(stats, s)
	}
	return calls, stats
}

// lwStart starts a child process running cfg.
func lwStart(ctx context.Context, t *testing.T, cfg lwConfig) *exec.Cmd {
	return startChild(ctx, t, "TestLateWritesChild", lwChildEnv, cfg, fmt.Sprintf("process %d: ", cfg.Proc))
}

func lwAddStats(a, b faults.Stats) faults.Stats {
	a.Requests += b.Requests
	a.Affected += b.Affected
	a.Drop += b.Drop
	a.Throttle += b.Throttle
	a.Error500 += b.Error500
	a.Reset += b.Reset
	a.Delayed += b.Delayed
	a.Late += b.Late
	a.Slow += b.Slow
	return a
}

// lwImage reads the string attribute last and the numbers n and version
// of an image.
func lwImage(img map[string]types.AttributeValue) (last string, n, version int64) {
	if s, ok := img["last"].(*types.AttributeValueMemberS); ok {
		last = s.Value
	}
	num := func(a string) int64 {
		if v, ok := img[a].(*types.AttributeValueMemberN); ok {
			x, _ := strconv.ParseInt(v.Value, 10, 64)
			return x
		}
		return -1
	}
	return last, num("n"), num("version")
}

// lwInstance names one stored state of a key: a delete's target.
func lwInstance(key string, version int64, last string) string {
	return fmt.Sprintf("%s@%d/%s", key, version, last)
}

// lwFindings counts violations by kind, with a few examples.
type lwFindings struct {
	counts   map[string]int
	examples []string
}

func (f *lwFindings) add(kind, format string, args ...any) {
	if f.counts == nil {
		f.counts = map[string]int{}
	}
	f.counts[kind]++
	if len(f.examples) < 12 {
		f.examples = append(f.examples, kind+": "+fmt.Sprintf(format, args...))
	}
}

func (f *lwFindings) total() int {
	n := 0
	for _, c := range f.counts {
		n += c
	}
	return n
}

// lwStore is what the stream says was stored.
type lwStore struct {
	writes  map[string][]lwStored // call id -> its stored writes
	removed map[string]int        // lwInstance -> REMOVE records
	final   map[string]map[string]types.AttributeValue
	created map[string]int64   // key -> N at its last INSERT
	since   map[string]int64   // key -> MODIFYs since its last INSERT
	gone    map[string][]int64 // key -> the versions it was removed at
	bad     lwFindings         // lost updates, stream gaps, resurrections
}

type lwStored struct {
	key     string
	version int64
}

// lwReplay walks the stream record by record. once: keys are never
// created twice (createdelete), so an INSERT after a REMOVE resurrects.
func lwReplay(recs []streamlog.Record, once bool) *lwStore {
	s := &lwStore{writes: map[string][]lwStored{}, removed: map[string]int{}, final: map[string]map[string]types.AttributeValue{},
		created: map[string]int64{}, since: map[string]int64{}, gone: map[string][]int64{}}
	for _, r := range recs {
		key := lwRecordKey(r)
		switch r.EventName {
		case "INSERT":
			s.insert(key, r, once)
		case "MODIFY":
			s.modify(key, r)
		case "REMOVE":
			last, _, v := lwImage(r.OldImage)
			s.removed[lwInstance(key, v, last)]++
			s.gone[key] = append(s.gone[key], v)
		}
		s.final[key] = r.NewImage
	}
	for key, img := range s.final {
		if _, n, _ := lwImage(img); img != nil && n != s.created[key]+s.since[key] {
			s.bad.add("lost update", "%s ends at N %d after %d writes since it was created at N %d", key, n, s.since[key], s.created[key])
		}
	}
	return s
}

func (s *lwStore) insert(key string, r streamlog.Record, once bool) {
	last, n, v := lwImage(r.NewImage)
	if s.final[key] != nil {
		s.bad.add("stream gap", "%s INSERT %s over a stored item", key, last)
	}
	if once && len(s.gone[key]) > 0 {
		s.bad.add("resurrected", "%s created again (by %s) after its delete", key, last)
	}
	s.created[key], s.since[key] = n, 0
	s.writes[last] = append(s.writes[last], lwStored{key, v})
}

// modify records one write: the calls it stored are the ids it added to
// Ids (several for combined Updates; each took the next version), or its
// Last for a writer that keeps no ids (the plain writer).
func (s *lwStore) modify(key string, r streamlog.Record) {
	last, n, v := lwImage(r.NewImage)
	oldLast, oldN, oldV := lwImage(r.OldImage)
	if prev := s.final[key]; prev != nil {
		if pl, pn, pv := lwImage(prev); pl != oldLast || pn != oldN || pv != oldV {
			s.bad.add("stream gap", "%s MODIFY from N %d v%d (%s), the previous record left N %d v%d (%s)", key, oldN, oldV, oldLast, pn, pv, pl)
		}
	}
	added := lwAdded(lwIDs(r.OldImage), lwIDs(r.NewImage))
	if len(added) == 0 {
		added = []string{last}
	}
	m := int64(len(added))
	if v != oldV+m || n != oldN+m {
		s.bad.add("lost update", "%s MODIFY by %v: N %d -> %d, version %d -> %d (after %s)", key, added, oldN, n, oldV, v, oldLast)
	}
	s.since[key] += m
	for i, id := range added {
		s.writes[id] = append(s.writes[id], lwStored{key, oldV + int64(i) + 1})
	}
}

// lwIDs is an image's Ids.
func lwIDs(img map[string]types.AttributeValue) []string {
	l, _ := img["ids"].(*types.AttributeValueMemberL)
	if l == nil {
		return nil
	}
	ids := make([]string, 0, len(l.Value))
	for _, v := range l.Value {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			ids = append(ids, s.Value)
		}
	}
	return ids
}

// lwAdded is what a write appended to the bounded log old to make new
// (new is old and the added ids, its oldest dropped beyond lwKeepIDs): the
// shortest tail of new whose rest old ends with. Ids may repeat (a double
// apply), so it matches positions, not ids.
func lwAdded(old, new []string) []string {
	for k := 0; k <= len(new); k++ {
		rest := new[:len(new)-k]
		if len(rest) <= len(old) && slices.Equal(old[len(old)-len(rest):], rest) {
			return new[len(new)-k:]
		}
	}
	return new
}

// lwTally is the checked outcome of a scenario's calls.
type lwTally struct {
	calls, ok, unknown, fail int            // ddbocc's calls
	byKind                   map[string]int // unknown and failed calls by kind and error
	maxReqs                  lwCall         // the call that sent the most requests
	foreign, foreignOK       int            // the plain writer's
	bad                      lwFindings     // ddbocc's calls, and the stream
	notes                    lwFindings     // documented weaknesses: logged
	foreignBad               lwFindings     // the plain writer's calls: logged only
}

// lwJudge checks every call against the stored writes.
func lwJudge(calls []lwCall, s *lwStore) *lwTally {
	tl := &lwTally{bad: s.bad, byKind: map[string]int{}}
	known := map[string]bool{"setup": true}
	for _, c := range calls {
		known[c.ID] = true
	}
	for id, ws := range s.writes {
		if !known[id] {
			tl.bad.add("orphan", "%d writes by %q, which is no call: %v", len(ws), id, ws)
		}
	}
	s.attributeRemovals(calls, &tl.bad)
	for _, c := range calls {
		if c.Kind == "foreign" {
			tl.foreign++
			if c.Outcome == "ok" {
				tl.foreignOK++
			}
			s.judge(c, &tl.foreignBad, &tl.foreignBad)
			continue
		}
		tl.calls++
		if c.Reqs > tl.maxReqs.Reqs {
			tl.maxReqs = c
		}
		switch c.Outcome {
		case "ok":
			tl.ok++
		case "unknown":
			tl.unknown++
			tl.byKind[c.Kind+" unknown"]++
		default:
			tl.fail++
			tl.byKind[c.Kind+" "+lwErrClass(c.Err)]++
		}
		s.judge(c, &tl.bad, &tl.notes)
	}
	return tl
}

// lwErrClass names the kind of a definite failure.
func lwErrClass(err string) string {
	for _, c := range []string{"conflict", "not found", "already exists", "guard"} {
		if strings.Contains(err, c) {
			return c
		}
	}
	if len(err) > 80 {
		err = err[:80] + "..."
	}
	return "failed: " + err
}

// attributeRemovals credits each REMOVE to one delete call conditioned on
// the item it removed (its version and Last): one that returned nil, else
// an unknown one, else a failed one (a false failure).
func (s *lwStore) attributeRemovals(calls []lwCall, bad *lwFindings) {
	cands := map[string][]lwCall{}
	for _, c := range calls {
		if c.Kind == "delete" && c.Version > 0 {
			inst := lwInstance(c.Keys[0], c.Version, c.Last)
			cands[inst] = append(cands[inst], c)
		}
	}
	rank := map[string]int{"ok": 0, "unknown": 1, "fail": 2}
	for inst, n := range s.removed {
		cs := cands[inst]
		if len(cs) == 0 {
			bad.add("orphan", "REMOVE of %s, which no delete was conditioned on", inst)
			continue
		}
		best := cs[0]
		for _, c := range cs[1:] {
			if rank[c.Outcome] < rank[best.Outcome] {
				best = c
			}
		}
		for range n {
			s.writes[best.ID] = append(s.writes[best.ID], lwStored{key: best.Keys[0], version: best.Version})
		}
	}
}

// judge checks one call: nil means stored once (with the version it
// returned), unknown at most once, a failure never. A delete that returned
// nil needs its item removed, by itself or by another call; or, a note
// (documented: a lost delete that finds the item gone reports success),
// the item changed and the key deleted at a later version by others.
func (s *lwStore) judge(c lwCall, bad, notes *lwFindings) {
	ws := s.writes[c.ID]
	per := map[string]int{}
	n := 0
	for _, w := range ws {
		per[w.key]++
		n = max(n, per[w.key])
	}
	desc := fmt.Sprintf("%s %s on %v returned %s", c.Kind, c.ID, c.Keys, c.Outcome)
	if c.Err != "" {
		desc += " (" + c.Err + ")"
	}
	switch {
	case c.Kind == "get":
		if n > 0 {
			bad.add("orphan", "%s, yet its id was stored: %v", desc, ws)
		}
	case n > 1:
		bad.add("double apply", "%s, stored %d times: %v", desc, n, ws)
	case c.Kind == "tx" && n > 0 && (len(per) != len(c.Keys) || per[c.Keys[0]] != per[c.Keys[1]]):
		bad.add("torn", "%s, stored on part of its keys: %v", desc, per)
	case c.Kind == "delete" && c.Outcome == "ok":
		switch {
		case s.removed[lwInstance(c.Keys[0], c.Version, c.Last)] > 0:
		case slices.ContainsFunc(s.gone[c.Keys[0]], func(v int64) bool { return v > c.Version }):
			notes.add("delete nil, item changed then deleted by others", "%s; removed at versions %v", desc, s.gone[c.Keys[0]])
		default:
			bad.add("missing", "%s, but the item it was conditioned on was never removed", desc)
		}
	case c.Outcome == "ok" && n == 0:
		bad.add("missing", "%s, but it was not stored", desc)
	case c.Outcome == "fail" && n == 1:
		bad.add("false failure", "%s, but it was stored: %v", desc, ws)
	case c.Outcome == "ok" && c.Version != 0 && ws[0].version != c.Version:
		bad.add("wrong version", "%s at version %d, but it was stored as version %d", desc, c.Version, ws[0].version)
	}
}

// row is the scenario's summary row.
func (tl *lwTally) row(stats faults.Stats) string {
	row := fmt.Sprintf("%d calls: %d nil, %d unknown (%.2f%%), %d definite failures; %d double applies, %d lost updates",
		tl.calls, tl.ok, tl.unknown, 100*float64(tl.unknown)/float64(max(tl.calls, 1)), tl.fail,
		tl.bad.counts["double apply"], tl.bad.counts["lost update"])
	var other []string
	for kind, n := range tl.bad.counts {
		if kind != "double apply" && kind != "lost update" {
			other = append(other, fmt.Sprintf("%d %s", n, kind))
		}
	}
	sort.Strings(other)
	if len(other) > 0 {
		row += ", " + strings.Join(other, ", ")
	}
	for kind, n := range tl.notes.counts {
		row += fmt.Sprintf(" (%d %s: allowed)", n, kind)
	}
	if tl.foreign > 0 {
		row += fmt.Sprintf("; plain writer: %d calls, %d nil, %d double applies", tl.foreign, tl.foreignOK, tl.foreignBad.counts["double apply"])
	}
	return row + fmt.Sprintf("; at most %d requests in a call; faults: %d requests, %d dropped, %d throttled, %d 500s, %d resets, %d late, %d slow",
		tl.maxReqs.Reqs, stats.Requests, stats.Drop, stats.Throttle, stats.Error500, stats.Reset, stats.Late, stats.Slow)
}

// verdict fails the scenario: fix on, on any violation or too many
// unknown outcomes; fix off, when it caught nothing it should have, or
// when the stream itself looks wrong.
func (tl *lwTally) verdict(t *testing.T, sc lwScenario) {
	for _, e := range tl.foreignBad.examples {
		t.Logf("plain writer (not protected, not failed on): %s", e)
	}
	if tl.calls == 0 {
		t.Fatalf("no calls were made")
	}
	if len(tl.byKind) > 0 {
		t.Logf("unknown and failed calls by kind: %v", tl.byKind)
	}
	if m := tl.maxReqs; m.Reqs > 20 {
		t.Logf("%s %s sent %d requests and returned %s %s", m.Kind, m.ID, m.Reqs, m.Outcome, m.Err)
	}
	for _, e := range tl.notes.examples {
		t.Logf("allowed, documented: %s", e)
	}
	if !sc.FixOff {
		for _, e := range tl.bad.examples {
			t.Errorf("%s", e)
		}
		// The bound is a rate: allow three standard deviations of a
		// binomial count at that rate, so that a short run of a few
		// hundred calls is not failed by its own noise (the long run's
		// tens of thousands of calls hold it to within a few per cent).
		expected := sc.MaxUnknown * float64(tl.calls)
		if allowed := expected + 3*math.Sqrt(expected); float64(tl.unknown) > allowed {
			t.Errorf("%d of %d calls (%.2f%%) ended with ErrOutcomeUnknown, above %.2f%% (%.1f calls allowed)",
				tl.unknown, tl.calls, 100*float64(tl.unknown)/float64(tl.calls), 100*sc.MaxUnknown, allowed)
		}
		return
	}
	for _, e := range tl.bad.examples {
		t.Logf("fix off: %s", e)
	}
	for _, kind := range []string{"lost update", "stream gap", "orphan"} {
		if n := tl.bad.counts[kind]; n > 0 {
			t.Errorf("fix off: %d %s", n, kind)
		}
	}
	if caught := tl.bad.counts["double apply"] + tl.bad.counts["false failure"]; sc.MustCatch && caught == 0 {
		t.Errorf("with the fix off, no double apply or false failure in %d calls: the suite would not catch them", tl.calls)
	}
}

// lwCompareTable checks that the stream ends where the table is: every
// item of the scenario as the last record of its key left it, and no
// other item of the scenario.
func lwCompareTable(t *testing.T, client *dynamodb.Client, cfg lwConfig, final map[string]map[string]types.AttributeValue) {
	desc := func(img map[string]types.AttributeValue) string {
		last, n, v := lwImage(img)
		return fmt.Sprintf("N %d v%d (%s)", n, v, last)
	}
	want := map[string]string{}
	for k, img := range final {
		if img != nil {
			want[k] = desc(img)
		}
	}
	got := map[string]string{}
	p := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{TableName: aws.String(cfg.Table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			if k, ok := it["id"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(k.Value, cfg.Prefix) && k.Value != cfg.Prefix+"end" {
				got[k.Value] = desc(it)
			}
		}
	}
	var diff []string
	for k := range mergeKeys(want, got) {
		if want[k] != got[k] && len(diff) < 10 {
			diff = append(diff, fmt.Sprintf("%s: stream %q, table %q", k, want[k], got[k]))
		}
	}
	if len(diff) > 0 {
		t.Errorf("the stream does not end where the table is (%d items in the table, %d by the stream): %s",
			len(got), len(want), strings.Join(diff, "; "))
	}
}

func mergeKeys(a, b map[string]string) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// The checks of TestLateWrites on a hand-made stream: each kind of
// violation is found and counted once.
func TestLateWritesChecks(t *testing.T) {
	t.Parallel()
	img := func(last string, n, v int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "k"}, "last": &types.AttributeValueMemberS{Value: last},
			"n": &types.AttributeValueMemberN{Value: strconv.Itoa(n)}, "version": &types.AttributeValueMemberN{Value: strconv.Itoa(v)}}
	}
	rec := func(event, key string, old, cur map[string]types.AttributeValue) streamlog.Record {
		return streamlog.Record{EventName: event, Keys: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: key}}, OldImage: old, NewImage: cur}
	}
	recs := []streamlog.Record{
		rec("INSERT", "k0", nil, img("setup", 0, 1)),
		rec("MODIFY", "k0", img("setup", 0, 1), img("a", 1, 2)),
		rec("MODIFY", "k0", img("a", 1, 2), img("a", 2, 3)), // a twice
		rec("MODIFY", "k0", img("a", 2, 3), img("b", 2, 4)), // b lost a's increment
		rec("MODIFY", "k0", img("b", 2, 4), img("c", 3, 5)), // c failed, yet stored
		rec("REMOVE", "k0", img("c", 3, 5), nil),            // no delete asked for this
		rec("INSERT", "k1", nil, img("e", 0, 1)),
		rec("MODIFY", "k1", img("x", 5, 9), img("f", 6, 10)), // a gap; f is no call; N 6 after one write
		rec("REMOVE", "k2", img("g", 0, 1), nil),
		rec("INSERT", "k2", nil, img("h", 0, 1)), // resurrected (once)
		rec("INSERT", "k3", nil, img("setup", 0, 1)),
		rec("MODIFY", "k3", img("setup", 0, 1), img("u", 1, 2)),
		rec("REMOVE", "k3", img("u", 1, 2), nil), // by d2; d1 (version 1) found it gone
	}
	calls := []lwCall{
		{ID: "a", Kind: "update", Keys: []string{"k0"}, Outcome: "ok", Version: 2},
		{ID: "b", Kind: "update", Keys: []string{"k0"}, Outcome: "ok", Version: 4},
		{ID: "c", Kind: "save", Keys: []string{"k0"}, Outcome: "fail", Err: "repo: conflict"},
		{ID: "d", Kind: "update", Keys: []string{"k0"}, Outcome: "ok", Version: 9},
		{ID: "e", Kind: "create", Keys: []string{"k1"}, Outcome: "ok", Version: 1},
		{ID: "g", Kind: "delete", Keys: []string{"k2"}, Outcome: "ok", Version: 1, Last: "g"},
		{ID: "h", Kind: "create", Keys: []string{"k2"}, Outcome: "unknown"},
		{ID: "u", Kind: "update", Keys: []string{"k3"}, Outcome: "ok", Version: 2},
		{ID: "d1", Kind: "delete", Keys: []string{"k3"}, Outcome: "ok", Version: 1, Last: "setup"},
		{ID: "d2", Kind: "delete", Keys: []string{"k3"}, Outcome: "ok", Version: 2, Last: "u"},
	}
	tl := lwJudge(calls, lwReplay(recs, true))
	want := map[string]int{"double apply": 1, "lost update": 2, "false failure": 1, "missing": 1, "orphan": 2, "stream gap": 1, "resurrected": 1}
	if fmt.Sprint(tl.bad.counts) != fmt.Sprint(want) {
		t.Errorf("found %v, want %v; examples:\n%s", tl.bad.counts, want, strings.Join(tl.bad.examples, "\n"))
	}
	if tl.calls != 10 || tl.ok != 8 || tl.unknown != 1 || tl.fail != 1 || tl.notes.total() != 1 {
		t.Errorf("tally %d calls, %d ok, %d unknown, %d failed, %d notes; want 10, 8, 1, 1, 1", tl.calls, tl.ok, tl.unknown, tl.fail, tl.notes.total())
	}
}
