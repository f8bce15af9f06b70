// Package hotrec is the file format shared by bench/hot, which writes it,
// and bench/hotplot, which reads it: JSON lines, a [Meta] line first, then
// one [Round] line per contender, round and shape. [Summarize] turns rounds
// into the per shape and contender figures that both print or plot.
package hotrec

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// Meta describes a run. It is the first line of a file.
type Meta struct {
	Type       string    `json:"type"` // "meta"
	Run        string    `json:"run"`  // the run's id (its start time)
	Start      time.Time `json:"start"`
	GoVersion  string    `json:"go_version"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	NumCPU     int       `json:"num_cpu"`
	Window     float64   `json:"window_s"`
	Rounds     int       `json:"rounds"`
	Warmup     float64   `json:"warmup_s"`
	Shapes     []string  `json:"shapes"`
	Contenders []string  `json:"contenders"`
	NaiveSleep float64   `json:"naive_sleep_ms"`
	Table      string    `json:"table"`
	Endpoint   string    `json:"endpoint"`
}

// Round is what one contender did in one window of one round of one shape,
// summed over its processes.
type Round struct {
	Type       string `json:"type"` // "round"
	Run        string `json:"run"`
	Shape      string `json:"shape"` // "a", "b", "c1", "c4", "c16", "c64", "d"
	ShapeDesc  string `json:"shape_desc"`
	Procs      int    `json:"procs"`
	Goroutines int    `json:"goroutines"` // per process
	Keys       int    `json:"keys"`
	Contender  string `json:"contender"`
	Round      int    `json:"round"` // 0-based
	Slot       int    `json:"slot"`  // position in the round's (rotated) order, 0 first

	// Commits and the commits per process and goroutine are the calls that
	// ended within the window; Rate divides them by Window. Calls in flight
	// at its end are waited for (Elapsed runs until the last one returned)
	// and counted as Late (or Failed); Requests, Conflicts, LatencyUS and
	// Mallocs are those of every call started in the window, late ones too,
	// so that they divide by Commits+Late.
	Window  float64 `json:"window_s"`
	Elapsed float64 `json:"elapsed_s"`

	Commits      int64            `json:"commits"`   // calls that returned nil within the window
	Late         int64            `json:"late"`      // calls that returned nil after it
	Failed       int64            `json:"failed"`    // calls that returned an error
	Requests     int64            `json:"requests"`  // HTTP requests, every SDK attempt
	Conflicts    int64            `json:"conflicts"` // ConditionalCheckFailed answers
	RequestsByOp map[string]int64 `json:"requests_by_op"`
	Mallocs      uint64           `json:"mallocs"` // runtime.MemStats.Mallocs delta over the window and the late calls, summed over processes

	ProcCommits      []int64  `json:"proc_commits"`
	GoroutineCommits []int64  `json:"goroutine_commits"` // every goroutine of every process
	Stored           int64    `json:"stored"`            // sum of the counters after the window
	Errors           []string `json:"errors,omitempty"`  // the first few failures
	LatencyUS        []int64  `json:"latency_us"`        // every committed call (late ones too), in µs, ascending
}

// Rate returns commits per second of the window.
func (r Round) Rate() float64 { return float64(r.Commits) / r.Window }

// Check returns "" if the counters hold what the calls say: at least the
// commits (late ones too), and at most those plus the failed calls (a
// failed call may have been stored).
func (r Round) Check() string {
	ok := r.Commits + r.Late
	if r.Stored < ok || r.Stored > ok+r.Failed {
		return fmt.Sprintf("stored %d, commits %d + %d late, failed %d", r.Stored, r.Commits, r.Late, r.Failed)
	}
	return ""
}

// Read reads a file written by bench/hot. Lines of other types are skipped;
// meta is the zero Meta if there is none.
func Read(r io.Reader) (meta Meta, rounds []Round, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for n := 1; sc.Scan(); n++ {
		var t struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			return meta, nil, fmt.Errorf("line %d: %w", n, err)
		}
		switch t.Type {
		case "meta":
			err = json.Unmarshal(sc.Bytes(), &meta)
		case "round":
			var rd Round
			err = json.Unmarshal(sc.Bytes(), &rd)
			rounds = append(rounds, rd)
		}
		if err != nil {
			return meta, nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	return meta, rounds, sc.Err()
}

// Stat is a median with the range it comes from.
type Stat struct{ Median, Min, Max float64 }

func stat(xs []float64) Stat {
	if len(xs) == 0 {
		return Stat{math.NaN(), math.NaN(), math.NaN()}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stat{m, s[0], s[len(s)-1]}
}

// Summary is one contender on one shape over all its rounds.
type Summary struct {
	Shape, ShapeDesc, Contender string
	Procs, Goroutines, Keys     int
	Rounds                      int

	Rate               Stat    // commits/s over rounds
	RequestsPerCommit  float64 // all rounds pooled, late commits included
	ConflictsPerCommit float64 // all rounds pooled, late commits included
	// Shares of the commits: the smallest and the largest process (and
	// goroutine) share of each round, as medians over rounds. Fair is
	// 1/Procs (1/(Procs×Goroutines)).
	ProcShareMin, ProcShareMax float64
	GorShareMin, GorShareMax   float64
	P50, P99                   float64 // call latency in ms, all rounds pooled
	Failed                     int64
	WallPerCommit              Stat // µs of window per commit, over rounds
	AllocsPerCommit            Stat // Mallocs per commit (late ones too), over rounds
	Problems                   []string
	Latency                    []int64 // all rounds pooled, sorted, µs
}

// Summarize groups rounds by shape and contender, in the order in which
// each first appears.
func Summarize(rounds []Round) []Summary {
	type key struct{ shape, contender string }
	var order []key
	groups := map[key][]Round{}
	for _, r := range rounds {
		k := key{r.Shape, r.Contender}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	out := make([]Summary, 0, len(order))
	for _, k := range order {
		out = append(out, summarize(groups[k]))
	}
	return out
}

func summarize(rs []Round) Summary {
	f := rs[0]
	s := Summary{Shape: f.Shape, ShapeDesc: f.ShapeDesc, Contender: f.Contender,
		Procs: f.Procs, Goroutines: f.Goroutines, Keys: f.Keys, Rounds: len(rs)}
	var rates, wall, allocs, pmin, pmax, gmin, gmax []float64
	var commits, requests, conflicts int64
	for _, r := range rs {
		rates = append(rates, r.Rate())
		commits += r.Commits + r.Late
		requests += r.Requests
		conflicts += r.Conflicts
		s.Failed += r.Failed
		if r.Commits > 0 {
			wall = append(wall, r.Window*1e6/float64(r.Commits))
			allocs = append(allocs, float64(r.Mallocs)/float64(r.Commits+r.Late))
			lo, hi := shares(r.ProcCommits, r.Commits)
			pmin, pmax = append(pmin, lo), append(pmax, hi)
			lo, hi = shares(r.GoroutineCommits, r.Commits)
			gmin, gmax = append(gmin, lo), append(gmax, hi)
		}
		if p := r.Check(); p != "" {
			s.Problems = append(s.Problems, fmt.Sprintf("round %d: %s", r.Round, p))
		}
		s.Latency = append(s.Latency, r.LatencyUS...)
	}
	s.Rate = stat(rates)
	s.RequestsPerCommit = float64(requests) / float64(commits)
	s.ConflictsPerCommit = float64(conflicts) / float64(commits)
	s.ProcShareMin, s.ProcShareMax = stat(pmin).Median, stat(pmax).Median
	s.GorShareMin, s.GorShareMax = stat(gmin).Median, stat(gmax).Median
	s.WallPerCommit, s.AllocsPerCommit = stat(wall), stat(allocs)
	slices.Sort(s.Latency)
	s.P50, s.P99 = Percentile(s.Latency, 50)/1e3, Percentile(s.Latency, 99)/1e3
	return s
}

// shares returns the smallest and the largest of parts as shares of total.
func shares(parts []int64, total int64) (lo, hi float64) {
	if len(parts) == 0 || total == 0 {
		return math.NaN(), math.NaN()
	}
	return float64(slices.Min(parts)) / float64(total), float64(slices.Max(parts)) / float64(total)
}

// Percentile returns the p-th percentile (nearest rank) of sorted, or NaN
// if it is empty.
func Percentile(sorted []int64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return float64(sorted[max(0, min(i, len(sorted)-1))])
}
