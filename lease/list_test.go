package lease_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/lease"
	"github.com/ddbocc/ddbocc/repo"
)

// scans records the ScanInputs a client sends.
type scans struct {
	mu  sync.Mutex
	ins []dynamodb.ScanInput
}

// take returns the ScanInputs recorded since the last take.
func (s *scans) take() []dynamodb.ScanInput {
	s.mu.Lock()
	defer s.mu.Unlock()
	ins := s.ins
	s.ins = nil
	return ins
}

func (s *scans) option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("scans", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if si, ok := in.Parameters.(*dynamodb.ScanInput); ok {
					s.mu.Lock()
					s.ins = append(s.ins, *si)
					s.mu.Unlock()
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
		})
	}
}

// List pages through every record of the table, held (by this Manager or
// another) or free, each as Inspect shows it, with strongly consistent
// Scans of at most Limit records.
func TestList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var sc scans
	table := ddblocal.TableName(t)
	m, err := lease.New(ddblocal.Client(t, sc.option()), table, func(o *lease.Options) { o.Data = []byte("m") })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.List(ctx); !errors.Is(err, repo.ErrTableNotFound) {
		t.Fatalf("List of a missing table: %v, want ErrTableNotFound", err)
	}
	if err := m.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	if page, err := m.List(ctx); err != nil || len(page.Records) != 0 || page.Next != "" {
		t.Fatalf("List of an empty table: %+v %v", page, err)
	}
	other := newManager(t, table)
	var names []string
	for i := range 7 {
		name := fmt.Sprintf("n%d", i)
		names = append(names, name)
		by := m
		if i%3 == 1 {
			by = other
		}
		l, err := by.Acquire(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 2 {
			if err := l.Release(ctx); err != nil {
				t.Fatal(err)
			}
		} else {
			defer l.Release(ctx)
		}
	}
	for _, limit := range []int{0, 1, 3, 7, 100} {
		sc.take()
		seen := map[string]lease.Status{}
		pages := 0
		for after := ""; ; {
			page, err := m.List(ctx, func(o *lease.ListOptions) { o.Limit, o.After = limit, after })
			if err != nil {
				t.Fatalf("limit %d: %v", limit, err)
			}
			pages++
			if limit > 0 && len(page.Records) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(page.Records))
			}
			for _, st := range page.Records {
				if _, dup := seen[st.Name]; dup {
					t.Fatalf("limit %d: %s listed twice", limit, st.Name)
				}
				seen[st.Name] = st
			}
			if page.Next == "" {
				break
			}
			after = page.Next
		}
		if limit > 0 && pages < (len(names)+limit-1)/limit {
			t.Errorf("limit %d: %d pages for %d records", limit, pages, len(names))
		}
		if len(seen) != len(names) {
			t.Fatalf("limit %d: listed %d records, want %d", limit, len(seen), len(names))
		}
		for _, name := range names {
			want, err := other.Inspect(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			want.Mine = want.Owner == m.Owner()
			if got := seen[name]; !reflect.DeepEqual(got, want) {
				t.Errorf("limit %d: listed %+v, Inspect says %+v", limit, got, want)
			}
		}
		ins := sc.take()
		for _, in := range ins {
			if !aws.ToBool(in.ConsistentRead) || limit > 0 && aws.ToInt32(in.Limit) != int32(limit) || limit == 0 && in.Limit != nil {
				t.Fatalf("limit %d: Scan with ConsistentRead %v, Limit %v", limit, aws.ToBool(in.ConsistentRead), in.Limit)
			}
		}
		if len(ins) != pages {
			t.Fatalf("limit %d: %d Scans for %d pages", limit, len(ins), pages)
		}
	}
	// A record as the holders left it.
	st, err := m.Inspect(ctx, "n0")
	if err != nil || !st.Held || !st.Mine || st.Token != 1 || string(st.Data) != "m" || st.Expires.IsZero() {
		t.Fatalf("n0: %+v %v", st, err)
	}
}

// A negative or too large Limit, and a cursor List did not make, are
// ErrInvalidArgument, before any request.
func TestListBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &ddblocal.RequestCounter{}
	m, err := lease.New(ddblocal.Client(t, c.Option()), ddblocal.TableName(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(*lease.ListOptions){
		"negative limit":  func(o *lease.ListOptions) { o.Limit = -1 },
		"limit too large": func(o *lease.ListOptions) { o.Limit = math.MaxInt32 + 1 },
		"not base64":      func(o *lease.ListOptions) { o.After = "n0!" },
		"bad length":      func(o *lease.ListOptions) { o.After = "bjAx_" },
		"not UTF-8":       func(o *lease.ListOptions) { o.After = "_w" },
		"padded":          func(o *lease.ListOptions) { o.After = "bjA=" },
	} {
		page, err := m.List(ctx, f)
		if !errors.Is(err, lease.ErrInvalidArgument) || page.Records != nil || page.Next != "" {
			t.Errorf("%s: %+v %v, want ErrInvalidArgument", name, page, err)
		}
	}
	if n := c.Count(); n != 0 {
		t.Fatalf("bad input sent %v", c.ByOperation())
	}
}
