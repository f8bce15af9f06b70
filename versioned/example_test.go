package versioned_test

import (
	"fmt"

	"github.com/ddbocc/ddbocc/versioned"
)

// Account is an item type: ID is the hash key, Version the version attribute.
type Account struct {
	ID      string `dynamo:"id,hash"`
	Owner   string `dynamo:"owner"`
	Balance int64  `dynamo:"balance"`
	Version int64  `dynamo:"version"`
}

// Typo has a misspelt option, which SchemaOf reports.
type Typo struct {
	ID      string `dynamo:"id,hahs"`
	Version int64  `dynamo:"version"`
}

func ExampleSchemaOf() {
	s, err := versioned.SchemaOf[Account]()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("hash key:", s.HashAttr(), s.HashType())
	fmt.Println("range key:", s.HasRange())
	fmt.Println("version:", s.VersionAttr(), "up to", s.MaxVersion())
	fmt.Println("attributes:", s.Attributes())

	item, err := s.Marshal(Account{ID: "acc-1", Owner: "ana", Balance: 100, Version: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	var back Account
	if err := s.Unmarshal(item, &back); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("round trip: %+v\n", back)
	next, _ := s.Next(back.Version)
	fmt.Println("next version:", next)

	_, err = versioned.SchemaOf[Typo]()
	fmt.Println(err)
	// Output:
	// hash key: id S
	// range key: false
	// version: version up to 9223372036854775807
	// attributes: [balance id owner version]
	// round trip: {ID:acc-1 Owner:ana Balance:100 Version:3}
	// next version: 4
	// versioned: type versioned_test.Typo, field ID: tag "id,hahs": unknown option "hahs" (ours: hash, range, version, ttl, index=NAME:hash|range[:PROJECTION], lindex=NAME:range[:PROJECTION], project=NAME; attributevalue's: omitempty, omitemptyelem, nullempty, nullemptyelem, string, stringset, numberset, binaryset, unixtime)
}
