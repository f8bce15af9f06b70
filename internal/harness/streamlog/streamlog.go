// Package streamlog reads the DynamoDB stream of a table in DynamoDB Local,
// for tests that check what was stored, write by write: [CreateTable] makes
// a table with a stream of new and old images, [Read] returns every record
// of that stream in order. It is test infrastructure: nothing outside tests
// imports it.
package streamlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/ddbocc/ddbocc/internal/wait"
)

// Record is one stream record: a change to one item.
type Record struct {
	// EventName is "INSERT", "MODIFY" or "REMOVE".
	EventName string
	// SequenceNumber orders the records of one shard.
	SequenceNumber string
	// Keys is the item's key; NewImage is the item after the change (nil
	// for a REMOVE), OldImage before it (nil for an INSERT).
	Keys, NewImage, OldImage map[string]types.AttributeValue
}

// CreateTable creates table, on demand, with the string hash key "id" and a
// stream of new and old images, and waits until it is ACTIVE. It blocks
// until then or ctx is done. Safe for concurrent use.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages,
		},
	})
	if err != nil {
		return fmt.Errorf("streamlog: create %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, time.Minute); err != nil {
		return fmt.Errorf("streamlog: wait for %s: %w", table, err)
	}
	return nil
}

// NewClient returns a DynamoDB Streams client for the DynamoDB Local at
// endpoint, configured like ddblocal.NewClient: static dummy credentials,
// region us-east-1, nothing read from the environment. optFns are applied
// last. It does not block; the client is safe for concurrent use.
func NewClient(endpoint string, optFns ...func(*dynamodbstreams.Options)) *dynamodbstreams.Client {
	return dynamodbstreams.New(dynamodbstreams.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	}, optFns...)
}

// emptyPolls is how many GetRecords calls in a row must return nothing
// before an open shard counts as read to its end; pollDelay separates them.
// quietLimit bounds how long [ReadUntil] waits for its record on an open
// shard that returns nothing.
const (
	emptyPolls = 3
	pollDelay  = 20 * time.Millisecond
	quietLimit = 10 * time.Second
)

// Read returns every record of table's stream, from the oldest on: the
// shards in order (each after its parent), each shard's records in order,
// so the records of one item are in the order the changes were made. A
// closed shard is read to its end; an open one until emptyPolls calls in a
// row return nothing, so call Read after the writes have stopped. Read
// blocks until then or ctx is done. Safe for concurrent use.
func Read(ctx context.Context, client *dynamodbstreams.Client, table string) ([]Record, error) {
	return read(ctx, client, table, nil, nil)
}

// ReadUntil is [Read] for a stream that others may still be writing to: it
// reads in the same order up to the first record for which stop returns
// true, waiting for it on the open shard (up to 10 s without a new record),
// and returns the records for which keep returns true (nil keep: all),
// stop's record included if kept. Write a marker item after the writes of
// interest have landed, and stop at its record. ReadUntil blocks until then
// or ctx is done. Safe for concurrent use.
//
// DynamoDB Local's stream writes slow down with the number of stream
// records in the instance's other tables (about 0.3 ms a write per 1,000
// records), not in their own table: a test that writes much is cheaper
// with one stream table for all its parts than with one each.
func ReadUntil(ctx context.Context, client *dynamodbstreams.Client, table string, stop, keep func(Record) bool) ([]Record, error) {
	if stop == nil {
		return nil, errors.New("streamlog: ReadUntil without a stop function")
	}
	return read(ctx, client, table, stop, keep)
}

func read(ctx context.Context, client *dynamodbstreams.Client, table string, stop, keep func(Record) bool) ([]Record, error) {
	arn, err := streamARN(ctx, client, table)
	if err != nil {
		return nil, err
	}
	shards, err := listShards(ctx, client, arn)
	if err != nil {
		return nil, err
	}
	r := &shardReader{client: client, arn: arn, stop: stop, keep: keep}
	for _, s := range parentsFirst(shards) {
		if err := r.read(ctx, s); err != nil {
			return nil, fmt.Errorf("streamlog: %s shard %s: %w", table, aws.ToString(s.ShardId), err)
		}
		if r.stopped {
			return r.recs, nil
		}
	}
	if stop != nil {
		return nil, fmt.Errorf("streamlog: %s: the stream has no record to stop at", table)
	}
	return r.recs, nil
}

// streamARN finds the one stream of table.
func streamARN(ctx context.Context, client *dynamodbstreams.Client, table string) (string, error) {
	var arns []string
	in := &dynamodbstreams.ListStreamsInput{TableName: aws.String(table)}
	for {
		out, err := client.ListStreams(ctx, in)
		if err != nil {
			return "", fmt.Errorf("streamlog: list streams of %s: %w", table, err)
		}
		for _, s := range out.Streams {
			arns = append(arns, aws.ToString(s.StreamArn))
		}
		if out.LastEvaluatedStreamArn == nil {
			break
		}
		in.ExclusiveStartStreamArn = out.LastEvaluatedStreamArn
	}
	if len(arns) != 1 {
		return "", fmt.Errorf("streamlog: table %s has %d streams, want 1: %v", table, len(arns), arns)
	}
	return arns[0], nil
}

// listShards returns every shard of the stream, paging through them.
func listShards(ctx context.Context, client *dynamodbstreams.Client, arn string) ([]stypes.Shard, error) {
	var shards []stypes.Shard
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)}
	for {
		out, err := client.DescribeStream(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("streamlog: describe stream %s: %w", arn, err)
		}
		shards = append(shards, out.StreamDescription.Shards...)
		if out.StreamDescription.LastEvaluatedShardId == nil {
			return shards, nil
		}
		in.ExclusiveStartShardId = out.StreamDescription.LastEvaluatedShardId
	}
}

// parentsFirst orders shards so that each comes after its parent, keeping
// the listed order otherwise.
func parentsFirst(shards []stypes.Shard) []stypes.Shard {
	byID := make(map[string]stypes.Shard, len(shards))
	for _, s := range shards {
		byID[aws.ToString(s.ShardId)] = s
	}
	done := make(map[string]bool, len(shards))
	var out []stypes.Shard
	var visit func(s stypes.Shard)
	visit = func(s stypes.Shard) {
		id := aws.ToString(s.ShardId)
		if done[id] {
			return
		}
		done[id] = true
		if p, ok := byID[aws.ToString(s.ParentShardId)]; ok {
			visit(p)
		}
		out = append(out, s)
	}
	for _, s := range shards {
		visit(s)
	}
	return out
}

// shardReader reads shards one after the other into recs.
type shardReader struct {
	client     *dynamodbstreams.Client
	arn        string
	stop, keep func(Record) bool
	recs       []Record
	stopped    bool // stop matched a record
}

// read reads one shard from its oldest record: a closed one to its end, an
// open one until it looks quiet (Read) or stop matches (ReadUntil).
func (r *shardReader) read(ctx context.Context, s stypes.Shard) error {
	it, err := r.client.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
		StreamArn: aws.String(r.arn), ShardId: s.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		return err
	}
	closed := s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil
	empty := 0
	for next := it.ShardIterator; next != nil && !r.stopped; {
		out, err := r.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: next})
		if err != nil {
			return err
		}
		if err := r.add(out.Records); err != nil {
			return err
		}
		next = out.NextShardIterator
		if len(out.Records) > 0 {
			empty = 0
			continue
		}
		empty++
		switch {
		case closed, r.stop == nil && empty >= emptyPolls:
			return nil
		case r.stop != nil && time.Duration(empty)*pollDelay >= quietLimit:
			return fmt.Errorf("no record to stop at after %v without new records", quietLimit)
		}
		if err := wait.For(ctx, pollDelay); err != nil {
			return err
		}
	}
	return nil
}

// add converts and keeps records until stop matches one.
func (r *shardReader) add(records []stypes.Record) error {
	for _, sr := range records {
		rec, err := convert(sr)
		if err != nil {
			return err
		}
		if r.keep == nil || r.keep(rec) {
			r.recs = append(r.recs, rec)
		}
		if r.stop != nil && r.stop(rec) {
			r.stopped = true
			return nil
		}
	}
	return nil
}

// convert turns a stream record into a Record with the dynamodb package's
// attribute values.
func convert(r stypes.Record) (Record, error) {
	if r.Dynamodb == nil {
		return Record{}, errors.New("record without a change")
	}
	d := r.Dynamodb
	rec := Record{EventName: string(r.EventName), SequenceNumber: aws.ToString(d.SequenceNumber)}
	var err error
	for _, c := range []struct {
		dst *map[string]types.AttributeValue
		src map[string]stypes.AttributeValue
	}{{&rec.Keys, d.Keys}, {&rec.NewImage, d.NewImage}, {&rec.OldImage, d.OldImage}} {
		if c.src == nil {
			continue
		}
		if *c.dst, err = attributevalue.FromDynamoDBStreamsMap(c.src); err != nil {
			return Record{}, fmt.Errorf("record %s: %w", rec.SequenceNumber, err)
		}
	}
	return rec, nil
}
