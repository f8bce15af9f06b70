// Package ddbcode is the one place that knows DynamoDB's error codes and
// transaction cancellation reasons, and what each says about a request:
// whether anything may have been stored, and whether to try again.
package ddbcode

// Error codes (smithy.APIError.ErrorCode) of DynamoDB's answers.
const (
	ConditionalCheckFailed = "ConditionalCheckFailedException"
	TransactionCanceled    = "TransactionCanceledException"
	Validation             = "ValidationException"
)

// throttled codes reject a request before it is applied: nothing was
// stored, and the same request may go again.
var throttled = map[string]bool{
	"TransactionConflictException":           true,
	"ReplicatedWriteConflictException":       true, // multi-Region strong consistency; AWS documents it as retryable
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
	"ThrottledException":                     true,
	"RequestThrottled":                       true,
}

// serverError codes are failures of the service: the request may or may
// not have been applied, and may go again.
var serverError = map[string]bool{
	"InternalServerError": true,
	"ServiceUnavailable":  true,
}

// permanent codes are never retried: a control-plane quota (too many
// concurrent table operations), which the SDK treats as a throttle and we
// do not, and a cancelled transaction, whose reasons the caller inspects.
var permanent = map[string]bool{
	"LimitExceededException": true,
	TransactionCanceled:      true,
}

// Throttled reports whether code rejected the request unapplied for
// contention or throttling.
func Throttled(code string) bool { return throttled[code] }

// Transient reports whether a request that failed with code may simply be
// sent again: throttled, or a server error.
func Transient(code string) bool { return throttled[code] || serverError[code] }

// Permanent reports whether code is never worth retrying, whatever its
// HTTP status.
func Permanent(code string) bool { return permanent[code] }

// Cancellation reasons (types.CancellationReason.Code) of a cancelled
// transaction, one per item.
const (
	ReasonNone                   = "None"
	ReasonConditionalCheckFailed = "ConditionalCheckFailed"
	ReasonTransactionConflict    = "TransactionConflict"
)

// ReasonThrottled reports whether a cancellation reason says the
// transaction was refused for contention or throttling: nothing was
// written, and nothing about the item's condition is known.
func ReasonThrottled(code string) bool {
	switch code {
	case ReasonTransactionConflict, "ThrottlingError", "ProvisionedThroughputExceeded":
		return true
	}
	return false
}
