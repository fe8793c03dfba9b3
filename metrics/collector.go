package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
	"time"

	"github.com/shirou/gopsutil/v3/common"
	"github.com/shirou/gopsutil/v3/disk"
)

// Reading is one topic's sample for one tick: Data is a one-line JSON object
// that always has "t" (unix ms of the tick).
type Reading struct {
	Topic string
	Data  []byte
}

// Collector samples one topic. Implementations are not safe for concurrent
// use; see the package documentation. A collector that has work of its own
// in the background (disk: statfs calls) is also an io.Closer; its owner
// calls [CloseCollectors] after the last Collect.
type Collector interface {
	// Topic is the topic name: one of [AllTopics].
	Topic() string
	// Collect takes one sample and returns it as a JSON object whose "t" is
	// t.UnixMilli(). The returned slice is new on every call: the caller
	// keeps it.
	Collect(t time.Time) ([]byte, error)
}

// Options configures [NewCollectors] and [ReadHost].
type Options struct {
	Logger *slog.Logger // nil -> discard

	// HostProc, HostSys and HostEtc are optional roots of the host's /proc,
	// /sys and /etc, for running in a container with them mounted
	// elsewhere. Empty means gopsutil's default: the HOST_PROC, HOST_SYS or
	// HOST_ETC environment variable if set, else /proc, /sys, /etc. They are
	// given to gopsutil through its context override, never os.Setenv, so
	// nothing else in the process is affected.
	HostProc, HostSys, HostEtc string

	// now and statfs stand in for the clock and statfs(2) in the fixture
	// tests; nil means the real ones. They are the only fakes those tests
	// use: a fixture tree can hold every file the collectors read, but a
	// filesystem's size comes from a syscall on a real path, and the rates
	// are per second of the real clock.
	now    func() time.Time
	statfs func(ctx context.Context, path string) (*disk.UsageStat, error)
}

const (
	topicCPU     = "cpu"
	topicMemory  = "memory"
	topicLoad    = "load"
	topicDisk    = "disk"
	topicNetwork = "network"
)

// Topics returns the topic names in display order: cpu, memory, load, disk,
// network.
func Topics() []string {
	return []string{topicCPU, topicMemory, topicLoad, topicDisk, topicNetwork}
}

// refreshTicks is how many ticks the disk and network collectors reuse a
// slowly-changing list (physical disks, mounted filesystems) before reading
// it again. Disks and mounts change a few times a day at most, and listing
// them costs a directory read and a stat per device plus a mountinfo parse;
// at a 1 s interval 60 ticks means a new disk shows up within a minute.
const refreshTicks = 60

// errNoBaseline is returned by a counter-based collector that has no earlier
// sample to compute rates from (its priming read failed). The next Collect
// works.
var errNoBaseline = errors.New("no previous sample to compute rates from yet")

// NewCollectors builds the five collectors in [Topics] order, priming the
// counter-based ones (cpu, disk, network) with a first sample so the first
// Collect already has rates. A failed priming read is not fatal: it is logged
// at debug and that collector reports from its second Collect on. It returns
// an error only for a HostProc, HostSys or HostEtc that is not a directory.
func NewCollectors(opts Options) ([]Collector, error) {
	env, err := newHostEnv(opts)
	if err != nil {
		return nil, err
	}
	log := opts.logger()

	cpuC := newCPUCollector(env, log)
	cpuC.prime()
	// The load collector divides by the host's CPU count. It is taken once
	// from /proc/stat (host-wide, unlike runtime.NumCPU, which is this
	// process's affinity mask and smaller in a cpuset-limited container);
	// CPU hotplug is rare enough not to re-count per tick.
	cpus := cpuC.coreCount()
	if cpus == 0 {
		cpus = runtime.NumCPU()
	}
	diskC := newDiskCollector(env, log)
	diskC.prime()
	netC := newNetworkCollector(env, log)
	netC.prime()

	return []Collector{
		cpuC,
		newMemoryCollector(env, detectContainer(env).memory, log),
		newLoadCollector(env, cpus, log),
		diskC,
		netC,
	}, nil
}

// CloseCollectors closes every collector that is an io.Closer, after the
// last Collect (once the Sampler's Run has returned). It waits for their
// background work except a statfs blocked past its deadline on a mount that
// does not answer, which can't be interrupted and is left (and logged);
// so it returns within statfsDeadline (2 s). It returns the first error.
func CloseCollectors(cs []Collector) error {
	var first error
	for _, c := range cs {
		if cl, ok := c.(io.Closer); ok {
			if err := cl.Close(); err != nil && first == nil {
				first = fmt.Errorf("close %s collector: %w", c.Topic(), err)
			}
		}
	}
	return first
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// hostEnv is where the collectors find the host's files.
type hostEnv struct {
	// ctx carries gopsutil's common.EnvMap override and nothing else. It is
	// never cancelled; it is kept because every gopsutil call wants one.
	ctx context.Context
	// proc and sys are the resolved roots for the few files this package
	// reads itself (/proc/stat, /sys/block).
	proc, sys string
	// now is the clock the rates are measured with; statfs reads a
	// filesystem's size. Both come from Options, defaulting to the real ones.
	now    func() time.Time
	statfs func(ctx context.Context, path string) (*disk.UsageStat, error)
}

func newHostEnv(opts Options) (hostEnv, error) {
	return newHostEnvContext(context.Background(), opts)
}

func newHostEnvContext(ctx context.Context, opts Options) (hostEnv, error) {
	env := common.EnvMap{}
	for _, r := range []struct {
		key  common.EnvKeyType
		name string
		path string
	}{
		{common.HostProcEnvKey, "proc", opts.HostProc},
		{common.HostSysEnvKey, "sys", opts.HostSys},
		{common.HostEtcEnvKey, "etc", opts.HostEtc},
	} {
		if r.path == "" {
			continue
		}
		// A typo in a root would otherwise show up as every topic failing
		// on every tick; fail at start instead.
		fi, err := os.Stat(r.path)
		if err != nil {
			return hostEnv{}, fmt.Errorf("host %s root: %w", r.name, err)
		}
		if !fi.IsDir() {
			return hostEnv{}, fmt.Errorf("host %s root %s: not a directory", r.name, r.path)
		}
		env[r.key] = r.path
	}
	if len(env) > 0 {
		ctx = context.WithValue(ctx, common.EnvKey, env)
	}
	h := hostEnv{
		ctx:    ctx,
		proc:   hostRoot(opts.HostProc, "HOST_PROC", "/proc"),
		sys:    hostRoot(opts.HostSys, "HOST_SYS", "/sys"),
		now:    opts.now,
		statfs: opts.statfs,
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.statfs == nil {
		h.statfs = disk.UsageWithContext
	}
	return h, nil
}

// hostRoot resolves a root the way gopsutil does (explicit value, then the
// environment variable, then the default) so the files this package reads
// itself come from the same place as gopsutil's.
func hostRoot(explicit, envVar, dflt string) string {
	if explicit != "" {
		return explicit
	}
	if v := os.Getenv(envVar); v != "" {
		return v
	}
	return dflt
}

// round2 rounds to two decimals: more digits are noise on a dashboard and
// make every payload longer.
func round2(x float64) float64 {
	return math.Round(x*100) / 100
}

// percentOf is part/whole as a percentage in 0..100, rounded; whole == 0
// gives 0.
func percentOf(part, whole float64) float64 {
	if whole <= 0 {
		return 0
	}
	return round2(min(max(part/whole*100, 0), 100))
}

// onceLog logs each distinct key only once, so a condition that holds on
// every tick (no swap, an unreadable mount, a failing topic) is logged once
// rather than once a second.
type onceLog struct {
	log  *slog.Logger
	seen map[string]struct{}
}

// onceLogCap bounds the keys remembered: error texts can carry changing
// values (a byte count, a pid), and an unbounded set would grow for the
// life of the process. Past the cap new keys are not logged at all, which
// only loses debug lines that were repeating anyway.
const onceLogCap = 256

func newOnceLog(log *slog.Logger) *onceLog {
	return &onceLog{log: log, seen: make(map[string]struct{})}
}

// logf logs msg with args at level unless key was logged before. It reports
// whether it logged.
func (o *onceLog) logf(level slog.Level, key, msg string, args ...any) bool {
	if _, ok := o.seen[key]; ok || len(o.seen) >= onceLogCap {
		return false
	}
	o.seen[key] = struct{}{}
	o.log.Log(context.Background(), level, msg, args...)
	return true
}

func (o *onceLog) debug(key, msg string, args ...any) {
	o.logf(slog.LevelDebug, key, msg, args...)
}
