package metrics

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v3/mem"
)

// memoryPayload is the JSON of the memory topic; sizes are bytes.
//
// used is total - available, not gopsutil's Used (total - free - buffers -
// cached): MemAvailable is the kernel's own estimate of what programs can
// still get without swapping, it accounts for cache that cannot be dropped,
// and procps-ng free(1) computes "used" the same way since 4.0. percent is
// used/total. swap_total and swap_used are null when the host has no swap.
type memoryPayload struct {
	T         int64   `json:"t"`
	Total     uint64  `json:"total"`
	Used      uint64  `json:"used"`
	Available uint64  `json:"available"`
	Cached    uint64  `json:"cached"`
	Buffers   uint64  `json:"buffers"`
	Percent   float64 `json:"percent"`
	SwapTotal *uint64 `json:"swap_total"`
	SwapUsed  *uint64 `json:"swap_used"`
}

// memInfo is what the memory payload is computed from, in bytes.
type memInfo struct {
	Total, Free, Buffers uint64
	// Cached is the page cache plus reclaimable slab, as free(1) counts
	// buff/cache (and gopsutil its Cached).
	Cached       uint64
	Available    uint64
	HasAvailable bool // the kernel reported MemAvailable (Linux 3.14 and later)
	// PageCache is Active(file) + Inactive(file): the file pages the kernel
	// can drop. Kernels older than 2.6.28 lack them; Cached stands in.
	PageCache    uint64
	SReclaimable uint64
	SwapTotal    uint64
	SwapFree     uint64
}

// arcStats is the size of a ZFS ARC and the size it will not shrink below.
type arcStats struct {
	Size, Min uint64
}

// estimateAvailable is the kernel's MemAvailable estimate, for kernels that
// do not report it, computed as si_mem_available did when MemAvailable was
// added in Linux 3.14 (mm/page_alloc.c; today it lives in mm/show_mem.c):
//
//	free - low + pagecache - min(pagecache/2, low) + sreclaimable - min(sreclaimable/2, low)
//
// where low is the sum of the zones' low watermarks (/proc/zoneinfo), and the
// result is at least 0. It is done in signed arithmetic: with free memory
// below the watermarks, free - low is negative, and an unsigned subtraction
// wraps to an "available" of exabytes (0 % used on a machine that is out of
// memory). Later kernels subtract totalreserve_pages from free instead and
// add NR_KERNEL_MISC_RECLAIMABLE; neither is in /proc on the kernels that
// need this estimate.
func estimateAvailable(m memInfo, lowWatermark uint64) uint64 {
	low := int64(lowWatermark)
	avail := int64(m.Free) - low
	pc := int64(m.PageCache)
	avail += pc - min(pc/2, low)
	sr := int64(m.SReclaimable)
	avail += sr - min(sr/2, low)
	return uint64(max(avail, 0))
}

// memoryFrom computes the payload (without "t"). available is MemAvailable
// where the kernel reports a possible one, else the kernel's own estimate
// (estimateAvailable). A MemAvailable above MemTotal is not possible: lxcfs
// reports one in LXC containers, where the other figures are the
// container's; it is replaced by the estimate without watermarks, which
// are the host's zones' and mean nothing for a container's limit. The part
// of a ZFS ARC above its minimum is counted as cache and as available, as
// htop and btop count it: the kernel sees the ARC as used memory, but ZFS
// gives it back under memory pressure. used = total - available, and
// available and cached never exceed total.
func memoryFrom(m memInfo, lowWatermark uint64, arc arcStats) memoryPayload {
	avail := m.Available
	switch {
	case !m.HasAvailable:
		avail = estimateAvailable(m, lowWatermark)
	case m.Available > m.Total:
		avail = estimateAvailable(m, 0)
	}
	cached := m.Cached
	if arc.Size > arc.Min {
		shrinkable := arc.Size - arc.Min
		avail += shrinkable
		cached += shrinkable
	}
	avail = min(avail, m.Total)
	used := m.Total - avail
	p := memoryPayload{
		Total:     m.Total,
		Used:      used,
		Available: avail,
		Cached:    min(cached, m.Total),
		Buffers:   m.Buffers,
		Percent:   percentOf(float64(used), float64(m.Total)),
	}
	if m.SwapTotal > 0 {
		total := m.SwapTotal
		swapUsed := total - min(m.SwapFree, total)
		p.SwapTotal, p.SwapUsed = &total, &swapUsed
	}
	return p
}

// memoryReading turns one gopsutil sample into the payload (without "t"),
// on systems without /proc/meminfo. Their available figure has none of
// Linux's problems and is only clamped to total.
func memoryReading(vm *mem.VirtualMemoryStat) memoryPayload {
	return memoryFrom(memInfo{
		Total: vm.Total, Free: vm.Free, Buffers: vm.Buffers, Cached: vm.Cached,
		Available: min(vm.Available, vm.Total), HasAvailable: true,
		SwapTotal: vm.SwapTotal, SwapFree: vm.SwapFree,
	}, 0, arcStats{})
}

// parseMeminfo reads the fields of /proc/meminfo that memInfo needs.
func parseMeminfo(text string) memInfo {
	var m memInfo
	var cached, activeFile, inactiveFile uint64
	hasFile := false
	for key, v := range meminfoLines(text) {
		if v.kB {
			v.n *= 1024
		}
		switch key {
		case "MemTotal":
			m.Total = v.n
		case "MemFree":
			m.Free = v.n
		case "MemAvailable":
			m.Available, m.HasAvailable = v.n, true
		case "Buffers":
			m.Buffers = v.n
		case "Cached":
			cached = v.n
		case "Active(file)":
			activeFile, hasFile = v.n, true
		case "Inactive(file)":
			inactiveFile, hasFile = v.n, true
		case "SReclaimable":
			m.SReclaimable = v.n
		case "SwapTotal":
			m.SwapTotal = v.n
		case "SwapFree":
			m.SwapFree = v.n
		}
	}
	m.Cached = cached + m.SReclaimable
	m.PageCache = cached
	if hasFile {
		m.PageCache = activeFile + inactiveFile
	}
	return m
}

// parseZoneinfoLow sums the low watermarks of every zone in /proc/zoneinfo,
// in pages.
func parseZoneinfoLow(text string) uint64 {
	var sum uint64
	for line := range strings.Lines(text) {
		fields := strings.Fields(line)
		if len(fields) == 2 && fields[0] == "low" {
			if v, err := strconv.ParseUint(fields[1], 10, 64); err == nil {
				sum += v
			}
		}
	}
	return sum
}

// parseArcstats reads the ARC's size and minimum from ZFS's
// /proc/spl/kstat/zfs/arcstats ("name type data" rows, bytes).
func parseArcstats(text string) arcStats {
	var a arcStats
	for line := range strings.Lines(text) {
		fields := strings.Fields(line)
		if len(fields) != 3 {
			continue
		}
		v, err := strconv.ParseUint(fields[2], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "size":
			a.Size = v
		case "c_min":
			a.Min = v
		}
	}
	return a
}

// memoryCollector reports memory and swap use. On Linux it reads
// /proc/meminfo itself, and /proc/zoneinfo where the kernel has no
// MemAvailable, and the ZFS ARC's size where ZFS is loaded: gopsutil's
// VirtualMemory does not say whether MemAvailable was there, its estimate
// wraps below the watermarks, and it knows nothing of the ARC. Elsewhere it
// calls mem.VirtualMemory; mem.SwapMemory would add a call per tick for
// nothing we show, since VirtualMemory already has SwapTotal and SwapFree.
//
// Inside a container with a memory limit, the figures are the container's
// against its limit (containerMemory): the host's /proc/meminfo there
// describes the whole machine, not what the container may use.
type memoryCollector struct {
	env hostEnv
	log *onceLog
	cg  *cgroupMemory // nil outside a container with a memory limit
	lastRaw
}

func newMemoryCollector(env hostEnv, cg *cgroupMemory, log *slog.Logger) *memoryCollector {
	return &memoryCollector{env: env, cg: cg, log: newOnceLog(log)}
}

func (c *memoryCollector) Topic() string { return topicMemory }

// read takes one sample.
func (c *memoryCollector) read(t time.Time) (memoryPayload, error) {
	if runtime.GOOS != "linux" {
		vm, err := mem.VirtualMemoryWithContext(c.env.ctx)
		if err != nil {
			return memoryPayload{}, fmt.Errorf("read memory: %w", err)
		}
		c.keepRawStat(t, vm)
		return memoryReading(vm), nil
	}
	b, err := os.ReadFile(filepath.Join(c.env.proc, "meminfo"))
	if err != nil {
		return memoryPayload{}, fmt.Errorf("read memory: %w", err)
	}
	c.keepRaw(t, string(b))
	m := parseMeminfo(string(b))
	var low uint64
	if !m.HasAvailable {
		z, err := os.ReadFile(filepath.Join(c.env.proc, "zoneinfo"))
		if err != nil {
			c.log.debug("zoneinfo", "no MemAvailable and no zoneinfo: estimating available memory without watermarks", "err", err)
		}
		low = parseZoneinfoLow(string(z)) * uint64(os.Getpagesize())
	}
	var arc arcStats
	// Absent unless the zfs module is loaded: an open that fails is as
	// cheap as a stat.
	if a, err := os.ReadFile(filepath.Join(c.env.proc, "spl", "kstat", "zfs", "arcstats")); err == nil {
		arc = parseArcstats(string(a))
	}
	p := memoryFrom(m, low, arc)
	if c.cg != nil {
		used, cache, ok := c.cg.read()
		if !ok {
			c.log.debug("cgroup memory", "can't read the container's memory use: reporting the host's", "path", c.cg.usage)
			return p, nil
		}
		p = containerMemory(p, c.cg.limit, used, cache)
	}
	return p, nil
}

func (c *memoryCollector) Collect(t time.Time) ([]byte, error) {
	p, err := c.read(t)
	if err != nil {
		return nil, err
	}
	if p.SwapTotal == nil {
		c.log.debug("no swap", "host has no swap: reporting swap as null")
	}
	p.T = t.UnixMilli()
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode memory reading: %w", err)
	}
	return b, nil
}
