package faults

import (
	"context"
	"net/http"
	"strings"
)

type reportKey struct{}

// WithReport returns a context that makes a [Transport] call f with the
// operation name and the decision of every affected request sent with it
// (the SDK passes an operation's ctx on to its HTTP requests), so that a
// test knows which faults one call met. f is called from the goroutine
// sending the request, before the fault takes effect.
func WithReport(ctx context.Context, f func(op string, d Decision)) context.Context {
	return context.WithValue(ctx, reportKey{}, f)
}

// Operation returns the DynamoDB operation name of req, from its
// X-Amz-Target header ("DynamoDB_20120810.UpdateItem" -> "UpdateItem").
func Operation(req *http.Request) string {
	target := req.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(target, '.'); i >= 0 {
		return target[i+1:]
	}
	return target
}
