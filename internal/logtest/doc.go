// Package logtest holds what tests need to look at logs: a sink that a
// logger may write to from many goroutines while the test reads it.
//
// Concurrency: a Buffer is safe for concurrent use.
package logtest
