// Package metrics samples the host this process runs on: CPU, memory, load
// average, disk and network. It is the only package of vitals that talks to
// gopsutil, so a move to gopsutil/v4 is an import change here and nowhere
// else. Of vitals it imports only hostinfo, the leaf that holds the host
// description [ReadHost] returns.
//
// Each topic has one [Collector] in its own file. A collector fetches raw
// values (mostly cumulative counters) and hands them to a pure function that
// turns two successive samples into percentages and per-second rates; those
// functions are tested on hand-made values. Collect returns one JSON object
// per call whose "t" field is the tick time in unix milliseconds. What a host
// cannot provide (no swap, no load average, a filesystem that cannot be
// statted) is sent as JSON null and logged once at debug level; a collector
// whose whole read fails returns an error instead. A rate is null too when
// its counters can't be trusted for the tick (see counter.go): a counter
// that grew by more than the device can move is counted, and
// [ImplausibleRates] reports the count. Every collector also keeps the raw
// values of its last read (counters in base units, levels) for /metrics,
// which [RawReader] hands out.
//
// The collectors read the host through files (gopsutil's and their own
// reads of /proc and /sys), so testdata holds fixture trees of host shapes,
// run through the real collectors by TestFixtures; only the clock and
// statfs are replaced there.
//
// The "what is using it" topics (processes, containers, sensors, gpu) have
// packages of their own; [NewWhatsUsing] builds those this host can
// provide, and [TopicsOf] a set of collectors is the host's topic list.
//
// A [Sampler] calls every collector once per tick, on wall-clock multiples
// of its interval, and hands the readings of that tick to a Publish func.
//
// # Concurrency
//
// Collectors keep the previous sample and reused buffers, so they are not
// safe for concurrent use: exactly one goroutine may call Collect at a time.
// When collectors are given to a Sampler, the goroutine running
// [Sampler.Run] owns them and nobody else may call them.
//
// Run is owned by its caller, who stops it by cancelling the context and
// waits for Run to return. Run starts no goroutine of its own, so nothing
// outlives it; Publish and Observe are called on the Run goroutine, one tick
// at a time, and a tick that is in progress when the context is cancelled
// finishes first (collectors take no context; one full sample takes well
// under a millisecond). [Sampler.LastTick], ImplausibleRates and ReadRaw
// are safe to call from any goroutine. Only one Run may be active per Sampler.
//
// The disk collector reads filesystem sizes with statfs on goroutines of
// its own, at most one per mount point, and Collect waits for them at most
// 20 ms: a statfs that hangs (a dead NFS server, a hung FUSE daemon) marks
// its mount stale and holds up nothing else. The collectors' owner calls
// [CloseCollectors] after the last Collect; it waits for those goroutines,
// except one blocked in statfs past its 2 s deadline, which the kernel
// won't interrupt: it is left, at most one per mount, until the mount
// answers or is unmounted by force, and logged.
package metrics
