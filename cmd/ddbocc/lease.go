package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// The lease commands: list, show and break, through a lease.Manager of
// the table.

// leaseFlags are the flags of one lease command.
type leaseFlags struct {
	table string
	force bool
}

func (f *leaseFlags) register(fs *flag.FlagSet, force bool) {
	fs.StringVar(&f.table, "table", "", "lease table")
	if force {
		fs.BoolVar(&f.force, "force", false, "break a live lease too")
	}
}

var leaseCommands = map[string]command{
	"list": {setup: func(fs *flag.FlagSet) runner {
		f := &leaseFlags{}
		f.register(fs, false)
		return f.list
	}},
	"show": {setup: func(fs *flag.FlagSet) runner {
		f := &leaseFlags{}
		f.register(fs, false)
		return f.show
	}},
	"break": {setup: func(fs *flag.FlagSet) runner {
		f := &leaseFlags{}
		f.register(fs, true)
		return f.breakLease
	}},
}

// manager returns a lease.Manager of the table, with an owner id that
// names the CLI (it is written into the records Break takes over).
func (e *env) manager(table string) (*lease.Manager, error) {
	return lease.New(e.client.ddb, table, func(o *lease.Options) { o.Owner = cliOwner() })
}

func cliOwner() string {
	h, _ := os.Hostname()
	if h == "" {
		h = "host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "ddbocc-cli-" + h + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
}

// args checks the table flag and the number of positional arguments.
func (f *leaseFlags) args(cmd string, args []string, want int) error {
	if err := needTable(f.table); err != nil {
		return err
	}
	switch {
	case len(args) < want:
		return usagef("lease %s: missing the lease NAME", cmd)
	case len(args) > want:
		return usagef("lease %s: unexpected arguments %q", cmd, args[want:])
	}
	return nil
}

// open checks cmd's flags and args (want positional ones), connects and
// returns the Manager of the lease table.
func (f *leaseFlags) open(ctx context.Context, e *env, cmd string, args []string, want int) (*lease.Manager, error) {
	if err := f.args(cmd, args, want); err != nil {
		return nil, err
	}
	if err := e.connect(ctx); err != nil {
		return nil, err
	}
	return e.manager(f.table)
}

func (f *leaseFlags) list(ctx context.Context, e *env, args []string) error {
	m, err := f.open(ctx, e, "list", args, 0)
	if err != nil {
		return err
	}
	var all []lease.Status
	for after := ""; ; {
		page, err := m.List(ctx, func(o *lease.ListOptions) { o.After = after })
		if err != nil {
			return e.client.tableErr(f.table, err)
		}
		all = append(all, page.Records...)
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	slices.SortFunc(all, func(a, b lease.Status) int { return strings.Compare(a.Name, b.Name) })
	now := time.Now()
	if e.output == "json" {
		out := struct {
			Table  string      `json:"table"`
			Leases []leaseJSON `json:"leases"`
		}{Table: f.table, Leases: make([]leaseJSON, 0, len(all))}
		for _, st := range all {
			out.Leases = append(out.Leases, toLeaseJSON(st, now))
		}
		return writeJSON(e.stdout, out)
	}
	t := newTable()
	t.row("NAME", "STATE", "OWNER", "TOKEN", "VERSION", "DURATION", "EXPIRES")
	for _, st := range all {
		exp := "-"
		if st.Held {
			exp = stamp(st.Expires, now)
		}
		t.row(st.Name, state(st, now), orDash(st.Owner), strconv.FormatInt(st.Token, 10),
			strconv.FormatInt(st.Version, 10), st.Duration.String(), exp)
	}
	if len(all) == 0 {
		t.row("(no lease records in table " + f.table + ")")
	}
	return t.writeTo(e.stdout)
}

func (f *leaseFlags) show(ctx context.Context, e *env, args []string) error {
	m, err := f.open(ctx, e, "show", args, 1)
	if err != nil {
		return err
	}
	st, err := m.Inspect(ctx, args[0])
	if err != nil {
		return e.client.tableErr(f.table, err)
	}
	now := time.Now()
	if e.output == "json" {
		return writeJSON(e.stdout, toLeaseJSON(st, now))
	}
	t := newTable()
	showStatus(t, st, now)
	return t.writeTo(e.stdout)
}

// showStatus adds st's lines to t.
func showStatus(t *table, st lease.Status, now time.Time) {
	t.row("name:", st.Name)
	t.row("state:", state(st, now))
	if !st.Exists {
		return
	}
	t.row("owner:", orDash(st.Owner))
	t.row("token:", strconv.FormatInt(st.Token, 10))
	t.row("version:", strconv.FormatInt(st.Version, 10))
	t.row("duration:", st.Duration.String())
	if st.Held {
		t.row("expires:", stamp(st.Expires, now)+", by the holder's clock")
	} else {
		t.row("released:", stamp(st.Expires, now))
	}
	t.row("data:", bytesText(st.Data))
	if st.Done {
		t.row("done:", fmt.Sprintf("by %s (token %d) at %s", st.DoneBy, st.DoneToken, stamp(st.DoneAt, now)))
	}
}

func (f *leaseFlags) breakLease(ctx context.Context, e *env, args []string) error {
	m, err := f.open(ctx, e, "break", args, 1)
	if err != nil {
		return err
	}
	name := args[0]
	res, err := m.Break(ctx, name, func(o *lease.BreakOptions) { o.Force = f.force })
	if errors.Is(err, lease.ErrLive) {
		return fmt.Errorf("%w\nuse --force to break it anyway: the holder's guarded writes are then refused, and it learns at its next renewal that it lost the lease", err)
	}
	if errors.Is(err, repo.ErrConflict) && !res.After.Exists {
		return fmt.Errorf("%w\nthe record was written meanwhile (a renewal?): nothing was overwritten; look again with lease show", err)
	}
	if err != nil {
		return e.client.tableErr(f.table, err)
	}
	now := time.Now()
	if e.output == "json" {
		out := struct {
			Name   string     `json:"name"`
			Broken bool       `json:"broken"`
			Live   bool       `json:"live"`
			Before leaseJSON  `json:"before"`
			After  *leaseJSON `json:"after,omitempty"`
		}{Name: name, Broken: res.Broken, Live: res.Live, Before: toLeaseJSON(res.Before, now)}
		if res.Broken {
			a := toLeaseJSON(res.After, now)
			out.After = &a
		}
		return writeJSON(e.stdout, out)
	}
	var msg string
	switch {
	case !res.Before.Exists:
		msg = fmt.Sprintf("lease %q: nothing to break: no record in table %s\n", name, f.table)
	case !res.Broken:
		msg = fmt.Sprintf("lease %q: nothing to break: free (token %d, version %d)\n", name, res.Before.Token, res.Before.Version)
	default:
		was := "expired"
		if res.Live {
			was = "live, forced"
		}
		msg = fmt.Sprintf("lease %q broken: was held by %s (token %d, %s); now free at token %d (version %d): token %d is fenced off\n",
			name, res.Before.Owner, res.Before.Token, was, res.After.Token, res.After.Version, res.Before.Token)
	}
	_, err = fmt.Fprint(e.stdout, msg)
	return err
}

// state is st's state for people: missing, free, held, or expired (held,
// but its expiry has passed by this host's clock: the holder stopped
// renewing, or the clocks differ).
func state(st lease.Status, now time.Time) string {
	switch {
	case !st.Exists:
		return "missing"
	case !st.Held:
		return "free"
	case !now.Before(st.Expires):
		return "expired"
	}
	return "held"
}

// leaseJSON is a lease record in JSON output.
type leaseJSON struct {
	Name       string  `json:"name"`
	Exists     bool    `json:"exists"`
	State      string  `json:"state"`
	Owner      string  `json:"owner,omitempty"`
	Token      int64   `json:"token"`
	Version    int64   `json:"version"`
	DurationMs int64   `json:"duration_ms"`
	Expires    string  `json:"expires,omitempty"`  // held: the holder's estimate of its expiry
	Released   string  `json:"released,omitempty"` // free: when it was released
	Data       *string `json:"data,omitempty"`     // the data as text, if printable
	DataBase64 string  `json:"data_base64,omitempty"`
	Done       bool    `json:"done"`
	DoneBy     string  `json:"done_by,omitempty"`
	DoneToken  int64   `json:"done_token,omitempty"`
	DoneAt     string  `json:"done_at,omitempty"`
}

func toLeaseJSON(st lease.Status, now time.Time) leaseJSON {
	j := leaseJSON{Name: st.Name, Exists: st.Exists, State: state(st, now), Owner: st.Owner,
		Token: st.Token, Version: st.Version, DurationMs: st.Duration.Milliseconds(),
		Done: st.Done, DoneBy: st.DoneBy, DoneToken: st.DoneToken, DoneAt: rfc3339(st.DoneAt)}
	if st.Exists {
		if st.Held {
			j.Expires = rfc3339(st.Expires)
		} else {
			j.Released = rfc3339(st.Expires)
		}
	}
	if len(st.Data) > 0 {
		if s, ok := printable(st.Data); ok {
			j.Data = &s
		}
		j.DataBase64 = base64Std(st.Data)
	}
	return j
}
