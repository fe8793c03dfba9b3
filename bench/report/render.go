package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"vitals/bench/internal/loadresult"
)

type fanPair struct {
	n                  int
	vitals, floor, gin *loadresult.Result
	// kernel slab memory (KiB, both ends of every connection) added
	// halfway through the window; -1 where unknown
	vitalsKern, floorKern int64
}

// report collects every figure of one run.
type report struct {
	o                 opts
	started, finished time.Time
	mach              []string
	benchLines        []string
	benchErr          string
	fan               []fanPair
	fanSkipped        []int // fan-out counts the open-file limit can't hold
	tickBytes         int   // vitals' tick body for the core topics, what the floor writes
	catchup           []*loadresult.Result
	prefilled         int
	prefillTook       time.Duration
	storm             *loadresult.Result
	stormRestart      time.Duration
	slow              *loadresult.Result
	idle              *loadresult.Result
	idleMetrics       sampleMetrics
	churn             *loadresult.Result
	redis             *redisReport
	extra             []string
}

func (rep *report) section(title, _ string, body string) {
	rep.extra = append(rep.extra, "## "+title+"\n\n"+body)
}

func (rep *report) machine() {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, model, _ = strings.Cut(l, ":")
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		l, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(l)
		if len(f) >= 2 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			mem = fmt.Sprintf("%.1f GiB", kb/(1<<20))
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	rep.mach = []string{
		fmt.Sprintf("CPU: %d cores (GOMAXPROCS %d), %s", runtime.NumCPU(), runtime.GOMAXPROCS(0), strings.TrimSpace(model)),
		"Memory: " + mem,
		"Kernel: Linux " + strings.TrimSpace(string(kernel)),
		"Go: " + runtime.Version(),
	}
}

// sampleMetrics is the sampler's duration histogram from /metrics.
type sampleMetrics struct {
	name     string
	count    float64
	sum      float64
	p50, p99 float64 // seconds, upper bucket edges
	buckets  []string
	err      string
}

var bucketRe = regexp.MustCompile(`^(\w*sample\w*)_bucket\{(?:.*,)?le="([^"]+)"(?:,.*)?\} ([0-9.e+-]+)$`)

func scrapeSampleMetrics(base string) sampleMetrics {
	var m sampleMetrics
	resp, err := httpClient.Get(base + "/metrics")
	if err != nil {
		m.err = err.Error()
		return m
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		m.err = "/metrics: " + resp.Status
		return m
	}
	type bk struct{ le, n float64 }
	var bks []bk
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if g := bucketRe.FindStringSubmatch(l); g != nil && !strings.Contains(g[1], "store") {
			if m.name != "" && m.name != g[1] {
				continue
			}
			m.name = g[1]
			le, _ := strconv.ParseFloat(g[2], 64)
			if g[2] == "+Inf" {
				le = math.Inf(1)
			}
			n, _ := strconv.ParseFloat(g[3], 64)
			bks = append(bks, bk{le, n})
			m.buckets = append(m.buckets, l)
		}
	}
	if m.name == "" {
		m.err = "no sample duration histogram in /metrics"
		return m
	}
	if len(bks) > 0 {
		m.count = bks[len(bks)-1].n
	}
	pct := func(p float64) float64 {
		for _, b := range bks {
			if b.n >= p*m.count {
				return b.le
			}
		}
		return math.Inf(1)
	}
	m.p50, m.p99 = pct(0.5), pct(0.99)
	return m
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**missed**"
}

func kib(k int64) string { return fmt.Sprintf("%.1f MiB", float64(k)/1024) }

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func (rep *report) render() []byte {
	var w bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&w, format, a...) }
	p("# vitals benchmarks\n\n")
	p("Written by `make bench` (`go run ./bench/report`) on %s, in %s. Every figure below comes from that one run; ",
		rep.started.UTC().Format("2006-01-02 15:04 MST"), rep.finished.Sub(rep.started).Round(time.Second))
	p("ratios against the gin baseline were measured minutes apart in the same run, on the same machine.\n\n")
	for _, m := range rep.mach {
		p("- %s\n", m)
	}
	if rep.o.shared != "" {
		p("- **Machine state:** %s\n", rep.o.shared)
	}
	p("- Server and load generator run on the same cores over loopback: every latency includes the load generator's own share of the CPU.\n")
	if !rep.o.full {
		p("- Durations are shortened to fit about ten minutes (fan-out 20–30 s instead of 60 s, idle 60 s instead of 5 min, churn soak 90 s instead of 10 min); `go run ./bench/report -full` runs the full lengths.\n")
	}
	p("\n")

	p("## Micro-benchmarks\n\n```\n")
	for _, l := range rep.benchLines {
		p("%s\n", l)
	}
	p("```\n")
	if rep.benchErr != "" {
		p("\nThe benchmark run failed:\n\n```\n%s\n```\n", rep.benchErr)
	}
	allocs := publishAllocs(rep.benchLines)
	if len(allocs) == 3 {
		// allocs/op is an average over b.N: bbolt's occasional page
		// allocation moves it by one either way, so "constant" allows 2.
		a0, _ := strconv.Atoi(allocs[0])
		a2, _ := strconv.Atoi(allocs[2])
		p("\nPublish allocations per tick with 1 / 100 / 10,000 subscribers: %s / %s / %s allocs/op: %s (target: constant; within 2 counts as constant, the average moves with bbolt's page allocations).\n",
			allocs[0], allocs[1], allocs[2], verdict(a2-a0 <= 2 && a0-a2 <= 2))
	}
	p("\n")

	if len(rep.fan) > 0 || len(rep.fanSkipped) > 0 {
		rep.renderFan(p)
	}

	if len(rep.catchup) > 0 {
		p("## Catch-up of a full hour\n\n")
		p("The data dir was pre-filled with %d events (3,600 ticks of this host's real payloads, restamped one second apart, published through `history.Open` + `Publish` with the clock pinned to each tick; took %s), then vitals was started on it. One client resumed from the oldest retained id, five times in a row.\n\n",
			rep.prefilled, rep.prefillTook.Round(time.Millisecond))
		p("| run | events replayed | connect → catchup-end ms | complete | missed ids |\n|---|---|---|---|---|\n")
		worst := 0.0
		for i, r := range rep.catchup {
			worst = math.Max(worst, r.CatchupMaxMS)
			p("| %d | %d | %.1f | %v | %d |\n", i+1, r.Replayed, r.CatchupMaxMS, r.Incomplete == 0, r.Check.Missed)
		}
		server := benchNs(rep.benchLines, "BenchmarkReplayFullWindow", "handlers")
		p("\nServer side (the real `/events` handler writing the whole window into a discarding writer, `handlers.BenchmarkReplayFullWindow`): %.2f ms; target <= 50 ms %s.\n",
			server/1e6, verdict(server > 0 && server <= 50e6))
		p("Client sees catchup-end after connecting: worst of five %.1f ms; target <= 250 ms %s.\n\n", worst, verdict(worst <= 250))
	}

	if r := rep.storm; r != nil {
		p("## Reconnect storm (5,000 streams, server restarted)\n\n")
		p("5,000 streams (a quarter filtered to cpu,memory) held, then the server was stopped (SIGTERM: every stream told to retry in 0.5–1.5 s) and started again on the same data dir and port (%.0f ms from stop to healthy). Every stream resumed with its own Last-Event-ID.\n\n", float64(rep.stormRestart.Milliseconds()))
		p("| streams | reconnects | catch-ups (incomplete) | missed ids | out of order / unknown | first drop → last catchup-end |\n|---|---|---|---|---|---|\n")
		p("| %d | %d | %d (%d) | %d (%d streams) | %d / %d | %.0f ms |\n\n", r.Streams, r.Reconnects, r.Catchups, r.Incomplete,
			r.Check.Missed, r.Check.StreamsMissed, r.Check.OutOfOrder, r.Check.Unknown, r.AllCaughtUpMS)
		exact := r.Check.Missed == 0 && r.Check.OutOfOrder == 0 && r.Check.Unknown == 0 && r.Incomplete == 0
		p("Targets: every stream exact %s; all caught up within 5 s %s.\n\n", verdict(exact), verdict(r.AllCaughtUpMS > 0 && r.AllCaughtUpMS <= 5000))
	}

	if r := rep.slow; r != nil {
		p("## Slow readers (1,000 healthy + 100 that stop reading)\n\n")
		p("The 1,000 healthy streams ran alone for the first half of the window; then 100 streams with a 4 KiB receive buffer connected and stopped reading after their hello.\n\n")
		s := r.Server
		if s == nil {
			s = &loadresult.ProcReport{}
		}
		ls := loadresult.Latency{}
		if r.LatencySlow != nil {
			ls = *r.LatencySlow
		}
		p("| healthy p50 / p99 alone | healthy p50 / p99 with slow | healthy missed ids | slow dropped by the server | server RSS base → peak |\n|---|---|---|---|---|\n")
		p("| %.1f / %.1f ms | %.1f / %.1f ms | %d | %d of 100 | %s → %s |\n\n", r.Latency.P50, r.Latency.P99, ls.P50, ls.P99,
			r.Check.Missed, r.SlowDropped, kib(s.RSSBaseKiB), kib(s.RSSPeakKiB))
	}

	if r := rep.idle; r != nil {
		s := r.Server
		if s == nil {
			s = &loadresult.ProcReport{}
		}
		m := rep.idleMetrics
		p("## Idle cost (1 stream)\n\n| window | server CPU %% of a core | server RSS | sample-to-client p50 / p99 / max | sample duration p50 / p99 (from /metrics) |\n|---|---|---|---|---|\n")
		sd := "n/a (" + m.err + ")"
		if m.err == "" {
			sd = fmt.Sprintf("<= %.2f / <= %.2f ms (%.0f samples, `%s`)", m.p50*1000, m.p99*1000, m.count, m.name)
		}
		p("| %.0f s | %.2f | %s | %.1f / %.1f / %.1f ms | %s |\n\n", r.HoldMS/1000, s.CPUPercent, kib(s.RSSKiB),
			r.Latency.P50, r.Latency.P99, r.Latency.Max, sd)
		p("Targets: <= 0.5 %% of a core %s; <= 30 MiB RSS %s; sample p99 <= 2 ms %s.\n\n", verdict(s.CPUPercent <= 0.5),
			verdict(s.RSSKiB <= 30*1024), verdict(m.err == "" && m.p99 <= 0.002))
		if len(m.buckets) > 0 {
			p("<details><summary>sample duration histogram</summary>\n\n```\n%s\n```\n</details>\n\n", strings.Join(m.buckets, "\n"))
		}
	}

	if r := rep.churn; r != nil {
		s := r.Server
		if s == nil {
			s = &loadresult.ProcReport{}
		}
		p("## Churn soak (500 clients connecting and disconnecting)\n\n")
		p("Each client holds a stream for 1–10 s, closes it, waits up to 1 s and reconnects with its last id (a quarter filtered to cpu,memory). The check follows each client across all its connections.\n\n")
		p("| window | connections | missed ids | out of order / unknown | goroutines before → during → after | heap in use before → after | RSS before → after |\n|---|---|---|---|---|---|---|\n")
		p("| %.0f s | %d | %d | %d / %d | %d → %d → %d | %.1f → %.1f MiB | %s → %s |\n\n", r.HoldMS/1000, r.Streams+r.Reconnects,
			r.Check.Missed, r.Check.OutOfOrder, r.Check.Unknown, s.GoroutinesBase, s.GoroutinesPeak, s.GoroutinesAfter,
			float64(s.HeapBase)/(1<<20), float64(s.HeapAfter)/(1<<20), kib(s.RSSBaseKiB), kib(s.RSSAfterKiB))
	}
	if r := rep.redis; r != nil {
		renderRedis(p, r)
	}
	for _, e := range rep.extra {
		p("%s\n", e)
	}
	// Sections written by hand, so a new run keeps them next to the
	// figures: the HTTP/2 fan-out, measured by bench/h2fanout (loadgen
	// speaks HTTP/1.1 only); the per-tick cost of the "what is using it"
	// collectors against their floor and the idle cost with them on; the
	// alert evaluation per tick; the long history's size and speed; the
	// query API's and the browser's times for long ranges; the rollup
	// tiers' Redis memory per host; the dashboard's own cost in a browser,
	// beside Netdata's (BenchmarkPageCPU in e2e/); and the analysis of
	// misses (profiles, causes, plans). Update them when the figures change.
	var sections [][]byte
	for _, name := range []string{"bench/http2.md", "bench/whatsusing.md", "bench/alerts.md", "bench/history.md", "bench/range.md", "bench/cluster.md", "bench/page.md", "bench/findings.md"} {
		if f, err := os.ReadFile(name); err == nil {
			sections = append(sections, bytes.TrimRight(f, "\n"))
		}
	}
	if len(sections) > 0 {
		p("%s\n", bytes.Join(sections, []byte("\n\n")))
	}
	return w.Bytes()
}

// publishAllocs returns allocs/op of the three Publish benchmarks.
func publishAllocs(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "BenchmarkPublish/") {
			f := strings.Fields(l)
			for i, x := range f {
				if x == "allocs/op" && i > 0 {
					out = append(out, f[i-1])
				}
			}
		}
	}
	return out
}

// benchNs returns ns/op of the nth benchmark named name (the handlers one
// is listed after history's, so "handlers" picks the last match).
func benchNs(lines []string, name, which string) float64 {
	var v float64
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 3 && strings.HasPrefix(f[0], name+"-") || len(f) >= 3 && f[0] == name {
			if n, err := strconv.ParseFloat(f[2], 64); err == nil {
				v = n
				if which != "handlers" {
					return v
				}
			}
		}
	}
	return v
}

// renderRedis writes the "Scale-out on Redis" section.
func renderRedis(p func(string, ...any), r *redisReport) {
	res := r.res
	p("## Scale-out on Redis (%d streams over two instances, %d hosts, one Redis)\n\n", res.Streams, len(r.hosts))
	p("One redis-server %s (no persistence, loopback) and %d vitals processes `--redis ... --name h0..h%d --interval %s`, all sampling this machine; "+
		"h0 and h1 also serve the streams, as in docs/scale-out.md (every vitals both publishes its host and serves any host). "+
		"Streams go round-robin over h0 and h1 and each asks for one of the %d hosts (`?host=`, every stream all five topics), so each instance serves every host. "+
		"Every stream's ids are checked against `GET /api/history?host=<its host>` of the instance it read; the two instances' logs of each host are also compared id by id. "+
		"Start-up (Redis, ten vitals, every host announced) took %s.\n\n",
		r.version, len(r.hosts), len(r.hosts)-1, redisInterval, len(r.hosts), r.startup.Round(100*time.Millisecond))
	held := make([]string, len(r.serving))
	for i, s := range r.serving {
		held[i] = strconv.FormatInt(s.Held, 10)
	}
	p("| streams held (h0 + h1) | missed ids | logs checked / ids the instances disagree on | out of order / unknown | events/s (expected) | p50 / p99 / max ms |\n|---|---|---|---|---|---|\n")
	p("| %d (%s) | %d (%d streams) | %d / %d | %d / %d | %.0f (%.0f) | %.1f / %.1f / %.1f |\n\n",
		res.Held, strings.Join(held, " + "), res.Check.Missed, res.Check.StreamsMissed, res.Check.Logs, res.Check.Disagree,
		res.Check.OutOfOrder, res.Check.Unknown, res.EventsPerSec, res.ExpectedPerSec, res.Latency.P50, res.Latency.P99, res.Latency.Max)

	p("Cost over the %.0f s window (CPU from `/proc/<pid>/stat`, RSS from `/proc/<pid>/status`):\n\n", res.HoldMS/1000)
	p("| process | role | CPU %% of a core | RSS before ramp → end | RSS per stream |\n|---|---|---|---|---|\n")
	for i, s := range r.serving {
		p("| vitals h%d | publishes h%d, serves %d streams | %.1f | %s → %s | %.1f KiB |\n", i, i, s.Held, s.CPUPercent, kib(s.RSSBaseKiB), kib(s.RSSKiB), s.PerStreamKiB)
	}
	if n := len(r.pubs); n > 0 {
		var cpu, cpuMax float64
		var rss int64
		for _, s := range r.pubs {
			cpu += s.CPUPercent
			cpuMax = math.Max(cpuMax, s.CPUPercent)
			rss += s.RSSKiB
		}
		p("| vitals h%d–h%d (mean of %d) | publish only | %.2f (max %.2f) | %s | – |\n", len(r.serving), len(r.serving)+n-1, n, cpu/float64(n), cpuMax, kib(rss/int64(n)))
	}
	if s := r.redisCPU; s != nil {
		p("| redis-server | %d writers, %d readers | %.1f | %s → %s | – |\n", len(r.hosts), len(r.serving)*len(r.hosts), s.CPUPercent, kib(s.RSSBaseKiB), kib(s.RSSKiB))
	}
	p("| loadgen | %d streams | %.1f | %s | %.1f KiB |\n\n", res.Held, res.Loadgen.CPUPercent, kib(res.Loadgen.RSSKiB), res.Loadgen.PerStreamKiB)

	var hours float64
	var entries, usage int64
	for _, s := range r.streams {
		hours += s.retainedHours
		entries += s.xlen
		usage += s.memUsage
	}
	p("Redis memory at the end of the run (history retained: %.1f host-minutes over %d hosts, %d entries):\n\n", hours*60, len(r.streams), entries)
	p("| measure | bytes | per host-hour of history |\n|---|---|---|\n")
	per := func(b int64, h float64) string {
		if h <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f MiB", float64(b)/h/(1<<20))
	}
	grow := r.memEnd - r.memEmpty
	p("| INFO memory used_memory: %s empty → %s at the end | %d growth | %s |\n", mib(r.memEmpty), mib(r.memEnd), grow, per(grow, hours))
	p("| MEMORY USAGE of the %d streams (SAMPLES 0), summed | %d | %s |\n", len(r.streams), usage, per(usage, hours))
	if len(r.streams) > 0 {
		s := r.streams[0]
		p("| h0's stream alone: XLEN %d, %s … %s | %d | %s |\n", s.xlen, s.first, s.last, s.memUsage, per(s.memUsage, s.retainedHours))
	}
	if r.hourErr != "" {
		p("| one full hour of h0 (replica) | failed: %s | – |\n", r.hourErr)
	} else if r.hourEntries > 0 {
		p("| one full hour of h0: its real entries copied tick by tick into a scratch stream up to %d entries (3,600 ticks) | %d | %s (measured) |\n",
			r.hourEntries, r.hourUsage, mib(r.hourUsage))
	}
	p("\nPer host-hour = bytes ÷ the history actually retained: for each host, its stream's last entry's sample time − its first's + one interval (from XINFO STREAM), summed over hosts. ")
	p("used_memory growth also counts what does not grow with history (the host records and `vitals:hostnames`, %d client connections and their buffers), so over a short run it overstates the per-hour cost; MEMORY USAGE counts the streams alone. ", len(r.hosts)+len(r.serving)*len(r.hosts))
	p("A full hour at 1 s is %d entries per host (`MAXLEN ~`).\n\n", int(time.Hour/redisInterval)*5)
	p("Targets (none beyond exactness for scale-out; the 10,000-stream fan-out targets shown for reference): 0 missed ids %s (%d); instances agree on every id %s (%d); p99 <= 50 ms %s (%.1f ms).\n\n",
		verdict(res.Check.Missed == 0 && res.Check.Unknown == 0 && res.Check.OutOfOrder == 0), res.Check.Missed,
		verdict(res.Check.Logs > 0 && res.Check.Disagree == 0), res.Check.Disagree, verdict(res.Latency.P99 <= 50), res.Latency.P99)
	if len(res.Errors) > 0 {
		p("Load generator errors: %s\n\n", strings.Join(res.Errors, "; "))
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
