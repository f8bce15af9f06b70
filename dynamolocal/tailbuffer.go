package dynamolocal

import (
	"bytes"
	"strings"
	"sync"
)

// tailBuffer is an io.Writer that keeps the last max bytes written to it.
// It is safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

// Tail returns the last n lines written.
func (b *tailBuffer) Tail(n int) string {
	b.mu.Lock()
	s := string(b.buf)
	b.mu.Unlock()
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if s == "" {
		return "(no output)"
	}
	return strings.Join(lines, "\n")
}

// Contains reports whether the retained output contains any of subs.
func (b *tailBuffer) Contains(subs ...string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range subs {
		if bytes.Contains(b.buf, []byte(s)) {
			return true
		}
	}
	return false
}
