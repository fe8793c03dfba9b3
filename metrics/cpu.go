package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"
)

// cpuTimes is the time one CPU spent in each state since boot, in the
// kernel's USER_HZ ticks (the unit cancels out of every percentage, so it is
// never converted). Guest and guest_nice are left out: the kernel already
// counts them inside user and nice, and adding them would count them twice.
type cpuTimes struct {
	User, Nice, System, Idle, Iowait, Irq, Softirq, Steal uint64
}

// cpuCore is one "cpuN" line of /proc/stat.
type cpuCore struct {
	id    int
	times cpuTimes
}

// cpuPayload is the JSON of the cpu topic. All values are percentages of
// the time of all CPUs over the last tick, 0..100.
//
//   - total is busy time: everything but idle and iowait (100 - idle -
//     iowait). Iowait is idle time with a disk request outstanding: the CPU
//     could have run something else, so it is not busy. Steal counts as busy:
//     the guest wanted the CPU and the hypervisor gave it to someone else.
//   - user includes nice (both are user-space work; nice is only priority).
//   - system includes irq and softirq (kernel work done on the CPU's time).
//
// So total = user + system + steal, up to rounding.
type cpuPayload struct {
	T      int64     `json:"t"`
	Total  float64   `json:"total"`
	User   float64   `json:"user"`
	System float64   `json:"system"`
	Iowait float64   `json:"iowait"`
	Steal  float64   `json:"steal"`
	Idle   float64   `json:"idle"`
	Cores  []float64 `json:"cores"` // busy % of each CPU, in /proc/stat order
}

// since is the field-wise growth from prev to c. A field that went backwards
// gives 0 (Linux has shipped kernels whose iowait decreases, and a CPU that
// went offline and back may restart its counters).
func (c cpuTimes) since(prev cpuTimes) cpuTimes {
	sub := func(cur, old uint64) uint64 {
		if cur < old {
			return 0
		}
		return cur - old
	}
	return cpuTimes{
		User:    sub(c.User, prev.User),
		Nice:    sub(c.Nice, prev.Nice),
		System:  sub(c.System, prev.System),
		Idle:    sub(c.Idle, prev.Idle),
		Iowait:  sub(c.Iowait, prev.Iowait),
		Irq:     sub(c.Irq, prev.Irq),
		Softirq: sub(c.Softirq, prev.Softirq),
		Steal:   sub(c.Steal, prev.Steal),
	}
}

func (c cpuTimes) add(o cpuTimes) cpuTimes {
	return cpuTimes{
		User:    c.User + o.User,
		Nice:    c.Nice + o.Nice,
		System:  c.System + o.System,
		Idle:    c.Idle + o.Idle,
		Iowait:  c.Iowait + o.Iowait,
		Irq:     c.Irq + o.Irq,
		Softirq: c.Softirq + o.Softirq,
		Steal:   c.Steal + o.Steal,
	}
}

func (c cpuTimes) all() float64 {
	return float64(c.User + c.Nice + c.System + c.Idle + c.Iowait + c.Irq + c.Softirq + c.Steal)
}

func (c cpuTimes) busy() float64 {
	return float64(c.User + c.Nice + c.System + c.Irq + c.Softirq + c.Steal)
}

// cpuUsage computes the cpu payload (without "t") from two successive
// samples. Cores are matched by id: a CPU that appears since prev reports 0
// for this tick and adds nothing to the totals; one that disappeared is
// dropped. The totals are the sum over the matched cores, so CPU hotplug
// never makes them jump. cores is reused for the per-core slice.
func cpuUsage(prev, cur []cpuCore, cores []float64) cpuPayload {
	var sum cpuTimes
	cores = cores[:0]
	for i, c := range cur {
		p, ok := matchCore(prev, i, c.id)
		if !ok {
			cores = append(cores, 0)
			continue
		}
		d := c.times.since(p)
		sum = sum.add(d)
		cores = append(cores, percentOf(d.busy(), d.all()))
	}
	all := sum.all()
	return cpuPayload{
		Total:  percentOf(sum.busy(), all),
		User:   percentOf(float64(sum.User+sum.Nice), all),
		System: percentOf(float64(sum.System+sum.Irq+sum.Softirq), all),
		Iowait: percentOf(float64(sum.Iowait), all),
		Steal:  percentOf(float64(sum.Steal), all),
		Idle:   percentOf(float64(sum.Idle), all),
		Cores:  cores,
	}
}

// matchCore finds the core with the given id in prev, looking first at the
// same position, where it almost always is.
func matchCore(prev []cpuCore, i, id int) (cpuTimes, bool) {
	if i < len(prev) && prev[i].id == id {
		return prev[i].times, true
	}
	for _, p := range prev {
		if p.id == id {
			return p.times, true
		}
	}
	return cpuTimes{}, false
}

// parseProcStat appends the per-CPU lines ("cpu0 ...", "cpu1 ...") of a
// /proc/stat file to dst. The aggregate "cpu " line is skipped: totals are
// summed from the cores so that they match the cores exactly. Kernels older
// than 2.6.11 lack some trailing fields; those read as 0.
func parseProcStat(data []byte, dst []cpuCore) ([]cpuCore, error) {
	dst = dst[:0]
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) < 4 || !bytes.HasPrefix(line, []byte("cpu")) || line[3] < '0' || line[3] > '9' {
			continue
		}
		fields := line[3:]
		id, fields, ok := nextUint(fields)
		if !ok {
			return dst, fmt.Errorf("parse /proc/stat line %q: bad cpu number", line)
		}
		var v [8]uint64
		n := 0
		for ; n < len(v); n++ {
			x, rest, ok := nextUint(fields)
			if !ok {
				break
			}
			v[n], fields = x, rest
		}
		if n < 4 { // user nice system idle have been there since Linux 2.4
			return dst, fmt.Errorf("parse /proc/stat line %q: %d fields, want at least 4", line, n)
		}
		dst = append(dst, cpuCore{
			id: int(id),
			times: cpuTimes{
				User: v[0], Nice: v[1], System: v[2], Idle: v[3],
				Iowait: v[4], Irq: v[5], Softirq: v[6], Steal: v[7],
			},
		})
	}
	if len(dst) == 0 {
		return dst, errors.New("parse /proc/stat: no per-cpu lines")
	}
	return dst, nil
}

// nextUint skips leading blanks and parses one unsigned decimal number,
// returning the rest of b. It does not allocate, unlike strconv on a
// []byte-to-string conversion per field.
func nextUint(b []byte) (uint64, []byte, bool) {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	var x uint64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		x = x*10 + uint64(b[i]-'0')
	}
	if i == 0 || (i < len(b) && b[i] != ' ' && b[i] != '\t') {
		return 0, b, false
	}
	return x, b[i:], true
}

// cpuCollector reports CPU time shares from two successive /proc/stat reads.
//
// It reads /proc/stat itself rather than calling gopsutil's cpu.Times(true):
// gopsutil/v3/cpu needs github.com/tklauser/go-sysconf and
// github.com/tklauser/numcpus, which the module's go.mod does not list, so
// importing it does not build. The parse is one small pure function; the
// busy-% arithmetic (cpuUsage) would be unchanged with cpu.Times. It never
// uses cpu.Percent, whose previous sample is process-global state.
type cpuCollector struct {
	path string
	log  *onceLog

	buf        []byte    // file contents, reused
	prev, next []cpuCore // last sample and the buffer for the next, swapped
	havePrev   bool
	cores      []float64 // per-core percentages, reused
}

func newCPUCollector(env hostEnv, log *slog.Logger) *cpuCollector {
	return &cpuCollector{
		path: filepath.Join(env.proc, "stat"),
		log:  newOnceLog(log),
		buf:  make([]byte, 0, 4096), // /proc/stat of a 2-CPU VM is ~2 KB
	}
}

func (c *cpuCollector) Topic() string { return topicCPU }

func (c *cpuCollector) read() ([]cpuCore, error) {
	var err error
	c.buf, err = readFileInto(c.path, c.buf)
	if err != nil {
		return nil, fmt.Errorf("read cpu times: %w", err)
	}
	cur, err := parseProcStat(c.buf, c.next)
	if err != nil {
		return nil, fmt.Errorf("read cpu times: %w", err)
	}
	return cur, nil
}

func (c *cpuCollector) prime() {
	cur, err := c.read()
	if err != nil {
		c.log.debug("prime", "prime cpu collector", "err", err)
		return
	}
	c.prev, c.next, c.havePrev = cur, c.prev, true
}

func (c *cpuCollector) coreCount() int {
	return len(c.prev)
}

func (c *cpuCollector) Collect(t time.Time) ([]byte, error) {
	cur, err := c.read()
	if err != nil {
		return nil, err
	}
	if !c.havePrev {
		c.prev, c.next, c.havePrev = cur, c.prev, true
		return nil, errNoBaseline
	}
	p := cpuUsage(c.prev, cur, c.cores)
	c.cores = p.Cores
	c.prev, c.next = cur, c.prev
	p.T = t.UnixMilli()
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode cpu reading: %w", err)
	}
	return b, nil
}
