package lease

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/turns"
	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/versioned"
)

// API is the part of the DynamoDB client a [Manager] uses: the
// repository's calls, which include the two TTL calls of
// [Manager.CreateTable] and the Scan of [Manager.List]. A *dynamodb.Client
// satisfies it.
type API interface {
	repo.API
}

// Manager acquires leases stored in one table. It is safe for concurrent
// use; share one per table and process, so that its goroutines waiting for
// the same name queue locally.
type Manager struct {
	client API
	opts   Options
	st     *store // shared with the Manager's leases
	names  memory // watches and unknown acquiring writes of names not held

	// queue is the local queue per name: one goroutine at a time waits for
	// or holds a name; a Release hands the record it stored to the next,
	// or, with no one waiting, the queue keeps it (keptRecords).
	queue turns.Set[handed]

	life lifecycle // the leases it holds, for Close (close.go)
}

// keptRecords is how many names' records, freed by this Manager's last
// Release of each, the Manager keeps, so that its next acquire of such a
// name writes at once, without reading: one request.
const keptRecords = 1024

// New returns a Manager of the leases in table. It starts from the default
// [Options], applies optFns, and validates the result (errors match
// [ErrInvalidArgument]). It sends no request and does not block.
func New(client API, table string, optFns ...func(*Options)) (*Manager, error) {
	o := defaultOptions()
	for _, f := range optFns {
		if f != nil {
			f(&o)
		}
	}
	o.derive()
	if err := o.validate(); err != nil {
		return nil, err
	}
	if f := o.Observer.Request; f != nil && !nilClient(client) {
		client = repo.ObservedClient(client, f)
	}
	r, err := repo.New[record](client, table, o.Repo...)
	if errors.Is(err, repo.ErrInvalidArgument) {
		// A nil client (typed or not), a bad table name, bad Options.Repo.
		return nil, invalid("%w", err)
	}
	if err != nil {
		return nil, err
	}
	schema, err := versioned.SchemaOf[record]()
	if err != nil {
		return nil, err
	}
	st := &store{recs: r, client: client, schema: schema, table: table, owner: o.Owner, recordTTL: o.RecordTTL, clock: o.Clock, observer: o.Observer}
	m := &Manager{client: client, opts: o, st: st}
	m.queue.Keep = keptRecords
	return m, nil
}

// nilClient reports whether c is nil or a nil pointer (repo.New refuses
// both; a wrapper around one would hide it).
func nilClient(c API) bool {
	if c == nil {
		return true
	}
	v := reflect.ValueOf(c)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// Owner returns the owner id this Manager writes into records. Safe for
// concurrent use.
func (m *Manager) Owner() string { return m.opts.Owner }

// Table returns the lease table's name.
func (m *Manager) Table() string { return m.st.table }

// CreateTable creates the lease table (on-demand billing) if it does not
// exist, waits until it is active, and enables TTL on the "ttl" attribute
// (see Options.RecordTTL). It is idempotent and blocks until done or ctx is done. Safe for
// concurrent use.
func (m *Manager) CreateTable(ctx context.Context) error {
	if err := m.st.recs.CreateTable(ctx); err != nil {
		return err
	}
	d, err := m.client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(m.st.table)})
	if err != nil {
		return fmt.Errorf("lease: describe TTL of %s: %w", m.st.table, err)
	}
	if t := d.TimeToLiveDescription; t != nil && (t.TimeToLiveStatus == types.TimeToLiveStatusEnabled || t.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		if a := aws.ToString(t.AttributeName); a != attrTTL {
			// Another attribute would let TTL delete held records and
			// restart their tokens.
			return fmt.Errorf("%w: lease table %s has TTL on attribute %q, want %q", repo.ErrTableMismatch, m.st.table, a, attrTTL)
		}
		return nil
	}
	_, err = m.client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(m.st.table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrTTL), Enabled: aws.Bool(true)},
	})
	if err != nil {
		// A concurrent CreateTable may have enabled it first.
		if d, err2 := m.client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(m.st.table)}); err2 == nil &&
			d.TimeToLiveDescription != nil && d.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusDisabled {
			return nil
		}
		return fmt.Errorf("lease: enable TTL on %s: %w", m.st.table, err)
	}
	return nil
}

// Do acquires name (blocking like [Manager.Acquire]), runs fn with a
// context that is cancelled if the lease is lost (or ctx is done), and
// releases the lease. fn gets the lease itself, to guard its writes, from
// [FromContext]. It returns fn's error, joined with the [*LostError] if the
// lease was lost while fn ran, or with [ErrClosed] if [Manager.Close]
// released it while fn ran (fn's context is cancelled then too). A nil fn
// is an error. Safe for concurrent use.
func (m *Manager) Do(ctx context.Context, name string, fn func(ctx context.Context) error, optFns ...func(*AcquireOptions)) error {
	if fn == nil {
		return invalid("nil fn")
	}
	l, err := m.Acquire(ctx, name, optFns...)
	if err != nil {
		return err
	}
	return m.run(ctx, l, fn, false)
}

// Status is a lease record as read by [Manager.Inspect].
type Status struct {
	Name    string
	Held    bool   // an owner is recorded (it may have stopped renewing)
	Owner   string // "" when free
	Mine    bool   // Owner is this Manager
	Token   int64
	Version int64
	// Duration is the holder's lease duration.
	Duration time.Duration
	// Expires is the holder's estimate of its expiry, from its wall clock:
	// informative only, never used for takeover (unless MaxClockSkew).
	Expires time.Time
	Data    []byte
	Exists  bool // a record is stored
	// Done says the name's work is marked done ([Lease.ReleaseDone],
	// [Manager.Once]): by DoneBy's lease of token DoneToken, at DoneAt
	// (that Manager's clock; zero when not done).
	Done      bool
	DoneBy    string
	DoneToken int64
	DoneAt    time.Time
}

// Inspect reads name's record with a strongly consistent read. It blocks
// for one request; cancelling ctx stops it. Safe for concurrent use.
func (m *Manager) Inspect(ctx context.Context, name string) (Status, error) {
	cur, err := m.st.recs.Get(ctx, repo.Key(name))
	if errors.Is(err, repo.ErrNotFound) {
		return Status{Name: name}, nil
	}
	if err != nil {
		return Status{}, err
	}
	return m.status(cur), nil
}
