package faults

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ErrInjected is wrapped by the reset-connection errors the transport
// returns, so that tests can tell them from real ones with errors.Is.
var ErrInjected = errors.New("faults: injected")

// resetError looks like a connection reset by the peer, as net/http
// reports it, and also matches ErrInjected.
func resetError(op string) error {
	return &net.OpError{Op: op, Net: "tcp", Err: &injectedErr{os.NewSyscallError(op, syscall.ECONNRESET)}}
}

type injectedErr struct{ err error }

func (e *injectedErr) Error() string   { return e.err.Error() + " (injected)" }
func (e *injectedErr) Unwrap() []error { return []error{e.err, ErrInjected} }

// errorResponse builds an error response the way DynamoDB sends one: a JSON
// body with a namespaced __type, the x-amzn-ErrorType header, a request id
// and the CRC32 checksum of the body.
func errorResponse(req *http.Request, status int, code, msg string) *http.Response {
	body := fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, code, msg)
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Errortype", code+":")
	h.Set("X-Amzn-Requestid", "injected")
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10))
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
