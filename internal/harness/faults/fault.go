package faults

import (
	"strconv"
	"time"
)

// Fault is the kind of fault injected into one request.
type Fault int

const (
	// None forwards the request and returns its response.
	None Fault = iota
	// Drop forwards the request, lets DynamoDB apply it, reads and throws
	// away the response, and returns a reset-connection error: the client
	// cannot tell whether the request took effect.
	Drop
	// Throttle answers without forwarding with HTTP 400 and
	// ProvisionedThroughputExceededException: nothing was applied.
	Throttle
	// Error500 answers without forwarding with HTTP 500 and
	// InternalServerError: nothing was applied, but the client cannot know.
	Error500
	// Reset fails with a reset-connection error before sending: nothing
	// was applied, but the client cannot know.
	Reset
	// Late fails at once with a reset-connection error and forwards the
	// request in the background after a delay (see [Config.Late]): the
	// client gave up on a request that DynamoDB applies later.
	Late
)

// String returns the fault's name.
func (f Fault) String() string {
	switch f {
	case None:
		return "none"
	case Drop:
		return "drop"
	case Throttle:
		return "throttle"
	case Error500:
		return "500"
	case Reset:
		return "reset"
	case Late:
		return "late"
	}
	return "Fault(" + strconv.Itoa(int(f)) + ")"
}

// Decision is what the transport decided for one affected request.
type Decision struct {
	Fault Fault
	Delay time.Duration // added latency, 0 for none
	// ServerDelay is how long a slow request is held up before it is
	// forwarded (see [Config.Slow]); 0 for a request that is not slow.
	ServerDelay time.Duration

	lateDelay time.Duration // for Fault Late: the delay before forwarding
}
