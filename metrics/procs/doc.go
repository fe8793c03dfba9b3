// Package procs is the "processes" topic: the top processes by CPU and by
// resident memory, and host-wide process totals, read from /proc directly.
//
// The cost floor of any per-process list is reading every
// /proc/<pid>/stat once per tick, and the kernel's formatting of those files
// dominates it. The [Collector] stays close to that floor: it keeps each
// stat file open and re-reads it with pread (an open costs as much as the
// read), parses only the fields it needs without allocating, lists /proc
// only when the kernel's fork counter moved (no fork, no new pid), and does
// the expensive per-row work (user name, command line, JSON) only for the
// few rows it sends. Open descriptors are capped (see
// [Options.MaxOpenFiles]); processes past the cap are opened and closed on
// every tick instead.
//
// CPU % is over the last interval, from the delta of utime+stime between two
// ticks, as a percentage of one core (like top): a process running two busy
// threads shows 200.
//
// Command lines can hold secrets, so they are sent only with
// [Options.Cmdline]; [Redact] strips command lines and user names from a
// payload for viewers who must not see them.
//
// # Concurrency
//
// A Collector keeps per-process state and open descriptors: exactly one
// goroutine may call Collect at a time, and Close must not run concurrently
// with Collect. It starts no goroutines. The pure functions and [Redact] are
// safe for concurrent use.
package procs
