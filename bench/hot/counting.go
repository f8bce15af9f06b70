package main

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// reqCounter counts the requests of one contender's client: every HTTP
// attempt (SDK retries included), per operation, and the answers that were
// ConditionalCheckFailed. Safe for concurrent use.
type reqCounter struct {
	requests  atomic.Int64
	conflicts atomic.Int64
	mu        sync.Mutex
	byOp      map[string]int64
}

// option installs the counter on a client. The middleware sits at the
// front of the Deserialize step, which runs once per attempt (inside the
// retry loop of the Finalize step), and sees the attempt's error after the
// operation's deserializer has typed it.
func (c *reqCounter) option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Deserialize.Add(countMiddleware{c}, middleware.Before)
		})
	}
}

func (c *reqCounter) ops() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.byOp)
}

type countMiddleware struct{ c *reqCounter }

func (countMiddleware) ID() string { return "hot.reqCounter" }

func (m countMiddleware) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	op := middleware.GetOperationName(ctx)
	m.c.requests.Add(1)
	m.c.mu.Lock()
	if m.c.byOp == nil {
		m.c.byOp = map[string]int64{}
	}
	m.c.byOp[op]++
	m.c.mu.Unlock()
	out, md, err := next.HandleDeserialize(ctx, in)
	if isConditionFailed(err) {
		m.c.conflicts.Add(1)
	}
	return out, md, err
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
