package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
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
// So total = user + system + steal, up to rounding. A core whose counters
// grew by more than a CPU can run (see cpuUsage) is null in cores and left
// out of the totals.
type cpuPayload struct {
	T      int64   `json:"t"`
	Total  float64 `json:"total"`
	User   float64 `json:"user"`
	System float64 `json:"system"`
	Iowait float64 `json:"iowait"`
	Steal  float64 `json:"steal"`
	Idle   float64 `json:"idle"`
	Cores  []maybe `json:"cores"` // busy % of each online CPU, in /proc/stat order
	// CoreIDs is the kernel's number of each element of Cores (the N of
	// cpuN), so an offline CPU, which /proc/stat leaves out, shifts no
	// value onto another CPU's name. It is a parallel array rather than an
	// object keyed by number so that a client reading cores positionally
	// keeps working.
	CoreIDs []int `json:"core_ids"`
}

// cpuFields is the number of fields of cpuTimes.
const cpuFields = 8

func (c cpuTimes) fields() [cpuFields]uint64 {
	return [cpuFields]uint64{c.User, c.Nice, c.System, c.Idle, c.Iowait, c.Irq, c.Softirq, c.Steal}
}

func cpuTimesOf(f [cpuFields]uint64) cpuTimes {
	return cpuTimes{User: f[0], Nice: f[1], System: f[2], Idle: f[3], Iowait: f[4], Irq: f[5], Softirq: f[6], Steal: f[7]}
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

// cpuState follows one CPU's time counters (in cpuTimes field order).
type cpuState [cpuFields]counter

func newCPUState(t cpuTimes) cpuState {
	var s cpuState
	for i, v := range t.fields() {
		s[i] = counter{last: v}
	}
	return s
}

// cpuMsPerSecond is how much time one CPU can spend in all states together
// per second of the clock, in cpuTimes' unit (milliseconds).
const cpuMsPerSecond = 1000

// advance takes a new reading of one CPU, secs after the last, and returns
// its growth per field over this interval, and whether it is plausible. A
// field going backwards grows by 0 (Linux has shipped kernels whose iowait
// decreases); one coming back after such a drop grows by its average over
// the whole time since the drop, scaled to this interval, so that the
// fields still add up to one interval's time. A field that grew by more
// than a CPU can run in its span plus counterLag is a counter read wrong,
// and the whole CPU is not plausible.
func (s *cpuState) advance(cur cpuTimes, secs float64) (cpuTimes, bool) {
	var d [cpuFields]uint64
	ok := true
	for i, v := range cur.fields() {
		next, n, span := s[i].next(v, secs)
		s[i] = next
		if secs <= 0 {
			d[i] = n // no clock to scale by: the shares are still right
			continue
		}
		if float64(n) > cpuMsPerSecond*(span+counterLag) {
			ok = false
		}
		if span > secs {
			n = uint64(math.Round(float64(n) * secs / span))
		}
		d[i] = n
	}
	return cpuTimesOf(d), ok
}

// cpuUsage computes the cpu payload (without "t") from a new sample, secs
// after the last, and the state the earlier samples left, which it
// updates. Cores are matched by id: a CPU that appears since the last sample
// reports 0 for this tick and adds nothing to the totals; one that
// disappeared is dropped. The totals are the sum over the matched cores, so
// CPU hotplug never makes them jump. cores and ids are reused for the
// per-core slices. implausible counts the cores published as null.
func cpuUsage(state map[int]*cpuState, cur []cpuCore, secs float64, cores []maybe, ids []int) (p cpuPayload, implausible int) {
	var sum cpuTimes
	cores, ids = cores[:0], ids[:0]
	for _, c := range cur {
		ids = append(ids, c.id)
		st, ok := state[c.id]
		if !ok {
			s := newCPUState(c.times)
			state[c.id] = &s
			cores = append(cores, some(0))
			continue
		}
		d, plausible := st.advance(c.times, secs)
		if !plausible {
			implausible++
			cores = append(cores, maybe{})
			continue
		}
		sum = sum.add(d)
		cores = append(cores, some(percentOf(d.busy(), d.all())))
	}
	if len(state) > len(cur) {
		for id := range state {
			if !slices.ContainsFunc(cur, func(c cpuCore) bool { return c.id == id }) {
				delete(state, id)
			}
		}
	}
	all := sum.all()
	return cpuPayload{
		Total:   percentOf(sum.busy(), all),
		User:    percentOf(float64(sum.User+sum.Nice), all),
		System:  percentOf(float64(sum.System+sum.Irq+sum.Softirq), all),
		Iowait:  percentOf(float64(sum.Iowait), all),
		Steal:   percentOf(float64(sum.Steal), all),
		Idle:    percentOf(float64(sum.Idle), all),
		Cores:   cores,
		CoreIDs: ids,
	}, implausible
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

// cpuCollector reports CPU time shares from successive cpu.Times(true)
// samples (one read of /proc/stat per tick; totals are summed from the cores
// so they match the cores exactly). It never uses cpu.Percent, whose
// previous sample is process-global state.
type cpuCollector struct {
	env hostEnv
	log *onceLog
	implausibleCount
	lastRaw

	buf    []cpuCore         // the last read, reused
	state  map[int]*cpuState // by CPU number
	primed bool
	prevAt time.Time
	cores  []maybe // per-core percentages, reused
	ids    []int   // their CPU numbers, reused
}

func newCPUCollector(env hostEnv, log *slog.Logger) *cpuCollector {
	return &cpuCollector{env: env, log: newOnceLog(log), state: make(map[int]*cpuState)}
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
	c.buf = coresFromTimes(ts, c.buf)
	return c.buf, nil
}

// start makes cur the baseline of the next Collect.
func (c *cpuCollector) start(cur []cpuCore, now time.Time) {
	clear(c.state)
	for _, core := range cur {
		s := newCPUState(core.times)
		c.state[core.id] = &s
	}
	c.primed, c.prevAt = true, now
}

func (c *cpuCollector) prime() {
	cur, err := c.read()
	if err != nil {
		c.log.debug("prime", "prime cpu collector", "err", err)
		return
	}
	c.start(cur, c.env.now())
}

func (c *cpuCollector) coreCount() int {
	return len(c.state)
}

func (c *cpuCollector) Collect(t time.Time) ([]byte, error) {
	cur, err := c.read()
	if err != nil {
		return nil, err
	}
	c.keepRaw(t, cur)
	now := c.env.now()
	if !c.primed {
		c.start(cur, now)
		return nil, errNoBaseline
	}
	p, implausible := cpuUsage(c.state, cur, now.Sub(c.prevAt).Seconds(), c.cores, c.ids)
	c.add(implausible)
	c.cores, c.ids = p.Cores, p.CoreIDs
	c.prevAt = now
	p.T = t.UnixMilli()
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode cpu reading: %w", err)
	}
	return b, nil
}
