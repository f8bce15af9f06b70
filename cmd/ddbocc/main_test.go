package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

func TestMain(m *testing.M) { ddblocal.RunTests(m) }

// cli runs the CLI with args and returns its exit code, stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// local runs the CLI against the test's DynamoDB Local.
func local(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return cli(t, append([]string{"--endpoint", ddblocal.Endpoint(t)}, args...)...)
}

// mustRun runs the CLI against DynamoDB Local and fails t unless it exits 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := local(t, args...)
	if code != 0 {
		t.Fatalf("ddbocc %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// leaseTable creates a lease table and returns it with a Manager of it.
func leaseTable(t *testing.T, optFns ...func(*lease.Options)) (*lease.Manager, string) {
	t.Helper()
	table := ddblocal.TableName(t)
	m, err := lease.New(ddblocal.Client(t), table, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m, table
}

func TestLeaseListShow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, table := leaseTable(t, func(o *lease.Options) { o.Data = []byte("job-42") })
	held, err := m.Acquire(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release(ctx)
	freed, err := m.Acquire(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	if err := freed.Release(ctx); err != nil {
		t.Fatal(err)
	}

	out := mustRun(t, "lease", "list", "--table", table)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[0], "TOKEN") {
		t.Fatalf("lease list:\n%s", out)
	}
	if f := strings.Fields(lines[1]); f[0] != "alpha" || f[1] != "held" || f[2] != m.Owner() || f[3] != strconv.FormatInt(held.Token(), 10) {
		t.Errorf("held lease row %q", lines[1])
	}
	if f := strings.Fields(lines[2]); f[0] != "beta" || f[1] != "free" || f[2] != "-" {
		t.Errorf("free lease row %q", lines[2])
	}

	out = mustRun(t, "--output", "json", "lease", "list", "--table", table)
	var list struct {
		Table  string      `json:"table"`
		Leases []leaseJSON `json:"leases"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("lease list json: %v\n%s", err, out)
	}
	if list.Table != table || len(list.Leases) != 2 {
		t.Fatalf("lease list json: %+v", list)
	}
	a, b := list.Leases[0], list.Leases[1]
	if a.Name != "alpha" || a.State != "held" || a.Owner != m.Owner() || a.Token != held.Token() || a.DurationMs != 10000 ||
		a.Data == nil || *a.Data != "job-42" || a.Expires == "" {
		t.Errorf("held lease json %+v", a)
	}
	if exp, err := time.Parse(time.RFC3339Nano, a.Expires); err != nil || exp.Before(time.Now()) {
		t.Errorf("held lease expires %q: %v", a.Expires, err)
	}
	if b.Name != "beta" || b.State != "free" || b.Owner != "" || b.Released == "" || b.Expires != "" {
		t.Errorf("free lease json %+v", b)
	}

	out = mustRun(t, "lease", "show", "alpha", "--table", table) // flags after the name too
	for _, want := range []string{"name:", "alpha", "state:", "held", "owner:", m.Owner(), "token:", "expires:", `"job-42"`} {
		if !strings.Contains(out, want) {
			t.Errorf("lease show lacks %q:\n%s", want, out)
		}
	}
	var one leaseJSON
	out = mustRun(t, "lease", "show", "--table", table, "--output", "json", "beta")
	if err := json.Unmarshal([]byte(out), &one); err != nil || one.Name != "beta" || one.State != "free" || !one.Exists {
		t.Errorf("lease show json: %+v %v\n%s", one, err, out)
	}
	out = mustRun(t, "lease", "show", "--table", table, "nope")
	if !strings.Contains(out, "missing") {
		t.Errorf("lease show of a missing name:\n%s", out)
	}

	// An empty table.
	_, empty := leaseTable(t)
	if out := mustRun(t, "lease", "list", "--table", empty); !strings.Contains(out, "no lease records") {
		t.Errorf("lease list of an empty table:\n%s", out)
	}
	out = mustRun(t, "lease", "list", "--table", empty, "--output", "json")
	if err := json.Unmarshal([]byte(out), &list); err != nil || list.Leases == nil || len(list.Leases) != 0 {
		t.Errorf("lease list json of an empty table: %v\n%s", err, out)
	}
}

func TestLeaseBreak(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, table := leaseTable(t, func(o *lease.Options) { o.Duration = 3 * time.Second })
	l, err := m.Acquire(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)

	code, out, errs := local(t, "lease", "break", "--table", table, "job")
	if code != 1 || out != "" {
		t.Fatalf("break of a live lease: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	for _, want := range []string{"is live", m.Owner(), "last renewed at", "--force"} {
		if !strings.Contains(errs, want) {
			t.Errorf("refusal lacks %q: %s", want, errs)
		}
	}
	if st, _ := m.Inspect(ctx, "job"); st.Token != l.Token() || st.Owner != m.Owner() {
		t.Fatalf("refused break changed the record: %+v", st)
	}

	out = mustRun(t, "lease", "break", "job", "--table", table, "--force")
	if !strings.Contains(out, "broken") || !strings.Contains(out, m.Owner()) {
		t.Errorf("break --force: %s", out)
	}
	st, err := m.Inspect(ctx, "job")
	if err != nil || st.Held || st.Token <= l.Token() {
		t.Fatalf("after break --force: %+v %v (old token %d)", st, err, l.Token())
	}
	select {
	case <-l.Context().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("holder not told at its next renewal")
	}
	if !errors.Is(l.Err(), lease.ErrLost) {
		t.Errorf("holder's Err: %v", l.Err())
	}

	// Nothing to break: a free record, a missing one; JSON output.
	var res struct {
		Name   string     `json:"name"`
		Broken bool       `json:"broken"`
		Before leaseJSON  `json:"before"`
		After  *leaseJSON `json:"after"`
	}
	out = mustRun(t, "--output", "json", "lease", "break", "--table", table, "job")
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Broken || res.Before.State != "free" || res.After != nil {
		t.Errorf("break of a free record: %+v %v\n%s", res, err, out)
	}
	if out := mustRun(t, "lease", "break", "--table", table, "nope"); !strings.Contains(out, "nothing to break") {
		t.Errorf("break of a missing record: %s", out)
	}

	// A lease whose holder stopped renewing (its expiry has passed) is
	// broken without --force; JSON says what it was.
	stopped, err := lease.New(ddblocal.Client(t), table, func(o *lease.Options) { o.Clock = stoppedClock(time.Now().Add(-time.Minute)) })
	if err != nil {
		t.Fatal(err)
	}
	gone, err := stopped.TryAcquire(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Release(ctx)
	out = mustRun(t, "--output", "json", "lease", "break", "--table", table, "gone")
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.Broken || res.Before.State != "expired" ||
		res.Before.Owner != stopped.Owner() || res.After == nil || res.After.State != "free" || res.After.Token <= gone.Token() {
		t.Errorf("break of an expired lease: %+v %v\n%s", res, err, out)
	}
}

// stoppedClock is a retry.Clock that stands still at t: a holder on it
// never renews.
type stoppedClock time.Time

func (c stoppedClock) Now() time.Time { return time.Time(c) }

func (c stoppedClock) AfterFunc(time.Duration, func()) func() bool {
	return func() bool { return true }
}

// Misuse of the command line: a usage message on stderr, exit code 2,
// before any request (no endpoint or credentials needed).
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{},
		{"bogus"},
		{"lease"},
		{"lease", "nope"},
		{"item", "list"},
		{"lease", "list"},                 // no --table
		{"lease", "show", "--table", "t"}, // no name
		{"lease", "show", "--table", "t", "a", "b"},           // two names
		{"lease", "break", "--table", "t"},                    // no name
		{"lease", "list", "--table", "t", "extra"},            // an argument
		{"lease", "list", "--table", "t", "--bogus"},          // an unknown flag
		{"lease", "list", "--force", "--table", "t"},          // break's flag
		{"lease", "list", "--table"},                          // a flag without its value
		{"--output", "xml", "lease", "list", "--table", "t"},  // a bad format
		{"lease", "list", "--table", "t", "--output", "yaml"}, // after the command too
		{"--timeout", "0s", "lease", "list", "--table", "t"},
		{"--timeout", "soon", "lease", "list", "--table", "t"},
		{"item", "show", "--table", "t"}, // no key
		{"item", "show", "k"},            // no --table
		{"item", "show", "--table", "t", "--version-attr", "", "k"},
	} {
		code, out, errs := cli(t, args...)
		if code != 2 || out != "" || !strings.HasPrefix(errs, "ddbocc: ") || !strings.Contains(errs, "Usage:") {
			t.Errorf("ddbocc %q: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	for _, args := range [][]string{{"-h"}, {"help"}, {"lease", "break", "--help"}} {
		code, out, errs := cli(t, args...)
		if code != 0 || !strings.Contains(out, "Usage:") || errs != "" {
			t.Errorf("ddbocc %q: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
}

// A table that does not exist is named, with where it was looked for.
func TestUnknownTable(t *testing.T) {
	t.Parallel()
	endpoint := ddblocal.Endpoint(t)
	table := ddblocal.TableName(t)
	for _, args := range [][]string{
		{"lease", "list", "--table", table},
		{"lease", "show", "--table", table, "x"},
		{"lease", "break", "--table", table, "--force", "x"},
		{"item", "show", "--table", table, "x"},
	} {
		code, out, errs := local(t, args...)
		want := "ddbocc: table " + table + " not found at endpoint " + endpoint + "\n"
		if code != 1 || out != "" || errs != want {
			t.Errorf("ddbocc %q: exit %d, stdout %q, stderr %q, want %q", args, code, out, errs, want)
		}
	}
}

// noAWSEnv clears the AWS configuration of the environment for the test:
// no credentials, no profile, no config files, no instance metadata.
func noAWSEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return dir
}

// Without credentials (no environment, no profile, no endpoint) the error
// says how to provide them; a missing region or profile is named too.
func TestMissingConfig(t *testing.T) {
	noAWSEnv(t)
	code, out, errs := cli(t, "lease", "list", "--table", "t")
	if code != 1 || out != "" || !strings.Contains(errs, "no AWS region") || !strings.Contains(errs, "--region") {
		t.Errorf("no region: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, out, errs = cli(t, "--region", "eu-west-1", "lease", "list", "--table", "t")
	if code != 1 || out != "" || !strings.Contains(errs, "no AWS credentials found") ||
		!strings.Contains(errs, "AWS_ACCESS_KEY_ID") || !strings.Contains(errs, "--profile") || !strings.Contains(errs, "--endpoint") {
		t.Errorf("no credentials: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, _, errs = cli(t, "--region", "eu-west-1", "--profile", "nope", "lease", "list", "--table", "t")
	if code != 1 || !strings.Contains(errs, `profile "nope" not found`) {
		t.Errorf("missing profile: exit %d, stderr %q", code, errs)
	}
	// With an endpoint, dummy credentials: no configuration needed.
	_, table := leaseTable(t)
	mustRun(t, "lease", "list", "--table", table)
}

// No secret of the environment or of a profile is ever printed: not in
// output, not in errors, not even when the user passes one as an argument.
func TestSecretNotPrinted(t *testing.T) {
	dir := noAWSEnv(t)
	envSecret := "envSECRET" + strconv.FormatInt(time.Now().UnixNano(), 36)
	profSecret := "profileSECRET" + strconv.FormatInt(time.Now().UnixNano(), 36)
	token := "sessionTOKEN" + strconv.FormatInt(time.Now().UnixNano(), 36)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", envSecret)
	t.Setenv("AWS_SESSION_TOKEN", token)
	creds := "[ops]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = " + profSecret + "\nregion = eu-west-1\n"
	if err := os.WriteFile(filepath.Join(dir, "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, table := leaseTable(t)
	l, err := m.Acquire(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	accounts, err := repo.New[account](ddblocal.Client(t), ddblocal.TableName(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := accounts.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Create(ctx, account{ID: "a", Owner: envSecret}); err != nil {
		t.Fatal(err)
	}
	endpoint := ddblocal.Endpoint(t)
	var all strings.Builder
	for _, args := range [][]string{
		{"--endpoint", endpoint, "lease", "list", "--table", table},
		{"--endpoint", endpoint, "--profile", "ops", "lease", "list", "--table", table, "--output", "json"},
		{"--endpoint", endpoint, "--profile", "ops", "lease", "show", "--table", table, "job"},
		{"--endpoint", endpoint, "--profile", "ops", "lease", "break", "--table", table, "job"},
		{"--endpoint", endpoint, "--profile", "ops", "lease", "list", "--table", "missing-" + profSecret},
		{"--endpoint", endpoint, "lease", "list", "--table", envSecret},
		{"--endpoint", endpoint, "item", "show", "--table", accounts.Table(), "a"},
		{"--endpoint", endpoint, "--output", "json", "item", "show", "--table", accounts.Table(), "a"},
		{"--endpoint", endpoint, "--profile", "nope", "lease", "list", "--table", table},
		{"--region", "eu-west-1", "--endpoint", "http://127.0.0.1:1", "--profile", "ops", "--timeout", "2s", "lease", "list", "--table", table},
		{"lease", "list", "--table", token},
		{"--bogus", envSecret},
	} {
		code, out, errs := cli(t, args...)
		all.WriteString(out + errs)
		t.Logf("ddbocc %q: exit %d\n%s%s", args, code, out, errs)
	}
	text := all.String()
	for _, s := range []string{envSecret, profSecret, token} {
		if strings.Contains(text, s) {
			t.Errorf("secret %q printed", s)
		}
	}
	// The table named after a secret is named masked.
	if !strings.Contains(text, "table [REDACTED] not found") {
		t.Errorf("no masked table name in the output:\n%s", text)
	}
}
