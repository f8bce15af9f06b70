// Package retry runs an operation again when it fails for a reason that a
// later attempt may not hit: a lost optimistic-concurrency race (a
// [Conflict]) or a throttle, timeout or server fault (a [Transient] error).
//
// The pieces are:
//
//   - [Policy]: exponential backoff with full jitter, bounded by a number of
//     attempts ([Policy.MaxAttempts]), by time ([Policy.MaxElapsedTime]), or
//     both. [DefaultPolicy] is a starting point for DynamoDB writes.
//   - [Classify]: sorts an error into [Permanent], [Conflict] or [Transient]
//     by looking through its whole chain: a [Classifier] in the chain, context
//     errors, DynamoDB/smithy API error codes, HTTP status codes and
//     connection errors. The SDK's own retry wrapper
//     (*retry.MaxAttemptsError from aws-sdk-go-v2/aws/retry) is transparent.
//   - [Do]: calls an operation until it succeeds, fails permanently, the
//     policy is spent (an [*ExhaustedError]) or the caller's context is done.
//   - [MarkPermanent]: marks an error so that [Do] stops at once.
//
// Do is safe for concurrent use; every call builds its own backoff state and
// leaves no goroutine behind. Its time comes from a [Clock] ([SystemClock]
// unless [Options.Clock] says otherwise): tests inject a fake one, and so
// does package lease, which takes its time from the same interface.
//
// A typical read-modify-write loop:
//
//	err := retry.Do(ctx, retry.DefaultPolicy(), func(ctx context.Context, attempt int) error {
//		item, err := load(ctx)
//		if err != nil {
//			return err
//		}
//		return save(ctx, modify(item)) // a ConditionalCheckFailedException is a Conflict: retried
//	})
package retry
