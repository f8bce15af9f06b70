package main

import (
	"bytes"
	"io"
	"os"
	"sync"
)

// redactor masks secrets (the secret access key and session token of the
// environment and of the credentials retrieved) in everything the CLI
// writes: defence in depth, since nothing it prints should hold them.
type redactor struct {
	mu      sync.Mutex
	secrets [][]byte
}

// minSecret is the shortest value masked: shorter ones (dummy values) would
// garble ordinary text.
const minSecret = 8

const masked = "[REDACTED]"

func newRedactor() *redactor {
	r := &redactor{}
	r.add(os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"), os.Getenv("AWS_SECRET_KEY"))
	return r
}

func (r *redactor) add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if len(s) >= minSecret {
			r.secrets = append(r.secrets, []byte(s))
		}
	}
}

// writer returns w with r's secrets masked in each Write. The CLI writes
// each message and each output whole, in one Write.
func (r *redactor) writer(w io.Writer) io.Writer { return redacting{r: r, w: w} }

type redacting struct {
	r *redactor
	w io.Writer
}

func (rw redacting) Write(p []byte) (int, error) {
	rw.r.mu.Lock()
	q := p
	for _, s := range rw.r.secrets {
		if bytes.Contains(q, s) {
			q = bytes.ReplaceAll(q, s, []byte(masked))
		}
	}
	rw.r.mu.Unlock()
	if _, err := rw.w.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}
