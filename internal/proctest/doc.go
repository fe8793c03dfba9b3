// Package proctest starts and stops the child processes that tests and
// the benchmark report run: the vitals binary, the gin baseline,
// redis-server. One harness for all of them: start a command, wait until
// it is ready (/healthz answers, a port accepts, a PING is answered), keep
// its stderr in a logtest.Buffer for failure messages, and stop it with
// SIGTERM, then SIGKILL after a bound. FreeAddr picks a loopback port.
// ReadUsage reads a process's CPU time and RSS from /proc, for the load
// generators' cost figures.
//
// It takes no testing.TB: the report uses it outside tests, and each test
// package wraps it in the helpers its tests need.
//
// # Concurrency
//
// A Proc owns one goroutine that waits for the process to exit; Exited is
// closed when it has, and Stop and Kill return only after that. A Proc's
// methods may be called from any goroutine. logtest.Buffer is safe for
// concurrent writes and reads.
package proctest
