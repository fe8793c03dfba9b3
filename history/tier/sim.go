package tier

import (
	"fmt"
	"math"
	"math/rand/v2"
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

// Run calls tick with each simulated tick's time, payloads (the topics
// cpu, memory, load, disk, network, processes, as the collectors write
// them) and weight, oldest first, until the span ends or tick fails. The
// samples' Data is reused by the next tick.
func (s Simulation) Run(tick func(t time.Time, samples []Sample, weight uint32) error) error {
	if s.Every <= 0 {
		s.Every = 30 * time.Second
	}
	if s.Interval <= 0 {
		s.Interval = time.Second
	}
	if s.Every < s.Interval || s.Every%s.Interval != 0 {
		return fmt.Errorf("tier: simulation cadence %v is not a whole number of intervals (%v)", s.Every, s.Interval)
	}
	if s.Host == (SimHost{}) {
		s.Host = SimHost{Cores: 2, Disks: 2, Mounts: 3, Interfaces: 3}
	}
	weight := uint32(s.Every / s.Interval)
	rng := rand.New(rand.NewPCG(s.Seed, 0x5eed))
	g := simGen{host: s.Host, rng: rng, bufs: make([][]byte, 6)}
	samples := make([]Sample, 6)
	end := s.From.Add(s.Span)
	var (
		skew    = -time.Hour // the wall clock's error until the step
		stepped bool
		restart int64 // ms since the last tick, for the first tick after downtime
		last    time.Time
	)
	for at := s.From.Truncate(s.Every); at.Before(end); at = at.Add(s.Every) {
		// Downtime: a restart every ~45 days (2 to 10 minutes down),
		// an outage of 2 to 12 hours ~twice a year.
		switch r := rng.Float64(); {
		case r < float64(s.Every)/float64(45*24*time.Hour):
			at = at.Add(time.Duration(2+rng.IntN(9)) * time.Minute).Truncate(s.Every)
			restart = -1
		case r < float64(s.Every)/float64(45*24*time.Hour)+float64(s.Every)/float64(180*24*time.Hour):
			at = at.Add(time.Duration(2+rng.IntN(11)) * time.Hour).Truncate(s.Every)
			restart = -1
		}
		marks := simMarks{}
		if restart < 0 && !last.IsZero() {
			marks.restart = at.Add(skew).Sub(last).Milliseconds()
		}
		restart = 0
		if !stepped && at.Sub(s.From) > s.Span/3 {
			stepped, skew = true, 0
			marks.clockStep = time.Hour.Milliseconds() // the clock jumps forward to the true time
		}
		wall := at.Add(skew)
		g.fill(samples, wall, marks)
		if err := tick(wall, samples, weight); err != nil {
			return err
		}
		last = wall
	}
	return nil
}

type simMarks struct{ restart, clockStep int64 }

// simGen writes one tick's payloads into reused buffers.
type simGen struct {
	host SimHost
	rng  *rand.Rand
	bufs [][]byte
	b    []byte
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

// fields writes "k":v members, v rounded to prec decimals.
func (g *simGen) fields(prec int, kvs ...kv) {
	for _, f := range kvs {
		g.key(f.k)
		if prec == 0 {
			g.num(math.Round(f.v), 0)
		} else {
			g.num(f.v, prec)
		}
	}
}

// items writes "key":{name: {"kind"?, fields}} for n devices sharing the
// totals equally.
func (g *simGen) items(key string, n int, name func(int) string, kind string, fields func(share float64) []kv) {
	g.key(key)
	g.b = append(g.b, '{')
	for i := range n {
		g.key(name(i))
		g.b = append(g.b, '{')
		if kind != "" {
			g.b = append(g.b, `"kind":"`...)
			g.b = append(g.b, kind...)
			g.b = append(g.b, '"')
		}
		g.fields(0, fields(1/float64(n))...)
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
	g.fields(1, kv{"total", total}, kv{"user", total * 0.7}, kv{"system", total * 0.25}, kv{"iowait", 2 * g.rng.Float64()}, kv{"steal", 0}, kv{"idle", 100 - total})
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
	g.fields(0, kv{"total", memTotal}, kv{"used", used}, kv{"available", memTotal - used}, kv{"cached", memTotal * 0.3}, kv{"buffers", 200 << 20}, kv{"percent", 100 * used / memTotal}, kv{"swap_total", 2 << 30}, kv{"swap_used", 64 << 20})
	g.end(samples, 1, "memory")

	g.start(t, m)
	l := load * float64(g.host.Cores) * 1.2
	g.fields(2, kv{"load1", l}, kv{"load5", l * 0.9}, kv{"load15", l * 0.8})
	g.fields(0, kv{"cpus", float64(g.host.Cores)})
	g.end(samples, 2, "load")

	g.start(t, m)
	rd, wr := 4e6*load*g.rng.ExpFloat64(), 2e6*load*g.rng.ExpFloat64()
	disk := func(share float64) []kv {
		return []kv{{"read_bps", rd * share}, {"write_bps", wr * share}, {"read_iops", rd * share / 16384}, {"write_iops", wr * share / 8192}}
	}
	g.fields(0, disk(1)...)
	g.items("devices", g.host.Disks, func(i int) string { return "sd" + string(rune('a'+i)) }, "", disk)
	g.key("filesystems")
	g.b = append(g.b, '[')
	for i := range g.host.Mounts {
		if i > 0 {
			g.b = append(g.b, ',')
		}
		mount := "/"
		if i > 0 {
			mount = "/data" + strconv.Itoa(i)
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
	net := func(share float64) []kv {
		return []kv{{"rx_bps", rx * share}, {"tx_bps", tx * share}, {"rx_pps", rx * share / 1000}, {"tx_pps", tx * share / 600}}
	}
	g.fields(0, net(1)...)
	g.items("interfaces", g.host.Interfaces, func(i int) string { return "eth" + strconv.Itoa(i) }, "physical", net)
	g.end(samples, 4, "network")

	g.start(t, m)
	procs := 200 + 40*load + 3*g.rng.NormFloat64()
	g.fields(0, kv{"processes", procs}, kv{"threads", procs * 2.1}, kv{"running", 1 + 3*load}, kv{"blocked", 0}, kv{"forks_per_s", 5 * load})
	g.b = append(g.b, `,"top_cpu":[],"top_rss":[]`...)
	g.end(samples, 5, "processes")
}
