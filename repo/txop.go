package repo

import (
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/retry"
	"github.com/ddbocc/ddbocc/versioned"
)

// txOpKind is what one operation of a transaction does.
type txOpKind int

const (
	opGet       txOpKind = iota // an item read through the Tx, checked at commit
	opCreate                    // TxCreate
	opSave                      // TxSave
	opBump                      // TxBump
	opDelete                    // TxDelete
	opCheck                     // TxCheck
	opOverwrite                 // TxOverwrite
	opGuard                     // Tx.Check: a condition on another item
)

// String is the name TxOpError.Op reports.
func (k txOpKind) String() string {
	return [...]string{"Get", "Create", "Save", "Bump", "Delete", "Check", "Overwrite", "Guard"}[k]
}

// check reports whether k writes nothing and only checks a condition.
func (k txOpKind) check() bool { return k == opGet || k == opCheck || k == opGuard }

// versionedWrite reports whether k writes its item on condition of its
// version (or its absence): it stores a write id.
func (k txOpKind) versionedWrite() bool {
	return k == opCreate || k == opSave || k == opBump || k == opDelete
}

// txOp is one operation of a transaction.
type txOp struct {
	kind      txOpKind
	w         write      // the item, its base (version 0: absent), and what is written
	readFirst bool       // a write of an item the function read before
	found     bool       // opGet: an item was there
	guard     *Condition // opGuard
	decode    func(versioned.Item) (any, error)
	commit    func(version int64) // sets the new version in the caller's item
	newVers   int64
}

// txItem is op as an item of the commit; a write gets a new write id.
func (op *txOp) txItem() (types.TransactWriteItem, error) {
	switch op.kind {
	case opGuard:
		cc, err := op.guard.check()
		return types.TransactWriteItem{ConditionCheck: cc}, err
	case opGet, opCheck:
		return op.w.checkItem(), nil
	}
	op.w.id = newWriteID()
	b, err := op.w.build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return b.txItem(), nil
}

func txKey(table string, key versioned.Item) string {
	return table + "\x00" + FormatKey(key)
}

// stage records a write, refusing a second write of the same item.
func (tx *Tx) stage(op *txOp) error {
	if tx.err != nil {
		return tx.err
	}
	k := txKey(op.w.table, op.w.key)
	if prev, ok := tx.byKey[k]; ok {
		if prev.kind != opGet {
			return tx.fail(invalid("transaction: %s %s is written twice (%s, then %s)", op.w.table, FormatKey(op.w.key), prev.kind, op.kind))
		}
		// A write of an item read before replaces its check, at the read's
		// place.
		*prev = *op
		prev.readFirst = true
		return nil
	}
	tx.byKey[k] = op
	tx.ops = append(tx.ops, op)
	return nil
}

// readFailed remembers a read error that a re-run may get past.
func (tx *Tx) readFailed(err error) error {
	if c := retry.Classify(err); c == retry.Transient || c == retry.Conflict {
		tx.transient = err
	}
	return err
}

func (tx *Tx) fail(err error) error {
	if tx.err == nil {
		tx.err = err
	}
	return err
}

// Check adds a guard to the transaction: a ConditionCheck on c's item (a
// lease still held, say). If it fails, the commit is refused with a
// [*TxError] matching [ErrGuardFailed] and c.Err, and fn is not re-run.
func (tx *Tx) Check(c Condition) error {
	if err := c.validate(); err != nil {
		return tx.fail(err)
	}
	return tx.stage(&txOp{kind: opGuard, guard: &c, w: write{table: c.Table, key: c.Key}})
}

// TxCreate stages the creation of *item (version 0; the item must not
// exist). After a successful commit item's version is 1.
func (r *Repository[T]) TxCreate(tx *Tx, item *T) error { return r.txWrite(tx, opCreate, item) }

// TxSave stages a write of *item conditioned on its version n; after a
// successful commit item's version is n+1.
func (r *Repository[T]) TxSave(tx *Tx, item *T) error { return r.txWrite(tx, opSave, item) }

// TxBump stages a version increment of *item without other changes, on
// condition that its version is unchanged: JPA's OPTIMISTIC_FORCE_INCREMENT,
// for an aggregate root whose children changed. After commit item's version
// is n+1.
func (r *Repository[T]) TxBump(tx *Tx, item *T) error { return r.txWrite(tx, opBump, item) }

// txWrite stages a write of *item: kind opCreate, opSave or opBump.
func (r *Repository[T]) txWrite(tx *Tx, kind txOpKind, item *T) error {
	tx.join(r.table, r.opts.Observer)
	if item == nil {
		return tx.fail(invalid("Tx%s of a nil item", kind))
	}
	n, next, err := r.txVersions(kind, *item)
	if err != nil {
		return tx.fail(err)
	}
	cp := *item
	r.schema.SetVersion(reflect.ValueOf(&cp).Elem(), next)
	m, key, err := r.marshalItem(cp, true)
	if err != nil {
		return tx.fail(err)
	}
	old := tx.readAt(r.table, key, n) // send only what changed since the read
	if kind == opBump {
		if old, m, err = r.bumped(old, *item, next); err != nil {
			return tx.fail(err)
		}
	}
	wk := kindSave
	if kind == opCreate {
		wk = kindCreate
	}
	return tx.stage(&txOp{kind: kind, decode: r.decodeAny, w: r.newWrite(wk, key, n, old, m), newVers: next,
		commit: func(ver int64) { r.schema.SetVersion(reflect.ValueOf(item).Elem(), ver) }})
}

// txVersions returns the version item is based on and the one a write of
// kind stores, refusing a create of a stored item and a save or bump of a
// new one.
func (r *Repository[T]) txVersions(kind txOpKind, item T) (n, next int64, err error) {
	s := r.schema
	n = s.VersionOf(reflect.ValueOf(&item).Elem())
	if kind == opCreate {
		if n != 0 {
			return 0, 0, invalid("TxCreate of %s at version %d: a new item has version 0", s.Type(), n)
		}
		return 0, 1, nil
	}
	if n == 0 {
		return 0, 0, invalid("Tx%s of a %s at version 0: it was never stored (use TxCreate)", kind, s.Type())
	}
	next, err = s.Next(n)
	return n, next, err
}

// readAt returns the item under key as this Tx read it, if it read it at
// version n; nil otherwise.
func (tx *Tx) readAt(table string, key versioned.Item, n int64) versioned.Item {
	if prev, ok := tx.byKey[txKey(table, key)]; ok && prev.kind == opGet && prev.found && prev.w.base == n {
		return prev.w.old
	}
	return nil
}

// bumped returns the base and new item of a bump, which changes the
// version only: the item as read (old), or else as given, with the
// version moved on to next.
func (r *Repository[T]) bumped(old versioned.Item, item T, next int64) (base, m versioned.Item, err error) {
	if old == nil {
		if old, err = r.schema.Marshal(item); err != nil {
			return nil, nil, invalidItem(err)
		}
	}
	return old, withVersion(old, r.schema.VersionAttr(), next), nil
}

// withVersion returns a copy of item with the version attribute set to n.
func withVersion(item versioned.Item, attr string, n int64) versioned.Item {
	m := make(versioned.Item, len(item))
	for k, v := range item {
		m[k] = v
	}
	m[attr] = &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
	return m
}

// TxDelete stages the deletion of item on condition that its version is
// unchanged.
func (r *Repository[T]) TxDelete(tx *Tx, item T) error {
	tx.join(r.table, r.opts.Observer)
	s := r.schema
	n := s.VersionOf(reflect.ValueOf(&item).Elem())
	if n == 0 {
		return tx.fail(invalid("TxDelete of a %s at version 0: it was never stored", s.Type()))
	}
	_, key, err := r.marshalItem(item, false)
	if err != nil {
		return tx.fail(err)
	}
	return tx.stage(&txOp{kind: opDelete, decode: r.decodeAny, w: r.newWrite(kindDelete, key, n, nil, nil)})
}

// TxCheck stages a check that item's version is unchanged, without writing
// it: for items the function relied on but read outside the transaction.
// A version-0 item is checked to be absent.
func (r *Repository[T]) TxCheck(tx *Tx, item T) error {
	tx.join(r.table, r.opts.Observer)
	n := r.schema.VersionOf(reflect.ValueOf(&item).Elem())
	_, key, err := r.marshalItem(item, false)
	if err != nil {
		return tx.fail(err)
	}
	return tx.stage(&txOp{kind: opCheck, decode: r.decodeAny, w: r.newWrite(kindSave, key, n, nil, nil)})
}

// TxOverwrite stages an unconditional write of *item, the escape hatch of
// [Repository.Overwrite]: no condition, the stored version moves on by one.
// After commit item's version is unknown to the caller and left as is.
func (r *Repository[T]) TxOverwrite(tx *Tx, item *T) error {
	tx.join(r.table, r.opts.Observer)
	if item == nil {
		return tx.fail(invalid("TxOverwrite of a nil item"))
	}
	m, key, err := r.marshalItem(*item, true)
	if err != nil {
		return tx.fail(err)
	}
	return tx.stage(&txOp{kind: opOverwrite, decode: r.decodeAny, w: r.newWrite(kindOverwrite, key, 0, nil, m)})
}

func (r *Repository[T]) decodeAny(raw versioned.Item) (any, error) { return r.decode(raw) }
