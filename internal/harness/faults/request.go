package faults

import (
	"context"
	"io"
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

type lostKey struct{}

// WithLost returns a context that makes a [Transport] call f with the
// operation name of every request sent with it whose answer did not reach
// the caller: the round trip failed (an injected fault, or the client's
// own timeout on a loaded machine), or reading the response body did. Such
// a request may have been applied all the same. f may be called from any
// goroutine, and more than once for one request.
func WithLost(ctx context.Context, f func(op string)) context.Context {
	return context.WithValue(ctx, lostKey{}, f)
}

// reportLost tells req's WithLost callback, if any, that its answer was
// lost.
func reportLost(req *http.Request, op string) {
	if f, ok := req.Context().Value(lostKey{}).(func(string)); ok {
		f(op)
	}
}

// lostBody reports a failed read of a response body as a lost answer.
type lostBody struct {
	io.ReadCloser
	lost func()
}

func (b lostBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.lost()
	}
	return n, err
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
