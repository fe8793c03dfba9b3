// Package tooltest finds the programs a test runs besides vitals (promtool,
// prometheus): one place that decides what a missing tool means. Locally
// the test is skipped with a message naming the Debian package to install;
// with CI=true it fails, because CI (.ci/run) installs every tool and a
// skip there would hide a test that never ran.
//
// # Concurrency
//
// Path only reads the environment and PATH; it is safe from any goroutine
// and starts nothing.
package tooltest
