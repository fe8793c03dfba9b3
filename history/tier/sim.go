package tier

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// SimHost is the shape of a simulated host: how many CPU cores, disks,
// mounted filesystems and network interfaces its payloads carry.
type SimHost struct {
	Cores, Disks, Mounts, Interfaces int
}

// Simulation describes a simulated host's history: ticks from From over
// Span, one every Every, each standing for Every/Interval real ticks of
// the same values (see [Roller.TickWeighted]), so a fill of years takes
// seconds yet stores the counts a real --interval gives.
//
// The values follow what servers show: a daily cycle (busy in the working
// day), quieter weekends, noise, short spikes (each a tick at several
// times the usual), disks filling slowly and being cleaned up. Every 45
// days or so the server restarts (down a few minutes; the first tick after
// carries "restart"), about twice a year it is offline for hours, and once
// the wall clock steps forward an hour ("clock_step"): it ran an hour
// slow until then, so the ticks before the step are stamped an hour early
// and the last tick is at From + Span, not an hour past it.
type Simulation struct {
	From     time.Time
	Span     time.Duration
	Every    time.Duration // time between simulated ticks (default 30s)
	Interval time.Duration // the interval the counts stand for (default 1s)
	Host     SimHost       // default 2 cores, 2 disks, 3 mounts, 3 interfaces
	Seed     uint64
}

// SimPartSpan is how much simulated time one part of a [SimPlan] covers:
// whole UTC hours, so no minute or hour bucket spans two parts, and one
// block of minutes, so a writer that takes whole parts never splits one
// (each minute block is then compressed once).
const SimPartSpan = 4 * time.Hour

// Mean time between downtimes of each kind: a restart every ~45 days,
// an outage of hours ~twice a year.
const (
	simRestartEvery = 45 * 24 * time.Hour
	simOutageEvery  = 180 * 24 * time.Hour
)

// SimPlan is a Simulation drawn in advance: the downtime and the clock
// step, so its parts (each [SimPartSpan] of it) can be run on their own,
// in any order or at once, and still make the ticks one run in order makes.
// Each part's values come from its own stream of the seed. A SimPlan is
// not changed after [Simulation.Plan]: its methods are safe for concurrent
// use.
type SimPlan struct {
	s      Simulation
	weight uint32
	bounds []time.Time // part i covers the tick slots in [bounds[i], bounds[i+1])
	down   []simDown   // downtime, oldest first, not overlapping
	step   time.Time   // the tick that carries the clock step; zero: none
}

// simDown is a downtime: no tick in the slots of [from, to); the tick at
// to carries the restart mark.
type simDown struct{ from, to time.Time }

// Run calls tick with each simulated tick's time, payloads (the topics
// cpu, memory, load, disk, network, processes, as the collectors write
// them) and weight, oldest first, until the span ends or tick fails. The
// samples' Data is reused by the next tick.
func (s Simulation) Run(tick func(t time.Time, samples []Sample, weight uint32) error) error {
	p, err := s.Plan()
	if err != nil {
		return err
	}
	for i := range p.Parts() {
		if _, err := p.RunPart(i, tick); err != nil {
			return err
		}
	}
	return nil
}

// Plan checks s, fills in its defaults and draws its downtime and clock
// step from Seed. The error names a cadence that is not a whole number of
// intervals.
func (s Simulation) Plan() (*SimPlan, error) {
	if s.Every <= 0 {
		s.Every = 30 * time.Second
	}
	if s.Interval <= 0 {
		s.Interval = time.Second
	}
	if s.Every < s.Interval || s.Every%s.Interval != 0 {
		return nil, fmt.Errorf("tier: simulation cadence %v is not a whole number of intervals (%v)", s.Every, s.Interval)
	}
	if s.Host == (SimHost{}) {
		s.Host = SimHost{Cores: 2, Disks: 2, Mounts: 3, Interfaces: 3}
	}
	p := &SimPlan{s: s, weight: uint32(s.Every / s.Interval)}
	first, end := s.From.Truncate(s.Every), s.From.Add(s.Span)
	if !first.Before(end) {
		return p, nil
	}
	p.bounds = append(p.bounds, first)
	for b := first.Truncate(SimPartSpan).Add(SimPartSpan); b.Before(end); b = b.Add(SimPartSpan) {
		p.bounds = append(p.bounds, b)
	}
	p.bounds = append(p.bounds, end)

	// Restarts and outages each come at random gaps around their mean
	// (half to one and a half of it); the first comes anywhere in its
	// first mean, as for a host that was running before the span began.
	rng := rand.New(rand.NewPCG(s.Seed, 0x5eed))
	for _, kind := range []struct {
		every        time.Duration
		least, extra int // downtime of least + IntN(extra) units
		unit         time.Duration
	}{{simRestartEvery, 2, 9, time.Minute}, {simOutageEvery, 2, 11, time.Hour}} {
		at := first.Add(time.Duration(rng.Float64() * float64(kind.every)))
		for at.Before(end) {
			d := time.Duration(kind.least+rng.IntN(kind.extra)) * kind.unit
			p.down = append(p.down, simDown{at.Truncate(s.Every), at.Add(d).Truncate(s.Every)})
			at = at.Add(time.Duration((0.5 + rng.Float64()) * float64(kind.every)))
		}
	}
	// In time order, each at least a tick after the one before (the tick
	// that carries the restart), none empty, none past the end.
	slices.SortFunc(p.down, func(a, b simDown) int { return a.from.Compare(b.from) })
	down := p.down[:0]
	prev := first
	for _, d := range p.down {
		if !d.from.After(prev) {
			d.from = prev.Add(s.Every)
		}
		if !d.to.After(d.from) {
			d.to = d.from.Add(s.Every)
		}
		if d.from.Before(end) {
			down = append(down, d)
			prev = d.to
		}
	}
	p.down = down
	// The step is at the first tick a third of the span in.
	step := s.From.Add(s.Span / 3).Truncate(s.Every)
	for !(step.Sub(s.From) > s.Span/3) {
		step = step.Add(s.Every)
	}
	if i := p.downAt(step); i >= 0 {
		step = p.down[i].to
	}
	if step.Before(end) {
		p.step = step
	}
	return p, nil
}

// downAt is the index of the downtime that holds slot t, or -1.
func (p *SimPlan) downAt(t time.Time) int {
	i, _ := slices.BinarySearchFunc(p.down, t, func(d simDown, t time.Time) int { return d.to.Compare(t) })
	// down[i] is the first downtime that ends after t (or at it).
	if i < len(p.down) && p.down[i].to.Equal(t) {
		i++
	}
	if i < len(p.down) && !t.Before(p.down[i].from) {
		return i
	}
	return -1
}

// wall is the tick at slot t as the host's clock stamps it: an hour slow
// until the step.
func (p *SimPlan) wall(t time.Time) time.Time {
	if p.step.IsZero() || t.Before(p.step) {
		return t.Add(-time.Hour)
	}
	return t
}

// Parts is how many parts p has (0 for an empty span).
func (p *SimPlan) Parts() int { return max(0, len(p.bounds)-1) }

// RunPart calls tick with part i's ticks as [Simulation.Run] does, and
// returns how many it made. A [Roller] fed one part and flushed writes the
// same points a roller fed the whole run writes for that part's hours:
// the parts split the wall clock at whole hours. It returns tick's error.
func (p *SimPlan) RunPart(i int, tick func(t time.Time, samples []Sample, weight uint32) error) (int, error) {
	s := p.s
	lo, hi := p.bounds[i], p.bounds[i+1]
	at := lo.Truncate(s.Every)
	if at.Before(lo) {
		at = at.Add(s.Every)
	}
	g := simGen{host: s.Host, rng: rand.New(rand.NewPCG(s.Seed, 1<<32|uint64(i))), bufs: make([][]byte, 6)}
	g.names()
	samples := make([]Sample, 6)
	j, _ := slices.BinarySearchFunc(p.down, at, func(d simDown, t time.Time) int { return d.to.Compare(t) })
	n := 0
	for ; at.Before(hi); at = at.Add(s.Every) {
		for j < len(p.down) && !p.down[j].to.After(at) {
			j++
		}
		if j < len(p.down) && !at.Before(p.down[j].from) {
			at = p.down[j].to
			if !at.Before(hi) {
				break
			}
			j++
		}
		wall := p.wall(at)
		var m simMarks
		if j > 0 && p.down[j-1].to.Equal(at) && p.down[j-1].from.After(p.bounds[0]) {
			m.restart = wall.Sub(p.wall(p.down[j-1].from.Add(-s.Every))).Milliseconds()
		}
		if at.Equal(p.step) {
			m.clockStep = time.Hour.Milliseconds() // the clock jumps forward to the true time
		}
		g.fill(samples, wall, m)
		if err := tick(wall, samples, p.weight); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

type simMarks struct{ restart, clockStep int64 }

// simGen writes one tick's payloads into reused buffers.
type simGen struct {
	host          SimHost
	rng           *rand.Rand
	bufs          [][]byte
	b             []byte
	disks, ifaces []string
	mounts        []string
}

// names makes the devices' names once, not per tick.
func (g *simGen) names() {
	for i := range g.host.Disks {
		g.disks = append(g.disks, "sd"+string(rune('a'+i)))
	}
	for i := range g.host.Interfaces {
		g.ifaces = append(g.ifaces, "eth"+strconv.Itoa(i))
	}
	for i := range g.host.Mounts {
		mount := "/"
		if i > 0 {
			mount = "/data" + strconv.Itoa(i)
		}
		g.mounts = append(g.mounts, mount)
	}
}

// busy is the load shape in [0, 1] at t: a working-day hump, lower on
// weekends, plus noise; now and then a spike.
func (g *simGen) busy(t time.Time, phase float64) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	day := 0.5 + 0.5*math.Sin((h-9)/24*2*math.Pi+phase)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		day *= 0.4
	}
	v := 0.1 + 0.5*day + 0.08*g.rng.NormFloat64()
	if g.rng.IntN(2000) == 0 {
		v = 0.9 + 0.1*g.rng.Float64()
	}
	return math.Min(1, math.Max(0, v))
}

func (g *simGen) num(v float64, prec int) {
	g.b = strconv.AppendFloat(g.b, v, 'f', prec, 64)
}

func (g *simGen) key(k string) {
	if g.b[len(g.b)-1] != '{' {
		g.b = append(g.b, ',')
	}
	g.b = append(g.b, '"')
	g.b = append(g.b, k...)
	g.b = append(g.b, '"', ':')
}

type kv struct {
	k string
	v float64
}

// fields writes "k":v members, v times scale rounded to prec decimals.
func (g *simGen) fields(prec int, scale float64, kvs ...kv) {
	for _, f := range kvs {
		g.key(f.k)
		if prec == 0 {
			g.num(math.Round(f.v*scale), 0)
		} else {
			g.num(f.v*scale, prec)
		}
	}
}

// items writes "key":{name: {"kind"?, fields}} for the named devices
// sharing the totals equally.
func (g *simGen) items(key string, names []string, kind string, totals *[4]kv) {
	g.key(key)
	g.b = append(g.b, '{')
	for _, name := range names {
		g.key(name)
		g.b = append(g.b, '{')
		if kind != "" {
			g.b = append(g.b, `"kind":"`...)
			g.b = append(g.b, kind...)
			g.b = append(g.b, '"')
		}
		g.fields(0, 1/float64(len(names)), totals[:]...)
		g.b = append(g.b, '}')
	}
	g.b = append(g.b, '}')
}

func (g *simGen) start(t time.Time, m simMarks) {
	g.b = append(g.b[:0], `{"t":`...)
	g.b = strconv.AppendInt(g.b, t.UnixMilli(), 10)
	if m.restart != 0 {
		g.b = append(g.b, `,"restart":`...)
		g.b = strconv.AppendInt(g.b, m.restart, 10)
	}
	if m.clockStep != 0 {
		g.b = append(g.b, `,"clock_step":`...)
		g.b = strconv.AppendInt(g.b, m.clockStep, 10)
	}
}

func (g *simGen) end(samples []Sample, i int, topic string) {
	g.b = append(g.b, '}')
	g.bufs[i] = append(g.bufs[i][:0], g.b...)
	samples[i] = Sample{Topic: topic, Data: g.bufs[i]}
}

func (g *simGen) fill(samples []Sample, t time.Time, m simMarks) {
	load := g.busy(t, 0)
	days := float64(t.Unix()) / 86400

	g.start(t, m)
	total := 100 * load
	g.fields(1, 1, kv{"total", total}, kv{"user", total * 0.7}, kv{"system", total * 0.25}, kv{"iowait", 2 * g.rng.Float64()}, kv{"steal", 0}, kv{"idle", 100 - total})
	g.key("cores")
	g.b = append(g.b, '[')
	for c := range g.host.Cores {
		if c > 0 {
			g.b = append(g.b, ',')
		}
		g.num(math.Min(100, math.Max(0, total+10*g.rng.NormFloat64())), 1)
	}
	g.b = append(g.b, ']')
	g.end(samples, 0, "cpu")

	g.start(t, m)
	const memTotal = 8 << 30
	used := memTotal * (0.3 + 0.3*load)
	g.fields(0, 1, kv{"total", memTotal}, kv{"used", used}, kv{"available", memTotal - used}, kv{"cached", memTotal * 0.3}, kv{"buffers", 200 << 20}, kv{"percent", 100 * used / memTotal}, kv{"swap_total", 2 << 30}, kv{"swap_used", 64 << 20})
	g.end(samples, 1, "memory")

	g.start(t, m)
	l := load * float64(g.host.Cores) * 1.2
	g.fields(2, 1, kv{"load1", l}, kv{"load5", l * 0.9}, kv{"load15", l * 0.8})
	g.fields(0, 1, kv{"cpus", float64(g.host.Cores)})
	g.end(samples, 2, "load")

	g.start(t, m)
	rd, wr := 4e6*load*g.rng.ExpFloat64(), 2e6*load*g.rng.ExpFloat64()
	disk := [4]kv{{"read_bps", rd}, {"write_bps", wr}, {"read_iops", rd / 16384}, {"write_iops", wr / 8192}}
	g.fields(0, 1, disk[:]...)
	g.items("devices", g.disks, "", &disk)
	g.key("filesystems")
	g.b = append(g.b, '[')
	for i, mount := range g.mounts {
		if i > 0 {
			g.b = append(g.b, ',')
		}
		size := float64(int64(100<<30) << i)
		// Fills over weeks, cleaned up now and then: a sawtooth.
		frac := 0.3 + 0.5*math.Mod(days/(20+7*float64(i)), 1)
		usedB := math.Round(size * frac)
		g.b = append(g.b, `{"mount":"`...)
		g.b = append(g.b, mount...)
		g.b = append(g.b, `","fstype":"ext4","total":`...)
		g.num(size, 0)
		g.b = append(g.b, `,"used":`...)
		g.num(usedB, 0)
		g.b = append(g.b, `,"avail":`...)
		g.num(size*0.95-usedB, 0)
		g.b = append(g.b, `,"percent":`...)
		g.num(100*usedB/(size*0.95), 1)
		g.b = append(g.b, '}')
	}
	g.b = append(g.b, ']')
	g.end(samples, 3, "disk")

	g.start(t, m)
	rx, tx := 5e6*load*g.rng.ExpFloat64(), 1e6*load*g.rng.ExpFloat64()
	net := [4]kv{{"rx_bps", rx}, {"tx_bps", tx}, {"rx_pps", rx / 1000}, {"tx_pps", tx / 600}}
	g.fields(0, 1, net[:]...)
	g.items("interfaces", g.ifaces, "physical", &net)
	g.end(samples, 4, "network")

	g.start(t, m)
	procs := 200 + 40*load + 3*g.rng.NormFloat64()
	g.fields(0, 1, kv{"processes", procs}, kv{"threads", procs * 2.1}, kv{"running", 1 + 3*load}, kv{"blocked", 0}, kv{"forks_per_s", 5 * load})
	g.b = append(g.b, `,"top_cpu":[],"top_rss":[]`...)
	g.end(samples, 5, "processes")
}
