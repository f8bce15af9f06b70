package dynamolocal

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// RequestCounter counts the HTTP requests that DynamoDB clients send,
// including each attempt made by the SDK's own retryer, in total and per
// operation name ("GetItem", "PutItem", ...). A request is counted when it is
// handed to the HTTP client, whether or not a response arrives.
//
// Install it with [RequestCounter.Option]. The zero value is ready to use; a
// RequestCounter must not be copied after first use. All methods are safe for
// concurrent use and do not block (beyond a short internal lock).
type RequestCounter struct {
	total atomic.Int64
	mu    sync.Mutex
	byOp  map[string]int64
}

// counterMiddlewareID is the ID of the middleware added by Option.
const counterMiddlewareID = "dynamolocal.RequestCounter"

// Option returns a client option (for [NewClient], dynamodb.New or a single
// operation call) that makes the client report its requests to c. It adds a
// middleware at the end of the Deserialize step, which runs once per attempt,
// inside the retry loop of the Finalize step. Apply it at most once per client.
func (c *RequestCounter) Option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Deserialize.Add(counterMiddleware{c}, middleware.After)
		})
	}
}

// Count returns the number of requests counted since creation or the last
// [RequestCounter.Reset].
func (c *RequestCounter) Count() int64 { return c.total.Load() }

// ByOperation returns a snapshot of the counts per operation name. The caller
// owns the returned map.
func (c *RequestCounter) ByOperation() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := maps.Clone(c.byOp)
	if m == nil {
		m = map[string]int64{}
	}
	return m
}

// Reset sets all counts to zero. Requests in flight during Reset may be counted
// before or after it.
func (c *RequestCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total.Store(0)
	clear(c.byOp)
}

func (c *RequestCounter) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total.Add(1)
	if c.byOp == nil {
		c.byOp = map[string]int64{}
	}
	c.byOp[op]++
}

type counterMiddleware struct{ c *RequestCounter }

func (counterMiddleware) ID() string { return counterMiddlewareID }

func (m counterMiddleware) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	op := middleware.GetOperationName(ctx)
	if op == "" {
		op = "unknown"
	}
	m.c.add(op)
	return next.HandleDeserialize(ctx, in)
}
