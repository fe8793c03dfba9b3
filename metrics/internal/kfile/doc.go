// Package kfile reads the small one-value files of /proc, /sys and cgroupfs
// and parses the numbers in them without allocating. It is shared by the
// collectors under metrics/ that read those trees directly (processes,
// containers, sensors, gpu).
//
// # Concurrency
//
// Every function is pure or reads only its arguments' files; all are safe
// for concurrent use.
package kfile
