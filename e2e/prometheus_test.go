package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"vitals/internal/proctest"
	"vitals/internal/ssetest"
	"vitals/internal/tooltest"
)

// TestPrometheusRateAgreesWithTheStream runs a real Prometheus that scrapes
// the real binary twice per tick, then checks what it stored and what its
// rate() computes against the cpu events the same binary streamed.
//
// CPU time is the quantity that can be compared exactly: the stream's
// shares (idle, iowait, ...) are each mode's growth over one tick divided
// by all modes' growth, and the same ratio of node_cpu_seconds_total
// increases needs no clock. vitals_host_sample_timestamp_seconds, read with
// the counters, says which tick each scrape saw; scraping twice per tick
// sees every tick. Per tick, the shares computed from what Prometheus
// stored must equal the streamed ones up to their rounding (0.01). Over a
// run of ticks, rate()'s extrapolation cancels out of a ratio of rates of
// series scraped together, so sum(rate(idle)) / sum(rate(all)) must equal
// the streamed idle shares weighted by each tick's CPU time, again up to
// rounding.
func TestPrometheusRateAgreesWithTheStream(t *testing.T) {
	promBin := tooltest.Path(t, "prometheus", "prometheus")
	v := startVitals(t, t.TempDir(), "--interval", "1s")
	stream := ssetest.Open(t, v.URL+"/events?topics=cpu")
	if ev := stream.NextEvent(t); ev.Event != "hello" {
		t.Fatalf("first event %+v", ev)
	}

	dir := t.TempDir()
	promAddr := freeAddr(t)
	config := fmt.Sprintf(`global:
  scrape_interval: 500ms
  scrape_timeout: 500ms
scrape_configs:
  - job_name: vitals
    static_configs:
      - targets: [%q]
`, v.Addr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	prom, err := proctest.Start(exec.Command(promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr, "--log.level=warn"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prom.Stop(10 * time.Second) })
	promURL := "http://" + promAddr
	if err := prom.WaitReady(context.Background(), 30*time.Second, func() error {
		resp, err := http.Get(promURL + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("/-/ready: %s", resp.Status)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Some work for the CPUs, so the shares are not all idle.
	burn, stopBurn := context.WithCancel(context.Background())
	burnDone := make(chan struct{})
	go func() { // owned here: stopped and waited for below
		defer close(burnDone)
		x := 0
		for burn.Err() == nil {
			x++
		}
	}()
	defer func() { stopBurn(); <-burnDone }()

	// Wait for a run of consecutive ticks in Prometheus.
	const wantTicks = 8
	var scrapes []cpuScrape
	var run []cpuScrape
	deadline := time.Now().Add(60 * time.Second)
	for {
		scrapes = promCPUScrapes(t, promURL, time.Now())
		if run = longestTickRun(scrapes, time.Second); len(run) >= wantTicks {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run of %d consecutive ticks in Prometheus after 60s (%d scrapes)", wantTicks, len(scrapes))
		}
		time.Sleep(time.Second)
	}
	stopBurn()

	// What was streamed, up to the last tick of the run.
	streamed := map[int64]map[string]float64{}
	last := run[len(run)-1].tick
	for {
		ev := stream.NextEvent(t)
		var p map[string]any
		if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
			t.Fatal(err)
		}
		tick := int64(p["t"].(float64))
		shares := map[string]float64{}
		for _, k := range []string{"total", "user", "system", "iowait", "steal", "idle"} {
			shares[k], _ = p[k].(float64)
		}
		streamed[tick] = shares
		if tick >= last {
			break
		}
	}

	// Tick by tick: the shares from the counters Prometheus stored.
	var weighted, weights float64
	for i := 1; i < len(run); i++ {
		d := map[string]float64{}
		var all float64
		for mode, ms := range run[i].ms {
			d[mode] = float64(ms - run[i-1].ms[mode])
			all += d[mode]
		}
		pct := func(modes ...string) float64 {
			var sum float64
			for _, m := range modes {
				sum += d[m]
			}
			return sum / all * 100
		}
		fromProm := map[string]float64{
			"idle": pct("idle"), "iowait": pct("iowait"), "steal": pct("steal"),
			"user": pct("user", "nice"), "system": pct("system", "irq", "softirq"),
			"total": 100 - pct("idle", "iowait"),
		}
		got, ok := streamed[run[i].tick]
		if !ok {
			t.Fatalf("no streamed cpu event for tick %d", run[i].tick)
		}
		for k, want := range fromProm {
			if math.Abs(got[k]-want) > 0.005+1e-9 {
				t.Errorf("tick %d: streamed %s %.2f%%, from Prometheus's counters %.4f%%", run[i].tick, k, got[k], want)
			}
		}
		weighted += got["idle"] / 100 * all
		weights += all
	}

	// rate() over exactly the run's scrapes.
	first, end := run[0].firstTS, run[len(run)-1].lastTS
	window := strconv.FormatInt(end.Sub(first).Milliseconds()+1, 10) + "ms"
	q := `sum(rate(node_cpu_seconds_total{mode="idle"}[` + window + `])) / sum(rate(node_cpu_seconds_total[` + window + `]))`
	ratio := promScalar(t, promURL, q, end)
	streamedIdle := weighted / weights
	t.Logf("%d ticks: rate() idle share %.5f, streamed %.5f", len(run)-1, ratio, streamedIdle)
	if math.Abs(ratio-streamedIdle) > 0.00005+1e-9 { // the stream rounds shares to 0.01 %
		t.Errorf("rate() idle share %.6f, streamed %.6f over the same %d ticks", ratio, streamedIdle, len(run)-1)
	}
}

// cpuScrape is what Prometheus stored for one tick of the cpu collector:
// the CPU time of each mode summed over the CPUs, in ms (the collector's
// unit), and the first and last scrape that saw it.
type cpuScrape struct {
	tick            int64 // unix ms
	ms              map[string]int64
	firstTS, lastTS time.Time
}

// promCPUScrapes reads the raw samples of the last 30 s, grouped by tick.
func promCPUScrapes(t *testing.T, promURL string, at time.Time) []cpuScrape {
	t.Helper()
	ticks := map[float64]int64{} // scrape time -> tick
	for _, s := range promMatrix(t, promURL, `vitals_host_sample_timestamp_seconds{topic="cpu"}[30s]`, at) {
		for _, p := range s.Values {
			ticks[p.ts] = int64(math.Round(p.v * 1000))
		}
	}
	byTick := map[int64]*cpuScrape{}
	for _, s := range promMatrix(t, promURL, `node_cpu_seconds_total[30s]`, at) {
		mode := s.Metric["mode"]
		perScrape := map[int64]int64{}
		for _, p := range s.Values {
			tick, ok := ticks[p.ts]
			if !ok {
				continue
			}
			ms := int64(math.Round(p.v * 1000))
			if prev, seen := perScrape[tick]; seen && prev != ms {
				t.Fatalf("two scrapes of tick %d disagree on cpu %s %s", tick, s.Metric["cpu"], mode)
			}
			perScrape[tick] = ms
			sc := byTick[tick]
			if sc == nil {
				sc = &cpuScrape{tick: tick, ms: map[string]int64{}}
				byTick[tick] = sc
			}
			ts := time.UnixMilli(int64(math.Round(p.ts * 1000)))
			if sc.firstTS.IsZero() || ts.Before(sc.firstTS) {
				sc.firstTS = ts
			}
			if ts.After(sc.lastTS) {
				sc.lastTS = ts
			}
		}
		for tick, ms := range perScrape {
			byTick[tick].ms[mode] += ms
		}
	}
	out := make([]cpuScrape, 0, len(byTick))
	for _, sc := range byTick {
		out = append(out, *sc)
	}
	slices.SortFunc(out, func(a, b cpuScrape) int { return int(a.tick - b.tick) })
	return out
}

// longestTickRun returns the longest stretch of scrapes whose ticks follow
// each other at interval: no tick missed.
func longestTickRun(scrapes []cpuScrape, interval time.Duration) []cpuScrape {
	var best []cpuScrape
	start := 0
	for i := 1; i <= len(scrapes); i++ {
		if i == len(scrapes) || scrapes[i].tick-scrapes[i-1].tick != interval.Milliseconds() {
			if i-start > len(best) {
				best = scrapes[start:i]
			}
			start = i
		}
	}
	return best
}

type promPoint struct{ ts, v float64 }

type promSeries struct {
	Metric map[string]string
	Values []promPoint
}

// promMatrix runs a range-vector query at time at and returns its raw
// samples.
func promMatrix(t *testing.T, promURL, query string, at time.Time) []promSeries {
	t.Helper()
	var res []struct {
		Metric map[string]string
		Values [][2]any
	}
	promQuery(t, promURL, query, at, "matrix", &res)
	out := make([]promSeries, len(res))
	for i, r := range res {
		out[i].Metric = r.Metric
		for _, pair := range r.Values {
			ts, _ := pair[0].(float64)
			s, _ := pair[1].(string)
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s: sample %v: %v", query, pair, err)
			}
			out[i].Values = append(out[i].Values, promPoint{ts, v})
		}
	}
	return out
}

// promScalar runs an instant query whose answer is one series and returns
// its value.
func promScalar(t *testing.T, promURL, query string, at time.Time) float64 {
	t.Helper()
	var res []struct{ Value [2]any }
	promQuery(t, promURL, query, at, "vector", &res)
	if len(res) != 1 {
		t.Fatalf("%s: %d series, want 1", query, len(res))
	}
	s, _ := res[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

func promQuery(t *testing.T, promURL, query string, at time.Time, resultType string, result any) {
	t.Helper()
	u := promURL + "/api/v1/query?" + url.Values{
		"query": {query}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)},
	}.Encode()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status, Error string
		Data          struct {
			ResultType string
			Result     json.RawMessage
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if body.Status != "success" || body.Data.ResultType != resultType {
		t.Fatalf("%s: %s %s (result type %q)", query, body.Status, body.Error, body.Data.ResultType)
	}
	if err := json.Unmarshal(body.Data.Result, result); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
