package lease

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
)

// ListOptions shape one [Manager.List] call.
type ListOptions struct {
	// Limit is the most records a page holds (the Scan's Limit). It must
	// be >= 0; 0 (the default) lets DynamoDB fill pages of up to 1 MB.
	Limit int
	// After is where the page starts: the Next of the page before, an
	// opaque cursor. "" (the default) starts at the beginning of the table.
	After string
}

// ListPage is one page of [Manager.List].
type ListPage struct {
	// Records are the page's records, in the table's (hash) order: no
	// order of names.
	Records []Status
	// Next is the cursor of the next page, for ListOptions.After; "" when
	// the table has been read to its end. A page short of Limit, even an
	// empty one, may still have a Next.
	Next string
}

// List reads one page of the lease table's records, held or free, with a
// strongly consistent Scan: each record's holder, token, version, expiry
// and data, as [Manager.Inspect] shows them. Read the whole table by
// passing each page's Next as the following call's ListOptions.After
// until Next is "":
//
//	for after := ""; ; {
//		page, err := locks.List(ctx, func(o *lease.ListOptions) { o.Limit, o.After = 100, after })
//		if err != nil {
//			return err
//		}
//		for _, st := range page.Records { ... }
//		if page.Next == "" {
//			break
//		}
//		after = page.Next
//	}
//
// Each record is as it was when its page was read; a table written
// meanwhile may show a name changed between pages, and a name created
// meanwhile may be missed. A negative Limit or a malformed After is an
// error matching [ErrInvalidArgument], before any request. List blocks for
// one request (transient errors are retried under the Repo retry policy
// of [Options]); cancelling ctx stops it. It works after [Manager.Close]
// too. Safe for concurrent use.
func (m *Manager) List(ctx context.Context, optFns ...func(*ListOptions)) (ListPage, error) {
	if ctx == nil {
		panic("lease: nil context")
	}
	var o ListOptions
	for _, f := range optFns {
		if f != nil {
			f(&o)
		}
	}
	in := &dynamodb.ScanInput{TableName: aws.String(m.st.table), ConsistentRead: aws.Bool(true)}
	switch {
	case o.Limit < 0 || o.Limit > math.MaxInt32:
		return ListPage{}, invalid("ListOptions.Limit is %d, want >= 0 and <= %d", o.Limit, math.MaxInt32)
	case o.Limit > 0:
		in.Limit = aws.Int32(int32(o.Limit))
	}
	if o.After != "" {
		name, err := fromCursor(o.After)
		if err != nil {
			return ListPage{}, invalid("ListOptions.After %q: %w", o.After, err)
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{attrName: &types.AttributeValueMemberS{Value: name}}
	}
	var out *dynamodb.ScanOutput
	err := retry.Do(ctx, m.opts.repoRetry(), func(ctx context.Context, _ int) error {
		var err error
		out, err = m.client.Scan(ctx, in)
		return err
	})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return ListPage{}, fmt.Errorf("%w: %s: %w", repo.ErrTableNotFound, m.st.table, err)
	}
	if err != nil {
		return ListPage{}, fmt.Errorf("lease: list %s: %w", m.st.table, err)
	}
	page := ListPage{Records: make([]Status, 0, len(out.Items))}
	schema := m.st.recs.Schema()
	for _, item := range out.Items {
		var r record
		if err := schema.Unmarshal(item, &r); err != nil {
			return ListPage{}, fmt.Errorf("lease: list %s: %w", m.st.table, err)
		}
		page.Records = append(page.Records, m.status(r))
	}
	if k, ok := out.LastEvaluatedKey[attrName].(*types.AttributeValueMemberS); ok {
		page.Next = toCursor(k.Value)
	}
	return page, nil
}

// status is stored record r as [Manager.Inspect] and [Manager.List] show it.
func (m *Manager) status(r record) Status {
	return Status{Name: r.Name, Held: r.Owner != "", Owner: r.Owner, Mine: r.Owner == m.opts.Owner,
		Token: r.Token, Version: r.Version, Duration: r.duration(),
		Expires: time.Unix(r.Expires, 0), Data: r.Data, Exists: true,
		Done: r.done(), DoneBy: r.DoneBy, DoneToken: r.DoneToken, DoneAt: r.doneAt()}
}

// A cursor is the name of the last record a page's Scan read (its
// LastEvaluatedKey), base64url-encoded.

func toCursor(name string) string { return base64.RawURLEncoding.EncodeToString([]byte(name)) }

func fromCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(c)
	switch {
	case err != nil:
		return "", fmt.Errorf("not a cursor of List: %w", err)
	case len(b) == 0 || !utf8.Valid(b):
		return "", errors.New("not a cursor of List")
	}
	return string(b), nil
}

// repoRetry is the retry policy of the Manager's repository: its default,
// changed by Options.Repo.
func (o *Options) repoRetry() retry.Policy {
	ro := repo.Options{Retry: retry.DefaultPolicy()}
	for _, f := range o.Repo {
		if f != nil {
			f(&ro)
		}
	}
	return ro.Retry
}
