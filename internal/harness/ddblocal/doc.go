// Package ddblocal runs DynamoDB Local for the tests, benchmarks and examples
// of this module and builds SDK clients that talk to it.
//
// DynamoDB Local is the Java implementation of DynamoDB published by AWS. It
// is installed into <repo>/.cache/dynamodb-local by
// scripts/install-dynamodb-local.sh (`make dynamodb-local`).
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
