package repo_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
)

// Child processes of the multi-process suites (TestLinearizability,
// TestLateWrites): the test binary runs itself with -test.run naming the
// child's test and the child's config, as JSON, in an environment
// variable.

// startChild starts this test binary running test with cfg in env, its
// output logged with prefix. The child talks to the same DynamoDB Local.
func startChild(ctx context.Context, t *testing.T, test, env string, cfg any, prefix string) *exec.Cmd {
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+string(js), ddblocal.EnvEndpoint+"="+ddblocal.Endpoint(t))
	out := &prefixWriter{t: t, prefix: prefix}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// childConfig reads a child's config from env into cfg, and skips the
// test when env is not set (the test runs only as a child of parent).
func childConfig(t *testing.T, env, parent string, cfg any) {
	js := os.Getenv(env)
	if js == "" {
		t.Skip("runs only as a child of " + parent)
	}
	if err := json.Unmarshal([]byte(js), cfg); err != nil {
		t.Fatal(err)
	}
}

// watchParent returns a context cancelled when the parent process dies
// (its test may have been killed), and a function that stops watching.
func watchParent() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	parent, done := os.Getppid(), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if os.Getppid() != parent {
					cancel()
					return
				}
			}
		}
	}()
	return ctx, func() { cancel(); <-done }
}
