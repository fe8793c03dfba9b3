package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v3/cpu"
)

// cpuTimes is the time one CPU spent in each state since boot, in the
// milliseconds (the unit cancels out of every percentage). Guest and guest_nice are left out: the kernel already
// counts them inside user and nice, and adding them would count them twice.
type cpuTimes struct {
	User, Nice, System, Idle, Iowait, Irq, Softirq, Steal uint64
}

// cpuCore is one CPU's times, as cpu.Times(true) reports them.
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

// coresFromTimes converts gopsutil's per-CPU times (seconds, as floats) to
// cpuTimes in milliseconds. Milliseconds keep the sub-tick precision the
// kernel's USER_HZ (usually 100) gives, and the unit cancels out of every
// percentage anyway. The id is the number in "cpuN"; a name without one
// keeps its position as id.
func coresFromTimes(ts []cpu.TimesStat, dst []cpuCore) []cpuCore {
	dst = dst[:0]
	ms := func(sec float64) uint64 {
		if sec <= 0 {
			return 0
		}
		return uint64(math.Round(sec * 1000))
	}
	for i, t := range ts {
		id := i
		if n, err := strconv.Atoi(strings.TrimPrefix(t.CPU, "cpu")); err == nil {
			id = n
		}
		dst = append(dst, cpuCore{id: id, times: cpuTimes{
			User: ms(t.User), Nice: ms(t.Nice), System: ms(t.System), Idle: ms(t.Idle),
			Iowait: ms(t.Iowait), Irq: ms(t.Irq), Softirq: ms(t.Softirq), Steal: ms(t.Steal),
		}})
	}
	return dst
}

// cpuCollector reports CPU time shares from two successive cpu.Times(true)
// samples (one read of /proc/stat per tick; totals are summed from the cores
// so they match the cores exactly). It never uses cpu.Percent, whose
// previous sample is process-global state.
type cpuCollector struct {
	env hostEnv
	log *onceLog

	prev, next []cpuCore // last sample and the buffer for the next, swapped
	havePrev   bool
	cores      []float64 // per-core percentages, reused
}

func newCPUCollector(env hostEnv, log *slog.Logger) *cpuCollector {
	return &cpuCollector{env: env, log: newOnceLog(log)}
}

func (c *cpuCollector) Topic() string { return topicCPU }

func (c *cpuCollector) read() ([]cpuCore, error) {
	ts, err := cpu.TimesWithContext(c.env.ctx, true)
	if err != nil {
		return nil, fmt.Errorf("read cpu times: %w", err)
	}
	if len(ts) == 0 {
		return nil, errors.New("read cpu times: no per-cpu times")
	}
	return coresFromTimes(ts, c.next), nil
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
