package metrics

import (
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v3/disk"
	"github.com/shirou/gopsutil/v3/load"
	"github.com/shirou/gopsutil/v3/mem"
)

// Raw is what one collector read from the host on its last Collect, before
// any arithmetic: the kernel's cumulative counters in base units (seconds,
// bytes, operations, packets) and the levels (memory, load, filesystem
// sizes). /metrics serves these, so a Prometheus server computes its own
// rates at whatever scrape interval it likes, from the very reads the
// stream's rates came from: nothing reads the host a second time for it.
// Only the fields of the collector's topic are set.
type Raw struct {
	Topic string
	T     time.Time // the tick the values were read for; zero before the first read

	CPUs        []CPUTimes       // cpu
	Memory      []MemoryField    // memory
	Load        *LoadAverage     // load; nil when the host has none
	Disks       []DiskCounters   // disk: the devices the disk topic counts
	Filesystems []FilesystemSize // disk: the filesystems the disk topic lists, with sizes
	Interfaces  []NetCounters    // network: every interface but loopback
}

// CPUTimes is one CPU's time in each state since boot, in seconds. Guest
// time is inside User and Nice, as the kernel counts it.
type CPUTimes struct {
	CPU                                                   int // the kernel's number (cpuN)
	User, Nice, System, Idle, Iowait, Irq, Softirq, Steal float64
}

// MemoryField is one line of /proc/meminfo: Name as the file spells it with
// "(x)" turned into "_x" (Active(anon) is Active_anon), Value in bytes when
// Bytes (the line had a kB unit), else a count (HugePages_Total).
type MemoryField struct {
	Name  string
	Value float64
	Bytes bool
}

// LoadAverage is the 1, 5 and 15 minute load average, unrounded.
type LoadAverage struct{ Load1, Load5, Load15 float64 }

// DiskCounters is one block device's I/O since boot: completed operations,
// bytes, and time (seconds) spent reading, writing and with I/O in flight.
type DiskCounters struct {
	Device                                 string
	Reads, Writes, ReadBytes, WrittenBytes uint64
	ReadSeconds, WriteSeconds, IOSeconds   float64
}

// FilesystemSize is one mounted filesystem's size, free bytes (for root)
// and available bytes (for everyone else), as statfs last answered.
type FilesystemSize struct {
	Mountpoint, Fstype, Device string
	Size, Free, Avail          uint64
	Stale                      bool // statfs is not answering; the sizes are its last answer
}

// NetCounters is one network interface's traffic since it appeared.
type NetCounters struct {
	Device                                 string
	RxBytes, TxBytes, RxPackets, TxPackets uint64
}

// RawReader is implemented by every collector. ReadRaw returns a copy of
// what the last Collect read; it is safe to call from any goroutine while
// the sampler runs (the /metrics handler calls it at scrape time).
type RawReader interface {
	ReadRaw() Raw
}

// lastRaw is the part of a collector behind [RawReader]: the collector
// updates it after each read, readers copy it out. Copying on read rather
// than on update keeps the per-tick cost to a few stores into reused
// slices; scrapes come far less often than ticks.
type lastRaw struct {
	mu  sync.Mutex
	raw Raw // guarded by mu; its slices are reused by the next update
}

// update lets the collector refill the raw reading under the lock.
func (l *lastRaw) update(topic string, t time.Time, fill func(r *Raw)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.raw.Topic, l.raw.T = topic, t
	fill(&l.raw)
}

func (l *lastRaw) ReadRaw() Raw {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.raw
	r.CPUs = slices.Clone(r.CPUs)
	r.Memory = slices.Clone(r.Memory)
	r.Disks = slices.Clone(r.Disks)
	r.Filesystems = slices.Clone(r.Filesystems)
	r.Interfaces = slices.Clone(r.Interfaces)
	if r.Load != nil {
		l := *r.Load
		r.Load = &l
	}
	return r
}

var (
	_ RawReader = (*cpuCollector)(nil)
	_ RawReader = (*memoryCollector)(nil)
	_ RawReader = (*loadCollector)(nil)
	_ RawReader = (*diskCollector)(nil)
	_ RawReader = (*networkCollector)(nil)
)

// parseMeminfoFields lists every line of /proc/meminfo into dst (reused),
// in file order; see [MemoryField] for the names and units.
func parseMeminfoFields(text string, dst []MemoryField) []MemoryField {
	dst = dst[:0]
	unparen := strings.NewReplacer("(", "_", ")", "")
	for key, v := range meminfoLines(text) {
		f := MemoryField{Name: unparen.Replace(key), Value: float64(v.n)}
		if v.kB {
			f.Value, f.Bytes = f.Value*1024, true
		}
		dst = append(dst, f)
	}
	return dst
}

// meminfoValue is one /proc/meminfo value: n, in kB when kB.
type meminfoValue struct {
	n  uint64
	kB bool
}

// meminfoLines yields each "Key: value [kB]" line of /proc/meminfo, in
// file order, skipping lines that don't parse.
func meminfoLines(text string) iter.Seq2[string, meminfoValue] {
	return func(yield func(string, meminfoValue) bool) {
		for line := range strings.Lines(text) {
			key, rest, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				continue
			}
			n, err := strconv.ParseUint(fields[0], 10, 64)
			if err != nil {
				continue
			}
			if !yield(key, meminfoValue{n: n, kB: len(fields) > 1 && fields[1] == "kB"}) {
				return
			}
		}
	}
}

func (c *cpuCollector) keepRaw(t time.Time, cur []cpuCore) {
	c.update(topicCPU, t, func(r *Raw) {
		r.CPUs = r.CPUs[:0]
		for _, core := range cur {
			s := func(ms uint64) float64 { return float64(ms) / 1000 } // cpuTimes are in ms
			ct := core.times
			r.CPUs = append(r.CPUs, CPUTimes{CPU: core.id, User: s(ct.User), Nice: s(ct.Nice), System: s(ct.System),
				Idle: s(ct.Idle), Iowait: s(ct.Iowait), Irq: s(ct.Irq), Softirq: s(ct.Softirq), Steal: s(ct.Steal)})
		}
	})
}

func (c *memoryCollector) keepRaw(t time.Time, meminfo string) {
	c.update(topicMemory, t, func(r *Raw) { r.Memory = parseMeminfoFields(meminfo, r.Memory) })
}

// keepRawStat keeps what gopsutil reports where there is no /proc/meminfo,
// under the names /proc/meminfo would give them.
func (c *memoryCollector) keepRawStat(t time.Time, vm *mem.VirtualMemoryStat) {
	c.update(topicMemory, t, func(r *Raw) {
		r.Memory = r.Memory[:0]
		for _, f := range []struct {
			name string
			v    uint64
		}{{"MemTotal", vm.Total}, {"MemFree", vm.Free}, {"MemAvailable", vm.Available}, {"Buffers", vm.Buffers},
			{"Cached", vm.Cached}, {"SwapTotal", vm.SwapTotal}, {"SwapFree", vm.SwapFree}} {
			r.Memory = append(r.Memory, MemoryField{Name: f.name, Value: float64(f.v), Bytes: true})
		}
	})
}

func (c *loadCollector) keepRaw(t time.Time, avg *load.AvgStat) {
	c.update(topicLoad, t, func(r *Raw) {
		r.Load = nil
		if avg != nil {
			r.Load = &LoadAverage{avg.Load1, avg.Load5, avg.Load15}
		}
	})
}

func (c *diskCollector) keepRaw(t time.Time, cur map[string]disk.IOCountersStat, sizes []fsResult) {
	c.update(topicDisk, t, func(r *Raw) {
		r.Disks = r.Disks[:0]
		for name, d := range cur {
			ms := func(v uint64) float64 { return float64(v) / 1000 } // the kernel counts these in ms
			r.Disks = append(r.Disks, DiskCounters{Device: name, Reads: d.ReadCount, Writes: d.WriteCount,
				ReadBytes: d.ReadBytes, WrittenBytes: d.WriteBytes,
				ReadSeconds: ms(d.ReadTime), WriteSeconds: ms(d.WriteTime), IOSeconds: ms(d.IoTime)})
		}
		slices.SortFunc(r.Disks, func(a, b DiskCounters) int { return strings.Compare(a.Device, b.Device) })
		r.Filesystems = r.Filesystems[:0]
		for i, s := range sizes {
			u := s.usage
			if u == nil {
				continue
			}
			m := c.mounts[i]
			// gopsutil's Free is what statfs calls available (f_bavail);
			// free to root (f_bfree) is what is not used.
			r.Filesystems = append(r.Filesystems, FilesystemSize{Mountpoint: m.Mountpoint, Fstype: m.Fstype,
				Device: m.Device, Size: u.Total, Free: u.Total - min(u.Used, u.Total), Avail: u.Free, Stale: s.stale})
		}
	})
}

func (c *networkCollector) keepRaw(t time.Time) {
	c.update(topicNetwork, t, func(r *Raw) {
		r.Interfaces = r.Interfaces[:0]
		for name, n := range c.cur {
			r.Interfaces = append(r.Interfaces, NetCounters{Device: name, RxBytes: n.BytesRecv, TxBytes: n.BytesSent,
				RxPackets: n.PacketsRecv, TxPackets: n.PacketsSent})
		}
		slices.SortFunc(r.Interfaces, func(a, b NetCounters) int { return strings.Compare(a.Device, b.Device) })
	})
}
