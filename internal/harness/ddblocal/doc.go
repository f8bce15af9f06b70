// Package ddblocal connects the tests, benchmarks and examples of this
// module to DynamoDB Local. It is a thin layer over the public package
// [github.com/ddbocc/ddbocc/dynamolocal], which starts DynamoDB Local and
// configures clients; ddblocal adds what is particular to this repository:
//
//   - DynamoDB Local is the installation that `make dynamodb-local`
//     (scripts/install-dynamodb-local.sh) makes in <repo>/.cache/dynamodb-local,
//     or $DYNAMODB_LOCAL_DIR. ddblocal never downloads it: when it is missing,
//     the error names `make dynamodb-local`.
//   - The JVM gets a 1 GiB heap (-Xmx1g).
//   - [StartOwn] and [NewTable], and the names the tests have always used.
//
// There are two ways to get an instance:
//
//   - Set DYNAMODB_ENDPOINT (see [EnvEndpoint]) to the URL of an instance that
//     is already running; scripts/with-dynamodb-local.sh does this, so that
//     `make test` shares a single JVM between all test binaries.
//   - Otherwise [Start] launches a private in-memory instance on a free port.
//
// Test packages use it through TestMain:
//
//	func TestMain(m *testing.M) { ddblocal.RunTests(m) }
//
//	func TestSomething(t *testing.T) {
//		client := ddblocal.Client(t)
//		table := ddblocal.TableName(t)
//		...
//	}
//
// Tests never skip when DynamoDB Local is unavailable: they fail, naming the
// command that installs it.
package ddblocal
