package repo

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aws/smithy-go"

	"github.com/ddbocc/ddbocc/internal/ddbcode"
)

// Request observation: with Observer.Request set, every request a
// Repository sends goes through an [ObservedClient], which times it, asks
// DynamoDB for the capacity it consumed, and tells the observer.

// RequestEvent describes one request sent to DynamoDB.
type RequestEvent struct {
	// Op is the DynamoDB operation: "GetItem", "UpdateItem",
	// "TransactWriteItems", ...
	Op string
	// Table is the table; for a request over several tables (a
	// transaction, a batch), their names joined with ",".
	Table string
	// Latency is from the call to its answer, the SDK's own retries of the
	// request included.
	Latency time.Duration
	// Capacity is the capacity units the request consumed, as DynamoDB
	// reported them; 0 when it reported none (failed requests).
	Capacity float64
	// Outcome is one of the Outcome constants.
	Outcome string
	// Err is the request's error, nil for OutcomeOK.
	Err error
}

// Outcomes of a request (RequestEvent.Outcome).
const (
	OutcomeOK              = "ok"
	OutcomeConditionFailed = "condition_failed"     // a conditional write's condition failed
	OutcomeTxCanceled      = "transaction_canceled" // a transaction was cancelled
	OutcomeThrottled       = "throttled"            // throttled, after the SDK's retries
	OutcomeCanceled        = "canceled"             // the caller's ctx ended first
	OutcomeError           = "error"                // any other failure
)

// requestOutcome classifies err.
func requestOutcome(err error) string {
	var ccf *types.ConditionalCheckFailedException
	var tc *types.TransactionCanceledException
	switch {
	case err == nil:
		return OutcomeOK
	case errors.As(err, &ccf):
		return OutcomeConditionFailed
	case errors.As(err, &tc):
		return OutcomeTxCanceled
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return OutcomeCanceled
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && ddbcode.Throttled(apiErr.ErrorCode()) {
		return OutcomeThrottled
	}
	return OutcomeError
}

// ObservedClient returns client with every call reported to f: one
// [RequestEvent] per call, after it returns. Calls that can report the
// capacity they consumed ask for it (ReturnConsumedCapacity TOTAL, on a
// copy of the input) unless the input already asks. f is called on the
// calling goroutine; it must be quick and safe for concurrent use. A
// Repository whose Options.Observer.Request is set wraps its client so.
func ObservedClient(client API, f func(RequestEvent)) API {
	return &observed{next: client, f: f}
}

type observed struct {
	next API
	f    func(RequestEvent)
}

// observe runs call and reports it.
func observe[O any](o *observed, op, table string, call func() (*O, error), capacity func(*O) float64) (*O, error) {
	start := time.Now()
	out, err := call()
	ev := RequestEvent{Op: op, Table: table, Latency: time.Since(start), Outcome: requestOutcome(err), Err: err}
	if err == nil && out != nil && capacity != nil {
		ev.Capacity = capacity(out)
	}
	o.f(ev)
	return out, err
}

func total(c *types.ConsumedCapacity) float64 {
	if c == nil || c.CapacityUnits == nil {
		return 0
	}
	return *c.CapacityUnits
}

func totals(cs []types.ConsumedCapacity) float64 {
	s := 0.0
	for i := range cs {
		s += total(&cs[i])
	}
	return s
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// asked is the capacity setting of an input: TOTAL unless it asks for some.
func asked(c types.ReturnConsumedCapacity) types.ReturnConsumedCapacity {
	if c == "" {
		return types.ReturnConsumedCapacityTotal
	}
	return c
}

func (o *observed) GetItem(ctx context.Context, in *dynamodb.GetItemInput, fns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c := *in
	c.ReturnConsumedCapacity = asked(c.ReturnConsumedCapacity)
	return observe(o, "GetItem", str(in.TableName), func() (*dynamodb.GetItemOutput, error) { return o.next.GetItem(ctx, &c, fns...) },
		func(out *dynamodb.GetItemOutput) float64 { return total(out.ConsumedCapacity) })
}

func (o *observed) PutItem(ctx context.Context, in *dynamodb.PutItemInput, fns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c := *in
	c.ReturnConsumedCapacity = asked(c.ReturnConsumedCapacity)
	return observe(o, "PutItem", str(in.TableName), func() (*dynamodb.PutItemOutput, error) { return o.next.PutItem(ctx, &c, fns...) },
		func(out *dynamodb.PutItemOutput) float64 { return total(out.ConsumedCapacity) })
}

func (o *observed) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, fns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c := *in
	c.ReturnConsumedCapacity = asked(c.ReturnConsumedCapacity)
	return observe(o, "UpdateItem", str(in.TableName), func() (*dynamodb.UpdateItemOutput, error) { return o.next.UpdateItem(ctx, &c, fns...) },
		func(out *dynamodb.UpdateItemOutput) float64 { return total(out.ConsumedCapacity) })
}

func (o *observed) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, fns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c := *in
	c.ReturnConsumedCapacity = asked(c.ReturnConsumedCapacity)
	return observe(o, "DeleteItem", str(in.TableName), func() (*dynamodb.DeleteItemOutput, error) { return o.next.DeleteItem(ctx, &c, fns...) },
		func(out *dynamodb.DeleteItemOutput) float64 { return total(out.ConsumedCapacity) })
}

func (o *observed) Query(ctx context.Context, in *dynamodb.QueryInput, fns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c := *in
	c.ReturnConsumedCapacity = asked(c.ReturnConsumedCapacity)
	return observe(o, "Query", str(in.TableName), func() (*dynamodb.QueryOutput, error) { return o.next.Query(ctx, &c, fns...) },
		func(out *dynamodb.QueryOutput) float64 { return total(out.ConsumedCapacity) })
}

func (o *observed) Scan(ctx context.Context, in *dynamodb.ScanInput, fns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	c := *in
	c.ReturnConsumedCapacity = asked(c.ReturnConsumedCapacity)
	return observe(o, "Scan", str(in.TableName), func() (*dynamodb.ScanOutput, error) { return o.next.Scan(ctx, &c, fns...) },
		func(out *dynamodb.ScanOutput) float64 { return total(out.ConsumedCapacity) })
}

func (o *observed) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, fns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c := *in
	c.ReturnConsumedCapacity = asked(c.ReturnConsumedCapacity)
	tables := make([]string, 0, len(in.RequestItems))
	for t := range in.RequestItems {
		tables = append(tables, t)
	}
	return observe(o, "BatchGetItem", joinSorted(tables), func() (*dynamodb.BatchGetItemOutput, error) { return o.next.BatchGetItem(ctx, &c, fns...) },
		func(out *dynamodb.BatchGetItemOutput) float64 { return totals(out.ConsumedCapacity) })
}

func (o *observed) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, fns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c := *in
	c.ReturnConsumedCapacity = asked(c.ReturnConsumedCapacity)
	var tables []string
	for _, it := range in.TransactItems {
		switch {
		case it.Put != nil:
			tables = append(tables, str(it.Put.TableName))
		case it.Update != nil:
			tables = append(tables, str(it.Update.TableName))
		case it.Delete != nil:
			tables = append(tables, str(it.Delete.TableName))
		case it.ConditionCheck != nil:
			tables = append(tables, str(it.ConditionCheck.TableName))
		}
	}
	return observe(o, "TransactWriteItems", joinSorted(tables), func() (*dynamodb.TransactWriteItemsOutput, error) {
		return o.next.TransactWriteItems(ctx, &c, fns...)
	}, func(out *dynamodb.TransactWriteItemsOutput) float64 { return totals(out.ConsumedCapacity) })
}

func (o *observed) TransactGetItems(ctx context.Context, in *dynamodb.TransactGetItemsInput, fns ...func(*dynamodb.Options)) (*dynamodb.TransactGetItemsOutput, error) {
	c := *in
	c.ReturnConsumedCapacity = asked(c.ReturnConsumedCapacity)
	var tables []string
	for _, it := range in.TransactItems {
		if it.Get != nil {
			tables = append(tables, str(it.Get.TableName))
		}
	}
	return observe(o, "TransactGetItems", joinSorted(tables), func() (*dynamodb.TransactGetItemsOutput, error) {
		return o.next.TransactGetItems(ctx, &c, fns...)
	}, func(out *dynamodb.TransactGetItemsOutput) float64 { return totals(out.ConsumedCapacity) })
}

func (o *observed) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, fns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	return observe(o, "CreateTable", str(in.TableName), func() (*dynamodb.CreateTableOutput, error) { return o.next.CreateTable(ctx, in, fns...) }, nil)
}

func (o *observed) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, fns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return observe(o, "DescribeTable", str(in.TableName), func() (*dynamodb.DescribeTableOutput, error) { return o.next.DescribeTable(ctx, in, fns...) }, nil)
}

func (o *observed) UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, fns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error) {
	return observe(o, "UpdateTimeToLive", str(in.TableName), func() (*dynamodb.UpdateTimeToLiveOutput, error) { return o.next.UpdateTimeToLive(ctx, in, fns...) }, nil)
}

func (o *observed) DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, fns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	return observe(o, "DescribeTimeToLive", str(in.TableName), func() (*dynamodb.DescribeTimeToLiveOutput, error) { return o.next.DescribeTimeToLive(ctx, in, fns...) }, nil)
}

// joinSorted is the distinct names of tables, sorted, joined with ",".
func joinSorted(tables []string) string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tables {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// Observers returns an Observer that tells each of obs, in order, of every
// event: to log with one adapter and count with another.
func Observers(obs ...Observer) Observer {
	var out Observer
	for _, ob := range obs {
		out.Conflict = Chain(out.Conflict, ob.Conflict)
		out.Retry = Chain(out.Retry, ob.Retry)
		out.Request = Chain(out.Request, ob.Request)
		out.Combined = Chain(out.Combined, ob.Combined)
	}
	return out
}

// Chain returns a function that calls f, then g, skipping a nil one (nil
// if both are).
func Chain[E any](f, g func(E)) func(E) {
	switch {
	case f == nil:
		return g
	case g == nil:
		return f
	}
	return func(e E) { f(e); g(e) }
}
