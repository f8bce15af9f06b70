package faults

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"
)

// late answers req with a reset-connection error at once and sends it to
// DynamoDB in the background after delay.
func (t *Transport) late(req *http.Request, delay time.Duration) (*http.Response, error) {
	out, err := detach(req)
	if err != nil {
		return nil, err
	}
	t.deliver(out, delay, callerGone)
	return nil, resetError("read")
}

// slow sends req to DynamoDB in the background after delay and returns its
// response, unless req's context is done first: then it returns the
// context's error and the request still lands, its response discarded.
//
// The response returned is read without req's context: cancelling it no
// longer interrupts reading the body.
func (t *Transport) slow(req *http.Request, delay time.Duration) (*http.Response, error) {
	out, err := detach(req)
	if err != nil {
		return nil, err
	}
	gone := make(chan struct{})
	ch := t.deliver(out, delay, gone)
	select {
	case o := <-ch:
		return o.resp, o.err
	case <-req.Context().Done():
		close(gone)
		return nil, req.Context().Err()
	}
}

// outcome is what the real transport returned for a background delivery.
type outcome struct {
	resp *http.Response
	err  error
}

// callerGone is closed: nobody waits for the outcome of a late request.
var callerGone = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// deliver sends req through t.next after delay, from a background goroutine
// that [Transport.Wait] waits for. The delay is not cut short. The outcome is
// handed over on the returned channel to a receiver that takes it before gone
// is closed; otherwise the response is read and closed.
func (t *Transport) deliver(req *http.Request, delay time.Duration, gone <-chan struct{}) <-chan outcome {
	done := make(chan struct{})
	t.mu.Lock()
	if t.pending == nil {
		t.pending = map[chan struct{}]bool{}
	}
	t.pending[done] = true
	t.mu.Unlock()

	ch := make(chan outcome)
	go func() {
		defer func() {
			t.mu.Lock()
			delete(t.pending, done)
			t.mu.Unlock()
			close(done)
		}()
		time.Sleep(delay)
		resp, err := t.next.RoundTrip(req)
		select {
		case ch <- outcome{resp, err}:
		case <-gone:
			if err == nil {
				discard(resp)
			}
		}
	}()
	return ch
}

// Wait blocks until every background delivery (of a [Late] or a slow
// request) started before the call has been sent and answered, and its
// response, if nobody waits for it, read and closed. A test must call Wait
// before it checks the stored state, since a late request may still land,
// and a test owning a Transport must call it before it ends. Wait is safe
// to call many times and concurrently, also while requests are being sent;
// it cannot be cancelled, but every delivery ends after its delay and one
// round trip.
func (t *Transport) Wait() {
	t.mu.Lock()
	pending := make([]chan struct{}, 0, len(t.pending))
	for done := range t.pending {
		pending = append(pending, done)
	}
	t.mu.Unlock()
	for _, done := range pending {
		<-done
	}
}

// detach reads req's body into memory, closing it, and returns a new
// request with req's method, URL, headers and that body, on a context of its
// own, so that it can be sent after the caller has given up on req. It is a
// new request rather than a clone of req: an http.Client with a Timeout
// gives a transport of its own, such as [Transport], requests that it
// cancels through their deprecated Cancel channel, which a clone keeps.
func detach(req *http.Request) (*http.Request, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	// With a bytes.Reader, NewRequestWithContext sets ContentLength and a
	// GetBody that replays the body (http.NoBody for an empty one).
	out, err := http.NewRequestWithContext(context.Background(), req.Method, req.URL.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	u := *req.URL
	out.URL = &u
	out.Proto, out.ProtoMajor, out.ProtoMinor = req.Proto, req.ProtoMajor, req.ProtoMinor
	out.Header = req.Header.Clone()
	out.Trailer = req.Trailer.Clone()
	out.Host = req.Host
	out.Close = req.Close
	out.TransferEncoding = req.TransferEncoding
	return out, nil
}

// discard reads and closes resp's body, so that its connection can be
// reused.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
