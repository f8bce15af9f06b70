package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// Output: every command renders its whole output into a buffer and writes
// it at once (see redactor.writer): as indented JSON with --output json,
// or as aligned text.

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// table is aligned text: rows of tab-separated cells.
type table struct {
	buf bytes.Buffer
	tw  *tabwriter.Writer
}

func newTable() *table {
	t := &table{}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 4, 2, ' ', 0)
	return t
}

// row adds one row of cells.
func (t *table) row(cells ...string) {
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// writeTo flushes the table and writes it to w in one Write.
func (t *table) writeTo(w io.Writer) error {
	if err := t.tw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(t.buf.Bytes())
	return err
}

// stamp formats a wall time for people: RFC 3339 in UTC, and how far it is
// from now. Zero is "-".
func stamp(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := t.Sub(now).Round(time.Second)
	rel := "now"
	switch {
	case d > 0:
		rel = "in " + d.String()
	case d < 0:
		rel = (-d).String() + " ago"
	}
	return t.UTC().Format(time.RFC3339) + " (" + rel + ")"
}

// rfc3339 formats t for JSON; zero is "".
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// printable is b as text if it is printable UTF-8, else false.
func printable(b []byte) (string, bool) {
	if !utf8.Valid(b) {
		return "", false
	}
	s := string(b)
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return "", false
		}
	}
	return s, true
}

// bytesText shows b for people: quoted text if printable, else base64.
func bytesText(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	if s, ok := printable(b); ok {
		return fmt.Sprintf("%q", s)
	}
	return "base64:" + base64.StdEncoding.EncodeToString(b)
}

// orDash is s, or "-" if empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
