// Command report runs vitals' benchmarks and load scenarios and writes
// BENCHMARKS.md (make bench). It builds vitals, the gin baseline and the
// load generator, runs the Go micro-benchmarks, then each load scenario
// (fan-out, catch-up, reconnect storm, slow readers, idle, churn) against
// freshly started servers on loopback, and writes one table per scenario
// with the targets met or missed.
//
// The Redis scale-out scenario (redis.go) runs too when redis-server is
// installed. -only runs some scenarios (e.g. -only redis).
//
// Durations are scaled so the whole run fits in about ten minutes; -full
// runs the full lengths (fan-out 60 s, idle 5 min, churn 10 min). Every process it starts is stopped before it returns.
package main
