package repo

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbocc/ddbocc/retry"
)

// Who hears of a transaction's events. TxOptions.Observer if it has any
// function set; otherwise the observers of the repositories that staged or
// read through the transaction (Tx.join): each is told of the conflicts on
// its own table, and of every request and retry of the transaction.

// join records that a repository of table, observed by ob, takes part in
// tx.
func (tx *Tx) join(table string, ob Observer) {
	if ob.empty() {
		return
	}
	if tx.obs == nil {
		tx.obs = map[string]Observer{}
	}
	tx.obs[table] = ob
}

func (ob Observer) empty() bool {
	return ob.Conflict == nil && ob.Retry == nil && ob.Request == nil && ob.Combined == nil
}

// observers returns who hears of the events of the transaction's current
// attempt, with the table each is for ("" for TxOptions.Observer: every
// table).
func (r *txRun) observers() map[string]Observer {
	if !r.o.Observer.empty() {
		return map[string]Observer{"": r.o.Observer}
	}
	if r.tx == nil {
		return nil
	}
	return r.tx.obs
}

// conflict tells the observer of table (or TxOptions.Observer) of e.
func (r *txRun) conflict(e ConflictEvent) {
	for table, ob := range r.observers() {
		if f := ob.Conflict; f != nil && (table == "" || table == e.Table) {
			f(e)
		}
	}
}

// retries tells every observer of the transaction's retries.
func (r *txRun) retries() func(*retry.Options) {
	return func(ro *retry.Options) {
		ro.OnRetry = func(a retry.Attempt) {
			for _, ob := range r.observers() {
				if f := ob.Retry; f != nil {
					f(RetryEvent{Op: "Transact", Attempt: a.Number, Err: a.Err, Delay: a.Delay})
				}
			}
		}
	}
}

// observedClient is the transaction's client, its requests told to every observer
// of tx's (or TxOptions.Observer) that has a Request function.
func (r *txRun) observedClient(tx *Tx) API {
	obs := tx.obs
	if !r.o.Observer.empty() {
		obs = map[string]Observer{"": r.o.Observer}
	}
	var fs []func(RequestEvent)
	for _, ob := range obs {
		if ob.Request != nil {
			fs = append(fs, ob.Request)
		}
	}
	if len(fs) == 0 {
		return r.client
	}
	return ObservedClient(r.client, func(e RequestEvent) {
		for _, f := range fs {
			f(e)
		}
	})
}

// transactGet sends a TransactGetItems of tx, told to the observers of
// the repositories that joined tx so far (TxOptions.Observer if set).
func (tx *Tx) transactGet(in *dynamodb.TransactGetItemsInput) (*dynamodb.TransactGetItemsOutput, error) {
	c := tx.client
	if tx.run != nil {
		c = tx.run.observedClient(tx)
	}
	return c.TransactGetItems(tx.ctx, in)
}
