package lease

import (
	"sync"
	"time"
)

// Polls paced by the holder's forecast. A waiter in another process can
// only learn of a release by reading the record, so with polls spread
// evenly a hand-over takes half a poll interval on average, and halving
// that costs twice the requests. But most names are held for similar
// lengths by the same holder (a job, a batch, a leader's term), and the
// holder knows its own:
//
//   - A Manager remembers, per name, the mean and mean deviation of its
//     holds (acquiring write sent → release stored), as TCP does round
//     trip times (holdStats).
//   - Its acquiring write stores a forecast in the record: when the write
//     was sent (its wall clock), and the band of time after that in which
//     it expects to release: mean - 3 deviations .. mean + 2 deviations,
//     widened by bandSlack. No forecast until the band starts after the
//     acquire (the deviation, which starts at half the first hold, must
//     shrink below a third of the mean).
//   - A waiter that reads the record polls every sparsePoll before the
//     band, densely inside it, and as before (PollInterval doubling to
//     MaxPollInterval) after it or without a forecast (pace). The dense
//     interval spends what polling at MaxPollInterval until the band's end
//     would have cost, less what the sparse polls cost: never more
//     requests per forecast hold than without a forecast, most of them
//     where the release is likely.
//
// A forecast only moves polls; it never decides whether a record may be
// taken. A wrong one (a clock off, a hold unlike the others) costs a
// slower hand-over: at most sparsePoll for a release before the band.

const (
	// sparsePoll is the delay between polls before the band (and
	// markEvery, so that a waiter's marks stay fresh: fair.go).
	sparsePoll = markEvery
	// densePollMin bounds the delay between polls in the band from below.
	densePollMin = 10 * time.Millisecond
	// bandSlack widens the band on each side: clocks of different hosts,
	// and the time a release write takes to be stored.
	bandSlack = 20 * time.Millisecond
	// holdNames bounds how many names' hold statistics a Manager keeps.
	holdNames = 1024
)

// holdStat is a Manager's statistics of its holds of one name: the mean
// and mean deviation (exponentially weighted: 1/8 and 1/4), and how many.
type holdStat struct {
	mean, dev time.Duration
	n         int
}

// add is s after a hold of length d.
func (s holdStat) add(d time.Duration) holdStat {
	if s.n == 0 {
		return holdStat{mean: d, dev: d / 2, n: 1}
	}
	diff := d - s.mean
	s.dev += (diff.Abs() - s.dev) / 4
	s.mean += diff / 8
	s.n++
	return s
}

// band is the forecast of s: the offsets from the acquiring write's send
// time between which the holder expects to release; ok false if it has
// none (no hold yet, or one that could end at once).
func (s holdStat) band() (from, to time.Duration, ok bool) {
	from = s.mean - 3*s.dev - bandSlack
	to = s.mean + 2*s.dev + bandSlack
	return from, to, s.n > 0 && from > 0
}

// holdStats is a Manager's holdStat per name it has held, at most
// holdNames of them (a new name past that replaces an arbitrary one).
// Safe for concurrent use.
type holdStats struct {
	mu sync.Mutex
	m  map[string]holdStat
}

// add counts a hold of name of length d.
func (h *holdStats) add(name string, d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]holdStat{}
	}
	s, ok := h.m[name]
	if !ok && len(h.m) >= holdNames {
		for n := range h.m {
			delete(h.m, n)
			break
		}
	}
	h.m[name] = s.add(d)
}

// of returns name's statistics (zero if none).
func (h *holdStats) of(name string) holdStat {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[name]
}

// expecting is r as an acquiring write sent at sent stores it, with the
// forecast of s (none if s has none).
func (r record) expecting(sent time.Time, s holdStat) record {
	r.Since, r.ReleaseFrom, r.ReleaseTo = 0, 0, 0
	if from, to, ok := s.band(); ok {
		r.Since, r.ReleaseFrom, r.ReleaseTo = sent.UnixMilli(), from.Milliseconds(), to.Milliseconds()
	}
	return r
}

// forecast is a held record's band as wall times; ok false if it has
// none.
func (r record) forecast() (since, from, to time.Time, ok bool) {
	if r.Owner == "" || r.Since <= 0 || r.ReleaseFrom <= 0 || r.ReleaseTo <= r.ReleaseFrom {
		return time.Time{}, time.Time{}, time.Time{}, false
	}
	since = time.UnixMilli(r.Since)
	return since, since.Add(time.Duration(r.ReleaseFrom) * time.Millisecond),
		since.Add(time.Duration(r.ReleaseTo) * time.Millisecond), true
}

// pace returns the delay before a waiter's next poll of held record r,
// read at wall time now, for a waiter whose delay would be base without a
// forecast (before jitter). Before the band: sparsePoll (at least base),
// but not past the band's start. In it: the band's share of a poll every
// base until its end, less the sparse polls before it, spread over the
// band (at least densePollMin, at most base). After it, or without a
// forecast: base.
func pace(r record, now time.Time, base time.Duration) time.Duration {
	since, from, to, ok := r.forecast()
	switch {
	case !ok || !now.Before(to):
		return jitter(base)
	case now.Before(from):
		return min(jitter(max(base, sparsePoll)), from.Sub(now))
	}
	polls := float64(to.Sub(since))/float64(base) - float64(from.Sub(since))/float64(sparsePoll)
	if polls <= 1 {
		return jitter(base)
	}
	d := time.Duration(float64(to.Sub(from)) / polls)
	return jitter(min(max(d, densePollMin), base))
}
