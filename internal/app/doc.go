// Package app is the vitals program behind main (and its "vitals alerts
// check|test" subcommands, alertscmd.go, and "vitals history fill",
// historycmd.go): it turns flags and
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
// [Run] owns every goroutine it starts (the sampler, the sampler's
// watchdog, the SIGHUP fan-out, the HTTP server, the pprof server, and
// through their owners the notification dispatcher's workers and, with
// --redis, the fleet's offline watcher) and returns only after each has
// stopped: the sampler and its watchdog first, then the backend (which
// ends every stream with a short retry), then the HTTP server (waiting for
// the streams' goodbyes), then the SIGHUP handler, the offline watcher
// (it uses the Redis client) and the dispatcher (its outbox may live in
// the history file), then the store.
//
// Alerts (alerts.go) are evaluated on the sampler's goroutine, inside its
// Publish: the tick's transitions are published with the tick, under
// topic "alerts", and queued for notification after it. The HTTP handlers
// read and silence through the same alerting value; the engine and the
// alerting's own mutex make that safe.
//
// The tiers (tiers.go) are rolled up inside the bbolt backend's Publish,
// under one mutex (the sampler and its watchdog both publish): the tick
// and, when it completed a minute, that minute's "rollup" event go out
// together. With --redis nothing is rolled up here.
//
// SIGHUP: Run keeps one list of reload funcs (reloaders) and one
// goroutine calling them in order on each SIGHUP; a part that can reload
// (the alert rules today) adds its func there.
// Run may be called more than once in one process (tests do), each call
// with its own state: the package has no globals but gin's and go-redis's
// process-wide switches, which Run sets to the same values every time.
package app
