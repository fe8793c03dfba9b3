// Package app is the vitals program behind main: it turns flags and
// VITALS_* variables into one [Config] (config*.go), builds the logger,
// picks the history backend (the bbolt broker, or with --redis the Redis
// Streams backend), wires the sampler, the handlers and /metrics together,
// serves HTTP (and --pprof on a loopback listener of its own), and shuts it
// all down in reverse order of start.
//
// Nothing else in vitals reads flags or the environment; every other
// package gets what it needs from here as arguments.
//
// # Concurrency
//
// [Run] owns every goroutine it starts (the sampler, the HTTP server, the
// pprof server) and returns only after each has stopped: the sampler
// first, then the backend (which ends every stream with a short retry),
// then the HTTP server (waiting for the streams' goodbyes), then the store.
// Run may be called more than once in one process (tests do), each call
// with its own state: the package has no globals but gin's and go-redis's
// process-wide switches, which Run sets to the same values every time.
package app
