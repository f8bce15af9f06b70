package faults

import (
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
)

// Client returns a DynamoDB client for the DynamoDB Local at endpoint (see
// ddblocal.NewClient) whose requests go through a new Transport built from
// cfg, and that Transport. optFns are applied after the transport is set.
func Client(endpoint string, cfg Config, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, *Transport) {
	t := New(cfg, nil)
	return ddblocal.NewClient(endpoint, append([]func(*dynamodb.Options){t.Option()}, optFns...)...), t
}

// FastRetries is a client option for fault tests: the SDK's standard
// retryer (3 attempts) with a full-jitter backoff of at most 5 ms per attempt
// instead of up to a second or more, and no retry quota, so that injected
// faults cost milliseconds and a long run does not drain the quota.
func FastRetries(o *dynamodb.Options) {
	o.Retryer = awsretry.NewStandard(func(so *awsretry.StandardOptions) {
		so.RateLimiter = ratelimit.None
		so.Backoff = awsretry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
			return time.Duration(rand.Int64N(int64(5*time.Millisecond)*int64(attempt) + 1)), nil
		})
	})
}
