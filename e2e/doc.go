// Package e2e holds vitals' end-to-end tests: they build the real binary
// from the module root once per `go test` run and start it as a child
// process, on a free loopback port and a temp data dir, because restarts,
// kill -9, signals, a real redis-server and a real Chromium are what users
// meet and only a real process shows them. The package has no code outside
// its tests.
//
// Browser tests need Chromium (the SSE client test also the npm clients
// that `make assets` installs), the Redis tests redis-server and the
// Prometheus test prometheus: locally a missing one skips them, with
// CI=true it fails them. `go test ./e2e/
// -update` refreshes the README's screenshots in docs/ at the module root.
//
// # Concurrency
//
// Each test owns the processes, browsers and streams it starts: they are
// stopped (SIGTERM, then SIGKILL after a bound) at the test's cleanup, and
// every goroutine a helper starts ends with them. Tests don't share a
// process; the binary is built once and shared read-only.
package e2e
