package repo_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/ddbocc/ddbocc/internal/harness/ddblocal"
	"github.com/ddbocc/ddbocc/internal/harness/faults"
	"github.com/ddbocc/ddbocc/repo"
)

func avS(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func avN(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// putRaw stores item as another program would, with no condition.
func putRaw(t *testing.T, c *dynamodb.Client, table string, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

// getRaw reads the stored attributes of the Account a1 as they are.
func getRaw(t *testing.T, c *dynamodb.Client, table, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"id": avS(id)}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// versionless stores an Account without the version attribute.
func versionless(t *testing.T, c *dynamodb.Client, table, id string, balance int64) {
	t.Helper()
	putRaw(t, c, table, map[string]types.AttributeValue{"id": avS(id), "owner": avS("ann"), "balance": avN(balance)})
}

// An item without the version attribute reads as version 0 (Get, Query);
// Update adopts it: it stores version 1 and its write id under 1, on
// condition that the item exists without a version. A version stored as
// NULL or 0 reads and is adopted alike.
func TestAdoptUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newRepo[Account](t, e)
	ctx := context.Background()
	versionless(t, e.client, e.table, "a1", 100)
	a, err := r.Get(ctx, repo.Key("a1"))
	if err != nil || a != (Account{ID: "a1", Owner: "ann", Balance: 100}) {
		t.Fatalf("Get of a version-less item = %+v, %v; want it at version 0", a, err)
	}
	n := 0
	for a, err := range r.Query(ctx, "a1") {
		if err != nil || a.Version != 0 || a.Balance != 100 {
			t.Fatalf("Query of a version-less item = %+v, %v", a, err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("Query found %d items, want 1", n)
	}
	var cond string
	capture := mustNew[Account](t, ddblocal.Client(t, e.counter.Option(), captureCondition(&cond)), e.table)
	e.counter.Reset()
	a, err = capture.Update(ctx, repo.Key("a1"), func(a *Account) error { a.Balance++; return nil })
	if err != nil || a.Balance != 101 || a.Version != 1 {
		t.Fatalf("Update of a version-less item = %+v, %v; want balance 101 at version 1", a, err)
	}
	if got := byOp(e); !sameCounts(got, map[string]int64{"GetItem": 1, "UpdateItem": 1}) {
		t.Errorf("sent %v, want a read and a write", got)
	}
	if want := "attribute_exists(#id) AND (attribute_not_exists(#version) OR #version = :0 OR attribute_type(#version, :NULL))"; cond != want {
		t.Errorf("condition %q, want %q", cond, want)
	}
	raw := getRaw(t, e.client, e.table, "a1")
	ids, _ := raw["_ddbocc_w"].(*types.AttributeValueMemberM)
	if v, _ := raw["version"].(*types.AttributeValueMemberN); v == nil || v.Value != "1" || ids == nil || ids.Value["1"] == nil {
		t.Fatalf("stored %v, want version 1 and a write id under 1", raw)
	}
	for _, c := range []struct {
		id      string
		version types.AttributeValue
	}{{"zero", avN(0)}, {"null", &types.AttributeValueMemberNULL{Value: true}}} {
		putRaw(t, e.client, e.table, map[string]types.AttributeValue{"id": avS(c.id), "balance": avN(5), "version": c.version})
		if a, err := r.Get(ctx, repo.Key(c.id)); err != nil || a.Version != 0 {
			t.Fatalf("Get of version %v = %+v, %v; want version 0", c.version, a, err)
		}
		a, err := r.Update(ctx, repo.Key(c.id), func(a *Account) error { a.Balance++; return nil })
		if err != nil || a.Balance != 6 || a.Version != 1 {
			t.Fatalf("Update of an item at version %v = %+v, %v; want balance 6 at version 1", c.version, a, err)
		}
	}
}

// captureCondition makes a client record in *cond the condition of each
// UpdateItem it sends, its placeholders replaced by "#" and the attribute
// name, and ":" and the value (or type) of the value.
var valuePlaceholder = regexp.MustCompile(`:[A-Za-z0-9_]+`)

func captureCondition(cond *string) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("captureCondition", func(ctx context.Context,
				in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if u, ok := in.Parameters.(*dynamodb.UpdateItemInput); ok {
					c := aws.ToString(u.ConditionExpression)
					for ph, n := range u.ExpressionAttributeNames {
						c = strings.ReplaceAll(c, ph+")", "#"+n+")")
						c = strings.ReplaceAll(c, ph+" ", "#"+n+" ")
						c = strings.ReplaceAll(c, ph+",", "#"+n+",")
					}
					// One pass: replacing placeholder by placeholder could
					// turn one value's text into another placeholder.
					c = valuePlaceholder.ReplaceAllStringFunc(c, func(ph string) string {
						switch v := u.ExpressionAttributeValues[ph].(type) {
						case *types.AttributeValueMemberN:
							return ":" + v.Value
						case *types.AttributeValueMemberS:
							return ":" + v.Value
						}
						return ph
					})
					*cond = c
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
		})
	}
}

// Two Repositories (two processes) adopt one item at once: both read it
// without a version and decide before either writes; one write wins, the
// other fails its condition, gets the winner's item (version 1) back and
// applies its fn to that. Both applied exactly once.
func TestAdoptConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r1 := newRepo[Account](t, e)
	r2 := competitor[Account](t, e)
	ctx := context.Background()
	versionless(t, e.client, e.table, "a1", 100)
	var both sync.WaitGroup
	both.Add(2)
	var runs atomic.Int64
	var wg sync.WaitGroup
	for i, r := range []*repo.Repository[Account]{r1, r2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := true
			_, err := r.Update(ctx, repo.Key("a1"), func(a *Account) error {
				runs.Add(1)
				if first {
					first = false
					both.Done()
					both.Wait()
				}
				a.Balance += int64(1 + 10*i)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := r1.Get(ctx, repo.Key("a1"))
	if got.Balance != 112 || got.Version != 2 || runs.Load() != 3 {
		t.Fatalf("stored %+v after %d fn runs; want balance 112 at version 2 from 3 runs", got, runs.Load())
	}

	// Many adopters, queued and combined in each of two Repositories.
	const keys, per = 5, 6
	for k := range keys {
		versionless(t, e.client, e.table, fmt.Sprint("k", k), 0)
	}
	for k := range keys {
		for i := range 2 * per {
			r := []*repo.Repository[Account]{r1, r2}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := r.Update(ctx, repo.Key(fmt.Sprint("k", k)), func(a *Account) error { a.Balance++; return nil }); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	for k := range keys {
		a, err := r1.Get(ctx, repo.Key(fmt.Sprint("k", k)))
		if err != nil || a.Balance != 2*per || a.Version > 2*per {
			t.Errorf("k%d: %+v, %v; want balance %d", k, a, err, 2*per)
		}
	}
}

// Save and Delete of a version-0 value adopt only with repo.Adopting:
// without it Save creates and Delete refuses. Adopting writes are
// conditioned on the item existing without a version.
func TestAdoptSaveDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newRepo[Account](t, e)
	ctx := context.Background()
	versionless(t, e.client, e.table, "a1", 100)
	a, err := r.Get(ctx, repo.Key("a1"))
	if err != nil {
		t.Fatal(err)
	}
	a.Owner = "bob"
	if _, err := r.Save(ctx, a); !errors.Is(err, repo.ErrAlreadyExists) {
		t.Fatalf("Save of a version-0 value = %v, want ErrAlreadyExists (a create)", err)
	}
	saved, err := r.Save(ctx, a, repo.Adopting)
	if err != nil || saved.Version != 1 || saved.Owner != "bob" {
		t.Fatalf("adopting Save = %+v, %v; want owner bob at version 1", saved, err)
	}
	// Once adopted, another adopting write of the version-less copy is a
	// conflict, not "already exists".
	var ce *repo.ConflictError[Account]
	_, err = r.Save(ctx, a, repo.Adopting)
	if !errors.Is(err, repo.ErrConflict) || errors.Is(err, repo.ErrAlreadyExists) || !errors.As(err, &ce) || ce.Actual != 1 || ce.Current.Owner != "bob" {
		t.Fatalf("stale adopting Save = %v, want a conflict with the stored item at version 1", err)
	}
	if err := r.Delete(ctx, a, repo.Adopting); !errors.Is(err, repo.ErrConflict) {
		t.Fatalf("stale adopting Delete = %v, want ErrConflict", err)
	}
	if _, err := r.Save(ctx, Account{ID: "none", Balance: 1}, repo.Adopting); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("adopting Save of a missing item = %v, want ErrNotFound", err)
	}
	if err := r.Delete(ctx, Account{ID: "none"}, repo.Adopting); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("adopting Delete of a missing item = %v, want ErrNotFound", err)
	}
	if _, err := r.Get(ctx, repo.Key("none")); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("Get = %v: an adopting write created an item", err)
	}

	versionless(t, e.client, e.table, "a2", 5)
	b, _ := r.Get(ctx, repo.Key("a2"))
	if err := r.Delete(ctx, b); !errors.Is(err, repo.ErrInvalidArgument) {
		t.Fatalf("Delete of a version-0 value = %v, want ErrInvalidArgument", err)
	}
	if err := r.Delete(ctx, b, repo.Adopting); err != nil {
		t.Fatalf("adopting Delete = %v", err)
	}
	if _, err := r.Get(ctx, repo.Key("a2")); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("Get after the adopting Delete = %v, want ErrNotFound", err)
	}
	// A Repository built with Adopting adopts on every Save and Delete.
	versionless(t, e.client, e.table, "a3", 5)
	adopting := mustNew[Account](t, e.client, e.table, repo.Adopting)
	if c, err := adopting.Save(ctx, Account{ID: "a3", Balance: 6}); err != nil || c.Version != 1 {
		t.Fatalf("Save through an adopting Repository = %+v, %v", c, err)
	}
}

// The answer of an adopting write is lost after it was stored: its write
// id under version 1 tells, and fn is applied once.
func TestAdoptLostResponse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := newRepo[Account](t, e)
	ctx := context.Background()
	versionless(t, e.client, e.table, "a1", 100)
	c := &ddblocal.RequestCounter{}
	r := mustNew[Account](t, lossyClient(t, "UpdateItem", c), e.table, fastRetry)
	calls := 0
	a, err := r.Update(ctx, repo.Key("a1"), func(a *Account) error { calls++; a.Balance++; return nil })
	if err != nil || a.Balance != 101 || a.Version != 1 {
		t.Fatalf("Update after a lost adopting write = %+v, %v; want balance 101 at version 1", a, err)
	}
	got, _ := setup.Get(ctx, repo.Key("a1"))
	if got.Balance != 101 || got.Version != 1 || calls != 1 {
		t.Fatalf("stored %+v after %d fn runs; want balance 101 at version 1 from one run", got, calls)
	}
	// An adopting Save whose answer is lost.
	versionless(t, e.client, e.table, "a2", 100)
	saver := mustNew[Account](t, lossyClient(t, "UpdateItem", c), e.table, fastRetry)
	s, err := saver.Save(ctx, Account{ID: "a2", Balance: 50}, repo.Adopting)
	if err != nil || s.Version != 1 {
		t.Fatalf("adopting Save after a lost answer = %+v, %v", s, err)
	}
	// An adopting Delete whose answer is lost.
	versionless(t, e.client, e.table, "a3", 100)
	deleter := mustNew[Account](t, lossyClient(t, "DeleteItem", c), e.table, fastRetry)
	if err := deleter.Delete(ctx, Account{ID: "a3"}, repo.Adopting); err != nil {
		t.Fatalf("adopting Delete after a lost answer = %v", err)
	}
}

// A transaction reads a version-less item: its commit checks that the
// item is still there without a version, and conflicts once another writer
// adopted it.
func TestAdoptTxRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newRepo[Account](t, e)
	ctx := context.Background()
	versionless(t, e.client, e.table, "a1", 100)
	mustCreate(t, r, Account{ID: "a2"})
	runs := 0
	// copyA1 stages a2's balance set to a1's, running meanwhile between
	// the two reads.
	copyA1 := func(tx *repo.Tx, meanwhile func() error) error {
		src, err := r.TxGet(tx, repo.Key("a1"))
		if err != nil {
			return err
		}
		if err := meanwhile(); err != nil {
			return err
		}
		dst, err := r.TxGet(tx, repo.Key("a2"))
		if err != nil {
			return err
		}
		dst.Balance = src.Balance
		return r.TxSave(tx, &dst)
	}
	nothing := func() error { return nil }
	if err := repo.Transact(ctx, e.client, func(tx *repo.Tx) error { runs++; return copyA1(tx, nothing) }); err != nil || runs != 1 {
		t.Fatalf("Transact reading a version-less item: %v after %d runs, want success after 1", err, runs)
	}
	runs = 0
	err := repo.Transact(ctx, e.client, func(tx *repo.Tx) error {
		runs++
		return copyA1(tx, func() error {
			if runs > 1 {
				return nil
			}
			// another writer adopts a1 meanwhile
			_, err := competitor[Account](t, e).Update(ctx, repo.Key("a1"), func(a *Account) error { a.Balance++; return nil })
			return err
		})
	}, patientTx)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := r.Get(ctx, repo.Key("a2"))
	if runs != 2 || got.Balance != 101 {
		t.Fatalf("after %d runs a2 = %+v; want the balance 101 of the adopted a1 after 2 runs", runs, got)
	}
}

// Java's DynamoDBMapper and Enhanced client (@DynamoDbVersionAttribute):
// a new item is put at version 1 on condition attribute_not_exists(version);
// a put or update of an item read at version n stores n+1 on condition
// version = n. They keep no write ids, and a put replaces the whole item,
// the id map with it.

// javaRead reads an Account as Java would.
func javaRead(ctx context.Context, c *dynamodb.Client, table, id string) (Account, error) {
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"id": avS(id)}, ConsistentRead: aws.Bool(true)})
	var a Account
	if err == nil {
		err = attributevalue.UnmarshalMapWithOptions(out.Item, &a, func(o *attributevalue.DecoderOptions) { o.TagKey = "dynamo" })
	}
	return a, err
}

// javaPut stores a as Java's putItem does: the whole item at a.Version+1,
// conditioned on a.Version (on no version for 0).
func javaPut(ctx context.Context, c *dynamodb.Client, table string, a Account) error {
	in := &dynamodb.PutItemInput{TableName: aws.String(table),
		Item:                     map[string]types.AttributeValue{"id": avS(a.ID), "owner": avS(a.Owner), "balance": avN(a.Balance), "version": avN(a.Version + 1)},
		ExpressionAttributeNames: map[string]string{"#v": "version"}}
	if a.Version == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(#v)")
	} else {
		in.ConditionExpression = aws.String("#v = :v")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": avN(a.Version)}
	}
	_, err := c.PutItem(ctx, in)
	return err
}

// javaUpdate stores a as Java's updateItem does: the attributes of the
// bean set, version a.Version+1, conditioned on a.Version; attributes the
// bean does not know (the id map) stay.
func javaUpdate(ctx context.Context, c *dynamodb.Client, table string, a Account) error {
	_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table),
		Key:                       map[string]types.AttributeValue{"id": avS(a.ID)},
		UpdateExpression:          aws.String("SET #o = :o, #b = :b, #v = :n"),
		ConditionExpression:       aws.String("#v = :v"),
		ExpressionAttributeNames:  map[string]string{"#o": "owner", "#b": "balance", "#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": avS(a.Owner), ":b": avN(a.Balance), ":n": avN(a.Version + 1), ":v": avN(a.Version)}})
	return err
}

// javaAdd reads id and adds delta to its balance as Java would, with a
// put or an update.
func javaAdd(ctx context.Context, c *dynamodb.Client, table, id string, delta int64, put bool) error {
	a, err := javaRead(ctx, c, table, id)
	if err != nil {
		return err
	}
	a.Balance += delta
	if put {
		return javaPut(ctx, c, table, a)
	}
	return javaUpdate(ctx, c, table, a)
}

// Java writers and ddbocc Repositories take turns on one item: versions
// go up by one a write whoever writes, every write's effect is stored
// once, and stale writes on either side fail their condition.
func TestJavaInterop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newRepo[Account](t, e)
	r2 := competitor[Account](t, e)
	ctx := context.Background()
	add := func(r *repo.Repository[Account], n int64) {
		t.Helper()
		if _, err := r.Update(ctx, repo.Key("a1"), func(a *Account) error { a.Balance += n; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(javaPut(ctx, e.client, e.table, Account{ID: "a1", Owner: "ann", Balance: 100})) // v1
	add(r, 10)                                                                           // v2
	must(javaAdd(ctx, e.client, e.table, "a1", 5, false))                                // v3: update, the id map stays
	stale, _ := javaRead(ctx, e.client, e.table, "a1")
	add(r, 1)                                             // v4: the item r kept (v2) is stale
	must(javaAdd(ctx, e.client, e.table, "a1", 20, true)) // v5: put, the id map is gone
	add(r2, 1)                                            // v6, a new id map
	add(r, 1)                                             // v7: r's kept item is stale; fn runs on the returned one
	var ccf *types.ConditionalCheckFailedException
	stale.Balance = 0
	if err := javaUpdate(ctx, e.client, e.table, stale); !errors.As(err, &ccf) {
		t.Fatalf("Java's stale update = %v, want a failed condition", err)
	}
	got, err := r.Get(ctx, repo.Key("a1"))
	if err != nil || got.Balance != 138 || got.Version != 7 || got.Owner != "ann" {
		t.Fatalf("stored %+v, %v; want balance 138 at version 7", got, err)
	}
	// The same through the Java client's eyes.
	j, err := javaRead(ctx, e.client, e.table, "a1")
	if err != nil || j != got {
		t.Fatalf("Java reads %+v, %v; want %+v", j, err, got)
	}
	// A Java "new item" put on an existing item fails.
	if err := javaPut(ctx, e.client, e.table, Account{ID: "a1"}); !errors.As(err, &ccf) {
		t.Fatalf("Java's put of a new item over a stored one = %v, want a failed condition", err)
	}
}

// A ddbocc write's answer is lost, and a Java writer writes before the
// call finds out. fn is never applied twice: the call succeeds when the
// stored item shows its write id, goes on when the item proves its write
// failed, and says the outcome is unknown when a Java put wiped the ids.
func TestJavaInteropLostResponse(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		// setup stores a1 at balance 100.
		setup func(ctx context.Context, t *testing.T, e *env)
		fault faults.Fault
		// java writes after the fault: adds 5 by a put or an update, and
		// 1000 by another ddbocc Repository if other.
		put, other bool
		want       error
		runs       int
		balance    int64
	}{
		{"java update after our stored write", javaNew, faults.Drop, false, false, nil, 1, 106},
		{"java put after our stored write", javaNew, faults.Drop, true, false, repo.ErrOutcomeUnknown, 1, 106},
		{"java put and ddbocc after our stored write", javaNew, faults.Drop, true, true, repo.ErrOutcomeUnknown, 1, 1106},
		{"java put after our stored adopting write", versionlessA1, faults.Drop, true, false, repo.ErrOutcomeUnknown, 1, 106},
		{"java update after our adopting write", versionlessA1, faults.Drop, false, false, nil, 1, 106},
		{"java update before our write (ids kept)", ddboccNew, faults.Reset, false, false, nil, 2, 106},
		{"java put before our write (ids kept)", ddboccNew, faults.Reset, true, false, repo.ErrOutcomeUnknown, 1, 105},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			c.setup(ctx, t, e)
			client, tr := faults.Client(ddblocal.Endpoint(t), faults.Config{Ops: []string{"UpdateItem"}})
			tr.Script(c.fault)
			tr.AfterFault = func(string, faults.Decision) {
				if err := javaAdd(ctx, e.client, e.table, "a1", 5, c.put); err != nil {
					t.Error(err)
				}
				if c.other {
					if _, err := competitor[Account](t, e).Update(ctx, repo.Key("a1"), func(a *Account) error { a.Balance += 1000; return nil }); err != nil {
						t.Error(err)
					}
				}
			}
			r := mustNew[Account](t, client, e.table, fastRetry)
			runs := 0
			_, err := r.Update(ctx, repo.Key("a1"), func(a *Account) error { runs++; a.Balance++; return nil })
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Update = %v, want %v", err, c.want)
			}
			got, _ := javaRead(ctx, e.client, e.table, "a1")
			if runs != c.runs || got.Balance != c.balance {
				t.Fatalf("fn ran %d times, stored %+v; want %d runs and balance %d", runs, got, c.runs, c.balance)
			}
		})
	}
}

func javaNew(ctx context.Context, t *testing.T, e *env) {
	mustTable[Account](t, e.client, e.table)
	if err := javaPut(ctx, e.client, e.table, Account{ID: "a1", Owner: "ann", Balance: 100}); err != nil {
		t.Fatal(err)
	}
}

func versionlessA1(_ context.Context, t *testing.T, e *env) {
	mustTable[Account](t, e.client, e.table)
	versionless(t, e.client, e.table, "a1", 100)
}

func ddboccNew(_ context.Context, t *testing.T, e *env) {
	mustCreate(t, mustTable[Account](t, e.client, e.table), Account{ID: "a1", Owner: "ann", Balance: 100})
}
