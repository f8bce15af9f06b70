package lease_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

type event struct {
	ID      string `dynamo:"id,hash"`
	Version int64  `dynamo:"version"`
}

const helperEnv = "LEASE_HELPER"

// TestHelperProcess is run as a child process by the process tests.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process")
	}
	ctx := context.Background()
	table := os.Getenv("LEASE_TABLE")
	client := ddblocal.NewClient(os.Getenv(ddblocal.EnvEndpoint))
	m, err := lease.New(client, table, func(o *lease.Options) { o.Duration = 2 * time.Second })
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	switch mode {
	case "count":
		n, _ := strconv.Atoi(os.Getenv("LEASE_N"))
		for range n {
			l, err := m.Acquire(ctx, "counter")
			if err != nil {
				fmt.Println("error", err)
				os.Exit(2)
			}
			out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table + "-data"), ConsistentRead: aws.Bool(true),
				Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "c"}}})
			if err != nil {
				fmt.Println("error", err)
				os.Exit(2)
			}
			c := 0
			if v, ok := out.Item["n"].(*types.AttributeValueMemberN); ok {
				c, _ = strconv.Atoi(v.Value)
			}
			time.Sleep(2 * time.Millisecond)
			_, err = client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table + "-data"), Item: map[string]types.AttributeValue{
				"id": &types.AttributeValueMemberS{Value: "c"}, "n": &types.AttributeValueMemberN{Value: strconv.Itoa(c + 1)}}})
			if err != nil {
				fmt.Println("error", err)
				os.Exit(2)
			}
			fmt.Println("token", l.Token(), "read", c)
			if err := l.Release(ctx); err != nil {
				fmt.Println("error", err)
				os.Exit(2)
			}
		}
		fmt.Println("done")
	case "hold":
		l, err := m.Acquire(ctx, "crash")
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("holding", l.Token())
		select {}
	case "fair":
		fairChild(ctx, m)
	case "pause":
		l, err := m.Acquire(ctx, "pause")
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("holding", l.Token())
		select {
		case <-l.Context().Done():
		case <-time.After(20 * time.Second):
			fmt.Println("error: Context not done")
			os.Exit(2)
		}
		fmt.Println("lost:", l.Err())
		events, err := repo.New[event](client, table+"-events")
		if err == nil {
			_, err = events.Create(ctx, event{ID: "late"}, repo.Guard(l.Condition()))
		}
		fmt.Printf("guarded write refused: %v\n", errors.Is(err, repo.ErrGuardFailed) && errors.Is(err, lease.ErrLost))
	}
	os.Exit(0)
}

func child(t *testing.T, mode, table string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "LEASE_TABLE="+table, ddblocal.EnvEndpoint+"="+ddblocal.Endpoint(t))
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

func TestMutualExclusionAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, table := setup(t)
	client := ddblocal.Client(t)
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table + "-data"), BillingMode: types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}}})
	if err != nil {
		t.Fatal(err)
	}
	const procs, each = 3, 15
	outs := make(chan string, procs)
	for range procs {
		cmd := child(t, "count", table, "LEASE_N="+strconv.Itoa(each))
		go func() {
			b, err := cmd.CombinedOutput()
			if err != nil {
				b = append(b, []byte("error "+err.Error())...)
			}
			outs <- string(b)
		}()
	}
	// tokens[c] is the token of the holder that read counter value c.
	tokens := map[int64]int64{}
	for range procs {
		out := <-outs
		if !strings.Contains(out, "done") {
			t.Fatalf("child: %s", out)
		}
		for _, line := range strings.Split(out, "\n") {
			var tk, c int64
			if _, err := fmt.Sscanf(line, "token %d read %d", &tk, &c); err == nil {
				if prev, dup := tokens[c]; dup {
					t.Fatalf("counter value %d read by two holders (tokens %d and %d)", c, prev, tk)
				}
				tokens[c] = tk
			}
		}
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table + "-data"), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "c"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Item["n"].(*types.AttributeValueMemberN).Value; got != strconv.Itoa(procs*each) {
		t.Fatalf("counter %s, want %d", got, procs*each)
	}
	// Tokens strictly increase along the counter, i.e. in the order the
	// holders held the lease, across processes.
	for c := int64(0); c < procs*each; c++ {
		tk, ok := tokens[c]
		if !ok {
			t.Fatalf("no holder read counter value %d", c)
		}
		if c > 0 && tk <= tokens[c-1] {
			t.Fatalf("token %d after token %d", tk, tokens[c-1])
		}
	}
	_ = m
}

func TestCrashTakeover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, table := setup(t)
	cmd := child(t, "hold", table)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := stdout.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "holding") {
		t.Fatalf("child: %q", buf[:n])
	}
	cmd.Process.Kill()
	cmd.Wait()
	start := time.Now()
	l, err := m.Acquire(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	defer l.Release(ctx)
	// The child's lease is 2s; it renewed at most just before dying.
	if el < 2*time.Second || el > 4*time.Second {
		t.Fatalf("takeover after %v, want about one lease duration (2s)", el)
	}
	t.Logf("takeover after %v", el)
}

func TestPauseTakeover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, table := setup(t)
	events, err := repo.New[event](ddblocal.Client(t), table+"-events")
	if err != nil {
		t.Fatal(err)
	}
	if err := events.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	cmd := child(t, "pause", table)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	buf := make([]byte, 64)
	n, _ := stdout.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "holding") {
		t.Fatalf("child: %q", buf[:n])
	}
	cmd.Process.Signal(syscall.SIGSTOP)
	l, err := m.Acquire(ctx, "pause")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	cmd.Process.Signal(syscall.SIGCONT)
	rest, _ := io.ReadAll(stdout)
	cmd.Wait()
	out := string(rest)
	if !strings.Contains(out, "lost: lease:") || !strings.Contains(out, "guarded write refused: true") {
		t.Fatalf("resumed holder: %s", out)
	}
	t.Logf("resumed holder: %s", strings.TrimSpace(out))
}
