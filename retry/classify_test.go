package retry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"

	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/cenkalti/backoff/v4"

	"github.com/ddbocc/ddbocc/retry"
)

// classified is a custom error that decides its own class, like the repo
// package's conflict error.
type classified struct {
	class retry.Class
	err   error
}

func (c *classified) Error() string           { return "classified: " + fmt.Sprint(c.err) }
func (c *classified) Unwrap() error           { return c.err }
func (c *classified) RetryClass() retry.Class { return c.class }

func responseError(status int, err error) *smithyhttp.ResponseError {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      err,
	}
}

// sdkError builds the chain the SDK returns from an operation:
// *smithy.OperationError -> *awshttp.ResponseError -> *smithyhttp.ResponseError -> err.
func sdkError(status int, err error) error {
	return &smithy.OperationError{
		ServiceID:     "DynamoDB",
		OperationName: "PutItem",
		Err:           &awshttp.ResponseError{ResponseError: responseError(status, err), RequestID: "req-1"},
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want retry.Class
	}{
		{"nil", nil, retry.Permanent},
		{"plain error", errors.New("boom"), retry.Permanent},

		// DynamoDB exceptions, as real SDK types.
		{"ConditionalCheckFailed", &types.ConditionalCheckFailedException{}, retry.Conflict},
		{"ProvisionedThroughputExceeded", &types.ProvisionedThroughputExceededException{}, retry.Transient},
		{"TransactionConflict", &types.TransactionConflictException{}, retry.Transient},
		{"ReplicatedWriteConflict", &types.ReplicatedWriteConflictException{}, retry.Transient},
		{"RequestLimitExceeded", &types.RequestLimitExceeded{}, retry.Transient},
		{"InternalServerError", &types.InternalServerError{}, retry.Transient},
		{"ThrottlingException type", &types.ThrottlingException{}, retry.Transient},
		{"ResourceNotFound", &types.ResourceNotFoundException{}, retry.Permanent},
		{"LimitExceeded is a control-plane limit", &types.LimitExceededException{}, retry.Permanent},
		{"TransactionCanceled", &types.TransactionCanceledException{}, retry.Permanent},
		{"ItemCollectionSizeLimitExceeded", &types.ItemCollectionSizeLimitExceededException{}, retry.Permanent},
		{"code override", &types.ConditionalCheckFailedException{ErrorCodeOverride: ptr("ThrottlingException")}, retry.Transient},

		// Generic API errors.
		{"generic ThrottlingException", &smithy.GenericAPIError{Code: "ThrottlingException"}, retry.Transient},
		{"generic ServiceUnavailable", &smithy.GenericAPIError{Code: "ServiceUnavailable"}, retry.Transient},
		{"generic ThrottledException", &smithy.GenericAPIError{Code: "ThrottledException"}, retry.Transient},
		{"generic RequestThrottled", &smithy.GenericAPIError{Code: "RequestThrottled"}, retry.Transient},
		{"generic ValidationException", &smithy.GenericAPIError{Code: "ValidationException"}, retry.Permanent},
		{"generic AccessDenied", &smithy.GenericAPIError{Code: "AccessDeniedException"}, retry.Permanent},

		// HTTP status.
		{"503 response", responseError(503, errors.New("service unavailable")), retry.Transient},
		{"500 response", responseError(500, errors.New("oops")), retry.Transient},
		{"429 response", responseError(429, errors.New("too many")), retry.Transient},
		{"400 response", responseError(400, errors.New("bad")), retry.Permanent},
		{"404 response", responseError(404, errors.New("gone")), retry.Permanent},
		{"response without http.Response", &smithyhttp.ResponseError{Err: errors.New("x")}, retry.Permanent},
		{"aws response without http response", &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Err: errors.New("x")}}, retry.Permanent},
		{"unknown code, 502", sdkError(502, &smithy.GenericAPIError{Code: "SomethingNew"}), retry.Transient},
		{"known permanent code wins over status", sdkError(500, &types.TransactionCanceledException{}), retry.Permanent},

		// Full SDK chains.
		{"SDK chain: conditional check", sdkError(400, &types.ConditionalCheckFailedException{}), retry.Conflict},
		{"SDK chain: throughput", sdkError(400, &types.ProvisionedThroughputExceededException{}), retry.Transient},
		{"SDK chain: validation", sdkError(400, &smithy.GenericAPIError{Code: "ValidationException"}), retry.Permanent},

		// Connection errors.
		{"RequestSendError ECONNRESET", &smithyhttp.RequestSendError{Err: syscall.ECONNRESET}, retry.Transient},
		{"RequestSendError generic", &smithyhttp.RequestSendError{Err: errors.New("dial tcp: lookup failed")}, retry.Transient},
		{"net timeout", &net.DNSError{Err: "i/o timeout", IsTimeout: true}, retry.Transient},
		{"net non-timeout", &net.DNSError{Err: "no such host", IsNotFound: true}, retry.Permanent},
		{"os deadline", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, retry.Transient},
		{"unexpected EOF", io.ErrUnexpectedEOF, retry.Transient},
		{"ECONNREFUSED in OpError", &net.OpError{Op: "dial", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}, retry.Transient},
		{"EPIPE", fmt.Errorf("write: %w", syscall.EPIPE), retry.Transient},
		{"ECONNRESET", syscall.ECONNRESET, retry.Transient},

		// The SDK's own retry exhaustion is transparent.
		{"MaxAttemptsError throughput", &awsretry.MaxAttemptsError{Attempt: 3, Err: &types.ProvisionedThroughputExceededException{}}, retry.Transient},
		{"MaxAttemptsError conflict", &awsretry.MaxAttemptsError{Attempt: 3, Err: &types.TransactionConflictException{}}, retry.Transient},
		{"MaxAttemptsError validation", &awsretry.MaxAttemptsError{Attempt: 1, Err: &smithy.GenericAPIError{Code: "ValidationException"}}, retry.Permanent},
		{"MaxAttemptsError in SDK chain", &smithy.OperationError{Err: &awsretry.MaxAttemptsError{Attempt: 3, Err: &awshttp.ResponseError{ResponseError: responseError(400, &types.RequestLimitExceeded{})}}}, retry.Transient},

		// Context errors.
		{"canceled", context.Canceled, retry.Permanent},
		{"deadline", context.DeadlineExceeded, retry.Transient},
		{"smithy CanceledError", &smithy.CanceledError{Err: context.Canceled}, retry.Permanent},
		{"canceled inside RequestSendError", &smithyhttp.RequestSendError{Err: context.Canceled}, retry.Permanent},
		{"deadline inside RequestSendError", &smithyhttp.RequestSendError{Err: context.DeadlineExceeded}, retry.Transient},

		// Wrapped variants.
		{"wrapped conditional", fmt.Errorf("x: %w", &types.ConditionalCheckFailedException{}), retry.Conflict},
		{"wrapped twice throughput", fmt.Errorf("y: %w", fmt.Errorf("x: %w", &types.ProvisionedThroughputExceededException{})), retry.Transient},
		{"wrapped 503", fmt.Errorf("x: %w", responseError(503, errors.New("e"))), retry.Transient},
		{"wrapped canceled", fmt.Errorf("x: %w", context.Canceled), retry.Permanent},
		{"wrapped deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), retry.Transient},
		{"joined", errors.Join(errors.New("cleanup failed"), &types.ConditionalCheckFailedException{}), retry.Conflict},
		{"not wrapped (%v)", fmt.Errorf("x: %v", &types.ConditionalCheckFailedException{}), retry.Permanent},

		// Classifiers and markers.
		{"custom conflict", &classified{class: retry.Conflict}, retry.Conflict},
		{"custom transient", &classified{class: retry.Transient}, retry.Transient},
		{"custom permanent over throttle", &classified{class: retry.Permanent, err: &types.ProvisionedThroughputExceededException{}}, retry.Permanent},
		{"custom conflict over canceled", &classified{class: retry.Conflict, err: context.Canceled}, retry.Conflict},
		{"wrapped custom", fmt.Errorf("x: %w", &classified{class: retry.Conflict}), retry.Conflict},
		{"joined custom", errors.Join(errors.New("a"), &classified{class: retry.Transient}), retry.Transient},
		{"MarkPermanent over custom conflict", retry.MarkPermanent(&classified{class: retry.Conflict}), retry.Permanent},
		{"MarkPermanent over throttle", fmt.Errorf("x: %w", retry.MarkPermanent(&types.ProvisionedThroughputExceededException{})), retry.Permanent},
		{"custom conflict over MarkPermanent", &classified{class: retry.Conflict, err: retry.MarkPermanent(errors.New("x"))}, retry.Conflict},
		{"backoff.Permanent", backoff.Permanent(&types.ProvisionedThroughputExceededException{}), retry.Permanent},
		{"wrapped backoff.Permanent", fmt.Errorf("x: %w", backoff.Permanent(&types.TransactionConflictException{})), retry.Permanent},
		{"backoff.Permanent over custom", backoff.Permanent(&classified{class: retry.Transient}), retry.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retry.Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestClassString(t *testing.T) {
	for c, want := range map[retry.Class]string{
		retry.Permanent: "permanent",
		retry.Conflict:  "conflict",
		retry.Transient: "transient",
		retry.Class(7):  "Class(7)",
		retry.Class(-1): "Class(-1)",
	} {
		if got := c.String(); got != want {
			t.Errorf("Class(%d).String() = %q, want %q", int(c), got, want)
		}
	}
}
