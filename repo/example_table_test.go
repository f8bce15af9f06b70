package repo_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ddbocc/ddbocc/repo"
)

// Session is found by its user through a global index that holds only the
// keys, and expires by DynamoDB's time to live.
type Session struct {
	ID      string    `dynamo:"id,hash"`
	User    string    `dynamo:"user,index=byUser:hash:keys_only"`
	Started time.Time `dynamo:"started,index=byUser:range"`
	Expires time.Time `dynamo:"expires,ttl"` // stored as epoch seconds
	Version int64     `dynamo:"version"`
}

// A table with a global secondary index and time to live, both declared on
// the item type's tags.
func ExampleRepository_CreateTable() {
	ctx := context.Background()
	sessions, err := repo.New[Session](exampleClient(), uniqueTable("sessions"))
	if err != nil {
		panic(err)
	}
	// On-demand billing by default; TTL is enabled on "expires".
	if err := sessions.CreateTable(ctx, func(o *repo.TableOptions) {
		o.Tags = map[string]string{"team": "identity"}
	}); err != nil {
		panic(err)
	}
	for _, ix := range sessions.Schema().Indexes() {
		fmt.Printf("index %s: hash %s, range %s, projects %s\n", ix.Name, ix.HashAttr, ix.RangeAttr, ix.Projection)
	}
	fmt.Println("ttl attribute:", sessions.Schema().TTLAttr())
	// Output:
	// index byUser: hash user, range started, projects KEYS_ONLY
	// ttl attribute: expires
}
