package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
)

// The parent drives each child over its stdin and stdout, one JSON value
// per line: {"op":"prepare","spec":...} is answered {"ready":true} once the
// window is prepared, {"op":"go"} with {"result":...} once it has run. The
// parent sends "go" to every child only when all are ready, so that they
// start together. A child exits when its stdin ends.

type childMsg struct {
	Op   string      `json:"op"` // "prepare", "go"
	Spec *windowSpec `json:"spec,omitempty"`
}

type childReply struct {
	Ready  bool        `json:"ready,omitempty"`
	Error  string      `json:"error,omitempty"`
	Result *procResult `json:"result,omitempty"`
}

// serveChild is the whole of a child process: it serves windows until in
// ends.
func serveChild(ctx context.Context, in io.Reader, out io.Writer) error {
	dec, enc := json.NewDecoder(in), json.NewEncoder(out)
	var w *window
	for {
		var msg childMsg
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		var reply childReply
		switch {
		case msg.Op == "prepare" && msg.Spec != nil:
			var err error
			if w, err = prepare(ctx, *msg.Spec); err != nil {
				reply.Error = err.Error()
			} else {
				reply.Ready = true
			}
		case msg.Op == "go" && w != nil:
			res := w.run(ctx)
			reply.Result, w = &res, nil
		default:
			reply.Error = fmt.Sprintf("unexpected message %+v", msg)
		}
		if err := enc.Encode(reply); err != nil {
			return err
		}
	}
}

// child is the parent's end of one child process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	enc   *json.Encoder
	dec   *json.Decoder
}

// startChildren starts n children from newCmd, their stderr to stderr.
func startChildren(n int, newCmd func() *exec.Cmd, stderr io.Writer) ([]*child, error) {
	var cs []*child
	for range n {
		cmd := newCmd()
		cmd.Stderr = stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			stopChildren(cs)
			return nil, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			stopChildren(cs)
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			stopChildren(cs)
			return nil, fmt.Errorf("start child: %w", err)
		}
		cs = append(cs, &child{cmd: cmd, stdin: stdin, enc: json.NewEncoder(stdin), dec: json.NewDecoder(stdout)})
	}
	return cs, nil
}

// stopChildren closes their stdin and waits for them to exit.
func stopChildren(cs []*child) error {
	var errs []error
	for _, c := range cs {
		c.stdin.Close()
	}
	for _, c := range cs {
		if err := c.cmd.Wait(); err != nil {
			errs = append(errs, fmt.Errorf("child %d: %w", c.cmd.Process.Pid, err))
		}
	}
	return errors.Join(errs...)
}

func (c *child) call(msg childMsg) error { return c.enc.Encode(msg) }

func (c *child) reply() (childReply, error) {
	var r childReply
	if err := c.dec.Decode(&r); err != nil {
		return r, fmt.Errorf("child %d: %w", c.cmd.Process.Pid, err)
	}
	if r.Error != "" {
		return r, fmt.Errorf("child %d: %s", c.cmd.Process.Pid, r.Error)
	}
	return r, nil
}

// runChildren runs one window in every child, started together.
func runChildren(cs []*child, spec windowSpec) ([]procResult, error) {
	for _, c := range cs {
		if err := c.call(childMsg{Op: "prepare", Spec: &spec}); err != nil {
			return nil, err
		}
	}
	for _, c := range cs {
		if _, err := c.reply(); err != nil {
			return nil, err
		}
	}
	for _, c := range cs {
		if err := c.call(childMsg{Op: "go"}); err != nil {
			return nil, err
		}
	}
	res := make([]procResult, len(cs))
	for i, c := range cs {
		r, err := c.reply()
		if err != nil {
			return nil, err
		}
		if r.Result == nil {
			return nil, fmt.Errorf("child %d: no result", c.cmd.Process.Pid)
		}
		res[i] = *r.Result
	}
	return res, nil
}
