package lease

import (
	"sync"
	"time"
)

// memory is what a Manager remembers of names it does not hold, for its
// acquirers: the held record it is watching, and the tokens of its
// acquiring writes whose outcome is unknown. A name is forgotten when it is
// acquired, and once no one has looked at it for two of its lease durations
// plus MaxPollInterval: it is no longer waited on (a caller polling more
// slowly than that, with TryAcquire or Acquire calls that give up, starts
// watching afresh, which only delays a takeover). Safe for concurrent use.
type memory struct {
	mu      sync.Mutex
	m       map[string]*memo
	pruneAt int // prune expired entries when len(m) reaches it
}

type memo struct {
	watch   watch
	watched bool
	unsure  []int64
	looked  time.Time     // last look at the name, monotonic
	keep    time.Duration // forget the entry when not looked at for this long
}

// recall returns the watch of name, if any.
func (y *memory) recall(name string) (watch, bool) {
	y.mu.Lock()
	defer y.mu.Unlock()
	if e := y.m[name]; e != nil {
		return e.watch, e.watched
	}
	return watch{}, false
}

// entry returns name's entry, made if missing, marked looked at now; it
// prunes expired entries first. The caller holds y.mu.
func (y *memory) entry(name string, now time.Time, keep time.Duration) *memo {
	if y.m == nil {
		y.m = map[string]*memo{}
	}
	if len(y.m) >= y.pruneAt {
		for n, e := range y.m {
			if now.Sub(e.looked) > e.keep {
				delete(y.m, n)
			}
		}
		y.pruneAt = max(16, 2*len(y.m))
	}
	e := y.m[name]
	if e == nil {
		e = &memo{}
		y.m[name] = e
	}
	e.looked, e.keep = now, max(e.keep, keep)
	return e
}

// note keeps w as name's watch.
func (y *memory) note(name string, w watch, now time.Time, keep time.Duration) {
	y.mu.Lock()
	defer y.mu.Unlock()
	e := y.entry(name, now, keep)
	e.watch, e.watched = w, true
}

// addUnsure remembers token, of an acquiring write of name whose outcome
// is unknown.
func (y *memory) addUnsure(name string, token int64, now time.Time, keep time.Duration) {
	y.mu.Lock()
	defer y.mu.Unlock()
	e := y.entry(name, now, keep)
	e.unsure = append(e.unsure, token)
}

// storedUnsure reports whether cur, name's record, was stored by one of
// this Manager's (owner's) acquiring writes of unknown outcome, and forgets
// the tokens that cur shows can no longer be stored.
func (y *memory) storedUnsure(name string, cur record, owner string) bool {
	y.mu.Lock()
	defer y.mu.Unlock()
	e := y.m[name]
	if e == nil || len(e.unsure) == 0 {
		return false
	}
	found, kept := storedUnsure(e.unsure, cur, owner)
	e.unsure = kept
	y.drop(name, e)
	return found
}

// known reports whether name has an entry: a watch or unknown writes.
func (y *memory) known(name string) bool {
	y.mu.Lock()
	defer y.mu.Unlock()
	return y.m[name] != nil
}

// forget forgets name: it was acquired.
func (y *memory) forget(name string) {
	y.mu.Lock()
	defer y.mu.Unlock()
	delete(y.m, name)
}

// drop deletes name's entry e if it holds nothing. The caller holds y.mu.
func (y *memory) drop(name string, e *memo) {
	if !e.watched && len(e.unsure) == 0 {
		delete(y.m, name)
	}
}

// len returns the number of names remembered.
func (y *memory) len() int {
	y.mu.Lock()
	defer y.mu.Unlock()
	return len(y.m)
}
