// Package static holds the dashboard's browser files, embedded in the
// binary: our plain ES modules and CSS, and the vendored uPlot files that
// `make assets` copies from node_modules into vendor/ (gitignored, never
// committed).
//
// The embed pattern is "*", so the package compiles on a fresh clone before
// `make assets` has run; FS hides the Go sources and the JavaScript unit
// tests, and Missing reports vendor files that are not there, so the server
// can refuse to start with a clear message instead of serving a page
// without charts.
//
// Concurrency: FS is read-only and safe for any number of goroutines.
package static
