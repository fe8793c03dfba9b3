// Package loadresult is the load generator's JSON result: what one run
// measured. bench/loadgen writes it and bench/report reads it, so the two
// commands agree on one definition of the format.
//
// # Concurrency
//
// It holds plain data types only; a value is safe to share once written.
package loadresult
