// Package buildinfo says which build of vitals is running, from what the
// Go toolchain stamps into every binary (the module version it derives
// from the git tag or commit, the commit itself, and the Go version): no
// linker flags and no variables set at build time.
//
// # Concurrency
//
// Read is a pure function of the running binary, safe to call from any
// goroutine.
package buildinfo
