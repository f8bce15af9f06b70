// Package faults injects network faults between a DynamoDB client and the
// DynamoDB Local it talks to, for tests: an [http.RoundTripper] that wraps the
// real transport and, by seeded probabilities, drops responses of requests
// DynamoDB applied (the ambiguous case), answers with throttling or a 500
// without forwarding, resets the connection before sending, or adds latency.
//
// Two faults deliver a request after its caller has stopped waiting for it,
// as a network or a load balancer can: a [Late] request fails at once with a
// reset connection and reaches DynamoDB later, and a slow request (see
// [Config.Slow]) is held up on the "server side" past the client's timeout
// ([Config.ClientTimeout]) or the caller's deadline and lands all the same.
// Both are sent from background goroutines that the Transport owns;
// [Transport.Wait] waits for them, and a test must call it before it checks
// what is stored and before it ends.
//
// Decisions come from one PCG generator seeded by [Config.Seed] and guarded
// by a mutex, so for a given seed the sequence of decisions is the same
// whenever requests arrive in the same order (one goroutine, or a test that
// orders its requests); with concurrent requests the order, and so the
// assignment of faults to requests, depends on scheduling. A test that needs
// given faults for given requests (the first UpdateItem's response lost, the
// next two throttled) scripts them with [Transport.Script] instead, and acts
// between a fault and the caller seeing it with [Transport.AfterFault].
//
// [Client] builds a DynamoDB client for DynamoDB Local behind a Transport;
// [FastRetries] keeps the SDK's own retries of injected faults short;
// [WithReport] tells one call which faults its requests met.
package faults
