// Package redistest runs a real, throwaway redis-server for tests: on a
// free loopback port, with persistence off and its files in a temp dir,
// started and stopped by proctest's harness.
// Without redis-server on PATH the test is skipped, or fails when CI=true
// (CI must run the Redis tests; .ci/run installs the package). Launch
// starts one outside a test, for the benchmark report. StartCluster runs
// a real three-master Redis Cluster (three servers joined by redis-cli
// --cluster create), skipped without redis-server or redis-cli like the
// rest.
//
// # Concurrency
//
// A Server owns its redis-server process and the goroutine that waits for
// it (proctest's); Close, run at the test's cleanup, stops the process and
// waits for both; each of a Cluster's servers is stopped so at cleanup. A
// Server is used by one test; Do dials a connection of its own per call.
package redistest
