// Command ddbocc is the operator CLI of ddbocc: it lists, shows and breaks
// the leases of a lease table, and shows a versioned item's version and
// write ids.
//
// Usage:
//
//	ddbocc [global flags] lease list  --table T
//	ddbocc [global flags] lease show  --table T NAME
//	ddbocc [global flags] lease break --table T [--force] NAME
//	ddbocc [global flags] item show   --table T [--version-attr A] [--write-id-attr W] KEY [RANGEKEY]
//
// Global flags (also accepted after the command): --endpoint URL,
// --region R, --profile P, --output table|json, --timeout D.
//
// Exit codes: 0 done, 1 a runtime error (the message is on stderr), 2 a
// misuse of the command line (a usage message is on stderr).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usageText = `Usage:
  ddbocc [global flags] lease list  --table T
  ddbocc [global flags] lease show  --table T NAME
  ddbocc [global flags] lease break --table T [--force] NAME
  ddbocc [global flags] item show   --table T [--version-attr A] [--write-id-attr W] KEY [RANGEKEY]

Commands:
  lease list    list the lease table's records: holder, token, version, expiry
  lease show    show one lease record
  lease break   take a lease over and release it, so that its token moves on and
                its holder's guarded writes are refused; a lease renewed within
                its duration is refused unless --force
  item show     show an item's version, write ids and other attributes; KEY
                (and RANGEKEY) are parsed by the table's key types: S as is,
                N as a number, B as base64 (put "--" before a negative number)

Global flags (before or after the command):
  --endpoint URL    DynamoDB endpoint, e.g. http://localhost:8000 for DynamoDB
                    Local (static dummy credentials then, unless --profile)
  --region R        AWS region (default: the AWS config chain; us-east-1 with
                    --endpoint)
  --profile P       shared config profile (~/.aws/config, ~/.aws/credentials)
  --output F        table or json (default table)
  --timeout D       give up after D (default 30s)

Credentials come from the standard AWS chain: environment variables
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), --profile or AWS_PROFILE, SSO,
web identity, container or instance roles.

Exit codes: 0 done, 1 runtime error, 2 command-line misuse.
`

// usageError is a misuse of the command line: exit code 2, with the usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// globals are the flags every command accepts.
type globals struct {
	endpoint string
	region   string
	profile  string
	output   string
	timeout  time.Duration
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.endpoint, "endpoint", g.endpoint, "DynamoDB endpoint URL")
	fs.StringVar(&g.region, "region", g.region, "AWS region")
	fs.StringVar(&g.profile, "profile", g.profile, "AWS shared config profile")
	fs.StringVar(&g.output, "output", g.output, "output format: table or json")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "give up after this long")
}

func (g *globals) validate() error {
	switch {
	case g.output != "table" && g.output != "json":
		return usagef("--output %q: want table or json", g.output)
	case g.timeout <= 0:
		return usagef("--timeout %v: want > 0", g.timeout)
	}
	return nil
}

// env is one invocation: its flags, where it writes, and its client once
// made.
type env struct {
	globals
	stdout, stderr io.Writer
	red            *redactor
	client         *client // set by connect
}

// connect makes the invocation's client; commands call it once their
// arguments are checked.
func (e *env) connect(ctx context.Context) error {
	c, err := connect(ctx, e.globals, e.red)
	e.client = c
	return err
}

// command is one subcommand: setup registers its flags on fs and returns
// the function that runs it with the positional arguments, once fs is
// parsed.
type command struct {
	setup func(fs *flag.FlagSet) runner
}

type runner func(ctx context.Context, e *env, args []string) error

// run runs the CLI with args (without the program name) and returns the
// exit code: 0 done, 1 a runtime error, 2 a misuse of the command line.
// Everything it writes to stdout and stderr is passed through a filter
// that masks the secret key and session token of the environment.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	red := newRedactor()
	stdout, stderr = red.writer(stdout), red.writer(stderr)
	e := &env{globals: globals{output: "table", timeout: 30 * time.Second}, stdout: stdout, stderr: stderr, red: red}
	err := dispatch(ctx, e, args)
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usageText)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "ddbocc: %s\n\n%s", ue.msg, usageText)
		return 2
	}
	fmt.Fprintf(stderr, "ddbocc: %s\n", explain(ctx, e, err))
	return 1
}

// dispatch parses the global flags and the command, then runs it.
func dispatch(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("ddbocc")
	e.register(fs)
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usagef("no command")
	}
	if rest[0] == "help" {
		return flag.ErrHelp
	}
	group, ok := commands[rest[0]]
	if !ok {
		return usagef("unknown command %q", rest[0])
	}
	if len(rest) < 2 {
		return usagef("%s: no subcommand (want one of %s)", rest[0], strings.Join(names(group), ", "))
	}
	cmd, ok := group[rest[1]]
	if !ok {
		return usagef("unknown command %q (want one of %s)", rest[0]+" "+rest[1], strings.Join(names(group), ", "))
	}
	fs = newFlagSet("ddbocc " + rest[0] + " " + rest[1])
	e.register(fs)
	runCmd := cmd.setup(fs)
	pos, err := parseInterspersed(fs, rest[2:])
	if err != nil {
		return flagError(err)
	}
	if err := e.validate(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	return runCmd(ctx, e, pos)
}

// commands are the command groups and their subcommands.
var commands = map[string]map[string]command{
	"lease": leaseCommands,
	"item":  itemCommands,
}

func names(group map[string]command) []string {
	var ns []string
	for _, n := range []string{"list", "show", "break"} {
		if _, ok := group[n]; ok {
			ns = append(ns, n)
		}
	}
	return ns
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints the one usage message
	return fs
}

// flagError is the usage error of a flag parse error.
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usagef("%v", err)
}

// parseInterspersed parses fs's flags anywhere among args and returns the
// positional arguments; everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// needTable returns the --table flag's value, or a usage error.
func needTable(table string) error {
	if table == "" {
		return usagef("--table is required")
	}
	return nil
}

// explain is the message of runtime error err: a timeout says which flag
// sets it.
func explain(ctx context.Context, e *env, err error) string {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Sprintf("%v\n(gave up after --timeout %v)", err, e.timeout)
	}
	return err.Error()
}
