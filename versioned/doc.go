// Package versioned is the item model of ddbocc: it reads the `dynamo` struct
// tags of an item type once into a [Schema] (hash key, optional range key,
// version attribute), marshals and unmarshals items with the SDK's
// attributevalue package under that tag key, and builds the condition and
// update expressions of a version-checked write with the SDK's expression
// package.
//
// The package does no I/O. Everything in it is safe for concurrent use.
//
// # Tag grammar
//
//	type Account struct {
//	    ID      string `dynamo:"id,hash"`
//	    Owner   string `dynamo:"owner"`
//	    Balance int64  `dynamo:"balance"`
//	    Version int64  `dynamo:"version"` // the version attribute
//	}
//
// A tag is `dynamo:"name,opt,opt"`. The name defaults to the Go field name
// and "-" skips the field. Our options are hash and range (the key) and
// version (the version attribute under another name: `dynamo:"rev,version"`);
// a field whose attribute name is "version" is the version attribute
// without the option. The attributevalue options omitempty, omitemptyelem,
// nullempty, nullemptyelem, string, stringset, numberset, binaryset and
// unixtime keep their meaning. Any other option is a [*SchemaError]: a typo
// such as "hahs" is caught instead of silently ignored.
//
// A type needs exactly one hash key, at most one range key, and exactly one
// version field of an integer type. Keys must be strings, numbers or []byte.
package versioned
