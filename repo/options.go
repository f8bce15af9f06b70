package repo

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/retry"
)

// Options configure a [Repository]. Pass functions that change them to
// [New]; every operation also takes such functions, which change a copy for
// that call only.
type Options struct {
	// Retry bounds Update's loop on conflicts and the re-sending of any
	// write after a transient error (throttling, 5xx, timeouts). Default:
	// [retry.DefaultPolicy].
	Retry retry.Policy

	// EventuallyConsistent makes Get, Query and Update's first read
	// eventually consistent (half the read cost, may be stale). Default
	// false: strongly consistent. A stale first read in Update costs one
	// conflict, never a lost update.
	EventuallyConsistent bool

	// DisableLocalQueue turns off local queueing: by default, Updates of
	// one key through one Repository run one at a time and each hands the
	// item it stored to the next, which then needs no read and cannot
	// conflict with the others (writers in other processes still can).
	// Share one Repository per table in a process to get the benefit.
	DisableLocalQueue bool

	// DisableCombining turns off write combining: by default, when several
	// Updates of one key wait in the local queue, the one whose turn it is
	// applies all their fns, in arrival order, to one copy and stores the
	// result in one conditional write (see [Repository.Update]). With it
	// set, each Update writes on its own turn. No effect with
	// DisableLocalQueue.
	DisableCombining bool

	// KeepItems is how many items the Repository keeps, of the keys its
	// Updates wrote last and none waits on now: the item each key's last
	// Update stored. The next Update of such a key applies fn to it and
	// writes at once, without reading: one request instead of two while no
	// other process writes the key. If one did, the write fails its
	// condition and returns the current item, on which fn runs again: it
	// costs one request, as the read would have, and keys that meet such
	// conflicts are read first for a second. A decision that writes nothing
	// (fn fails or says NoChange) is only returned on an item known to be
	// current. Only the value given to [New] counts; the memory is at most
	// KeepItems items. 0 keeps none: every Update that does not follow
	// another of its key reads first. Default 1024.
	KeepItems int

	// Observer is told of conflicts and retries. Default: no observer.
	Observer Observer

	// WriteIDAttribute names the hidden map attribute that keeps the ids
	// of an item's recent writes, with which a write whose response was
	// lost is told apart from a conflicting one (no double apply). It must
	// not be an attribute of the item type. Default "_ddbocc_w".
	WriteIDAttribute string

	// Guards are conditions on other items that every write must pass,
	// checked by DynamoDB atomically with it; add them per call with
	// [Guard]. Default: none.
	Guards []Condition

	// Adopt makes Save and Delete of an item at version 0 writes on a
	// stored item that has no version attribute (written by other code;
	// see [Adopting]): conditioned on the item existing without a version,
	// Save stores it at version 1. Default false: Save of a version-0 item
	// is a Create, and Delete refuses it. Update and Upsert adopt such
	// items without it.
	Adopt bool

	// WriteIDs is how many recent version entries an item's id map keeps
	// besides its first one (1 to 64); the map also keeps one entry for
	// each of the 8 writers (Repository values) that wrote it last, which
	// is what resolves a lost write on a hot item. Each version entry costs
	// about 18 bytes of item size, each writer entry about 25; the whole
	// map is at most about 280 bytes with the default. Default 4.
	WriteIDs int

	// rules are how lost writes are treated: keepLostWrites, or in tests
	// an unsafe variant (export_test.go).
	rules lossRules
}

// Observer receives events from a repository. Each field may be nil. The
// functions are called synchronously from the goroutine doing the call, so
// they must be quick and, when the repository is shared, safe for concurrent
// use.
type Observer struct {
	// Conflict is called when a conditional write finds another version.
	Conflict func(ConflictEvent)
	// Retry is called before the loop sleeps and tries again, for conflicts
	// and transient errors alike.
	Retry func(RetryEvent)
	// Request is called after every request to DynamoDB, with its
	// operation, table, latency, consumed capacity and outcome (see
	// [ObservedClient]).
	Request func(RequestEvent)
	// Combined is called after Updates of one key waiting together in this
	// process were written as one (write combining), with how many there
	// were and how many of their changes the write stored.
	Combined func(CombinedEvent)
}

// CombinedEvent describes one combined write of several Updates.
type CombinedEvent struct {
	Table   string
	Key     map[string]types.AttributeValue
	Calls   int   // the Updates combined
	Written int   // those whose change the write stored (the others' fn failed or said NoChange)
	Err     error // the write's error, if it failed for all of them
}

// ConflictEvent describes one failed version condition.
type ConflictEvent struct {
	Table    string
	Op       string // "Create", "Save", "Update", "Delete"
	Key      map[string]types.AttributeValue
	Attempt  int   // 1-based attempt of the call
	Expected int64 // the version the write was based on
	Actual   int64 // the stored version (0 if the item is gone)
}

// RetryEvent describes one retry.
type RetryEvent struct {
	Table   string
	Op      string
	Attempt int // the attempt that failed, 1-based
	Err     error
	Delay   time.Duration // the sleep before the next attempt
}

const (
	defaultWriteIDAttribute = "_ddbocc_w"
	defaultWriteIDs         = 4
	defaultKeepItems        = 1024
	maxKeepItems            = 1 << 20
)

func defaultOptions() Options {
	return Options{
		Retry:            retry.DefaultPolicy(),
		WriteIDAttribute: defaultWriteIDAttribute,
		WriteIDs:         defaultWriteIDs,
		KeepItems:        defaultKeepItems,
		rules:            keepLostWrites{},
	}
}

func (o *Options) validate(attrs []string) error {
	if err := o.Retry.Validate(); err != nil {
		return invalid("Options.Retry: %w", err)
	}
	if o.WriteIDAttribute == "" {
		return invalid("Options.WriteIDAttribute is empty")
	}
	for _, a := range attrs {
		if a == o.WriteIDAttribute {
			return invalid("Options.WriteIDAttribute %q is an attribute of the item type", a)
		}
	}
	for _, g := range o.Guards {
		if err := g.validate(); err != nil {
			return err
		}
	}
	if o.WriteIDs < 1 || o.WriteIDs > 64 {
		return invalid("Options.WriteIDs is %d, want 1 to 64", o.WriteIDs)
	}
	if o.KeepItems < 0 || o.KeepItems > maxKeepItems {
		return invalid("Options.KeepItems is %d, want 0 to %d", o.KeepItems, maxKeepItems)
	}
	return nil
}

// retries passes retry.Do's retries on to ob.Retry.
func (ob Observer) retries(table, op string) func(*retry.Options) {
	return func(ro *retry.Options) {
		if f := ob.Retry; f != nil {
			ro.OnRetry = func(a retry.Attempt) {
				f(RetryEvent{Table: table, Op: op, Attempt: a.Number, Err: a.Err, Delay: a.Delay})
			}
		}
	}
}
