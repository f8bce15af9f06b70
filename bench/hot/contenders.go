package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/internal/wait"
	"github.com/ddbocc/ddbocc/repo"
	"github.com/ddbocc/ddbocc/retry"
)

// item is the counter every contender increments: n by one per call.
type item struct {
	ID      string `dynamo:"id,hash"`
	N       int64  `dynamo:"n"`
	Version int64  `dynamo:"version"`
}

// incFunc adds one to the counter under key. It is safe for concurrent use.
type incFunc func(ctx context.Context, key string) error

// contender is one way of incrementing the counter. build is called once
// per process and window, with a client of its own that counts requests.
type contender struct {
	name  string
	desc  string
	build func(client *dynamodb.Client, table string, naiveSleep time.Duration) (incFunc, error)
}

var contenders = []contender{
	{"add", "UpdateItem SET n = n + 1: no read, no condition (the limit)", buildAdd},
	{"ddbocc", "Repository.Update, defaults", buildRepo()},
	{"nocombine", "Repository.Update, DisableCombining", buildRepo(func(o *repo.Options) { o.DisableCombining = true })},
	{"noqueue", "Repository.Update, DisableLocalQueue", buildRepo(func(o *repo.Options) { o.DisableLocalQueue = true })},
	{"nokeep", "Repository.Update, KeepItems 0: reads before an Update that follows none of its key", buildRepo(func(o *repo.Options) { o.KeepItems = 0 })},
	{"best", "GetItem, conditional UpdateItem, ALL_OLD reused, full-jitter backoff", buildBest},
	{"naive", "GetItem, conditional PutItem, on conflict fixed sleep and read again", buildNaive},
}

func contenderNamed(name string) (contender, bool) {
	for _, c := range contenders {
		if c.name == name {
			return c, true
		}
	}
	return contender{}, false
}

// buildRepo: one Repository per process, shared by its goroutines.
func buildRepo(optFns ...func(*repo.Options)) func(*dynamodb.Client, string, time.Duration) (incFunc, error) {
	return func(client *dynamodb.Client, table string, _ time.Duration) (incFunc, error) {
		r, err := repo.New[item](client, table, optFns...)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, key string) error {
			_, err := r.Update(ctx, repo.Key(key), func(it *item) error { it.N++; return nil })
			return err
		}, nil
	}
}

func buildAdd(client *dynamodb.Client, table string, _ time.Duration) (incFunc, error) {
	return func(ctx context.Context, key string) error {
		_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(table),
			Key:                       rawKey(key),
			UpdateExpression:          aws.String("SET #n = #n + :one"),
			ExpressionAttributeNames:  map[string]string{"#n": "n"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
		})
		return err
	}, nil
}

// buildBest: the best hand-written loop we know. A consistent read, then
// conditional UpdateItems asking for ALL_OLD on failure: the item a failed
// write returns is the base of the next attempt, after a full-jitter
// exponential backoff with ddbocc's default parameters (5ms doubling to
// 100ms, give up after 10s).
func buildBest(client *dynamodb.Client, table string, _ time.Duration) (incFunc, error) {
	p := retry.DefaultPolicy()
	return func(ctx context.Context, key string) error {
		start := time.Now()
		n, v, err := rawGet(ctx, client, table, key, true)
		if err != nil {
			return err
		}
		ceil := p.InitialInterval
		for attempt := 1; ; attempt++ {
			in := versionedUpdate(table, key, n+1, v)
			in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
			_, err := client.UpdateItem(ctx, in)
			var ccf *types.ConditionalCheckFailedException
			if !errors.As(err, &ccf) {
				return err
			}
			if time.Since(start) > p.MaxElapsedTime {
				return fmt.Errorf("best: gave up after %d attempts: %w", attempt, err)
			}
			if ccf.Item != nil {
				n, v, err = fields(ccf.Item)
			} else {
				n, v, err = rawGet(ctx, client, table, key, true)
			}
			if err != nil {
				return err
			}
			if err := wait.For(ctx, rand.N(ceil+1)); err != nil {
				return err
			}
			ceil = min(time.Duration(float64(ceil)*p.Multiplier), p.MaxInterval)
		}
	}, nil
}

// buildNaive: the common recipe. GetItem (default, eventually consistent
// read), PutItem of the whole item conditioned on the version read; on
// ConditionalCheckFailed sleep a fixed time and start again from the read.
// Gives up after 30s.
func buildNaive(client *dynamodb.Client, table string, naiveSleep time.Duration) (incFunc, error) {
	const giveUp = 30 * time.Second
	return func(ctx context.Context, key string) error {
		start := time.Now()
		for attempt := 1; ; attempt++ {
			n, v, err := rawGet(ctx, client, table, key, false)
			if err != nil {
				return err
			}
			_, err = client.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: aws.String(table),
				Item: map[string]types.AttributeValue{
					"id": &types.AttributeValueMemberS{Value: key}, "n": num(n + 1), "version": num(v + 1),
				},
				ConditionExpression:       aws.String("#v = :v"),
				ExpressionAttributeNames:  map[string]string{"#v": "version"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(v)},
			})
			if !isConditionFailed(err) {
				return err
			}
			if time.Since(start) > giveUp {
				return fmt.Errorf("naive: gave up after %d attempts: %w", attempt, err)
			}
			if err := wait.For(ctx, naiveSleep); err != nil {
				return err
			}
		}
	}, nil
}

// versionedUpdate sets n and the next version if the version is still v.
func versionedUpdate(table, key string, n, v int64) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName:                aws.String(table),
		Key:                      rawKey(key),
		UpdateExpression:         aws.String("SET #n = :n, #v = :nv"),
		ConditionExpression:      aws.String("#v = :v"),
		ExpressionAttributeNames: map[string]string{"#n": "n", "#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": num(n), ":nv": num(v + 1), ":v": num(v),
		},
	}
}

func rawKey(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: key}}
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func rawGet(ctx context.Context, client *dynamodb.Client, table, key string, consistent bool) (n, v int64, err error) {
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: rawKey(key), ConsistentRead: aws.Bool(consistent),
	})
	if err != nil {
		return 0, 0, err
	}
	return fields(out.Item)
}

func fields(it map[string]types.AttributeValue) (n, v int64, err error) {
	an, ok1 := it["n"].(*types.AttributeValueMemberN)
	av, ok2 := it["version"].(*types.AttributeValueMemberN)
	if !ok1 || !ok2 {
		return 0, 0, errors.New("item lacks n or version")
	}
	if n, err = strconv.ParseInt(an.Value, 10, 64); err != nil {
		return 0, 0, err
	}
	v, err = strconv.ParseInt(av.Value, 10, 64)
	return n, v, err
}
