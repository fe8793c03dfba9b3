package e2e

// The long ranges in a real browser: a server whose history file was
// filled by "vitals history fill" (the real roller and tier store), the
// range picker, the envelope, drag to zoom, the view in the address and
// CSV. The handlers are served in this process from that file, so the test
// can publish live ticks and a live minute when it needs them.

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"

	"vitals/handlers"
	"vitals/history"
	"vitals/history/tier"
	"vitals/hostinfo"
	"vitals/static"
)

// rangeTopics are the core topics, the two the page's tables ask for, and
// the opt-in rollup topic.
var rangeTopics = []string{"cpu", "memory", "load", "disk", "network", "processes", "containers", "rollup"}

// rangeServer is a vitals server in this process: a broker with live ticks
// once a second, over a history file whose tiers "vitals history fill"
// filled up to now.
type rangeServer struct {
	URL    string
	broker *history.Broker
	next   time.Time // the minute after the fill's newest: the next live one
}

// simulated is a host's figures at t: daily and weekly cycles with a spike
// every 97 minutes, so the hourly max stands well above the mean.
func simulated(t time.Time) map[string]map[string]float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	day := 0.5 + 0.5*math.Sin((h-9)/24*2*math.Pi)
	week := 1.0
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		week = 0.4
	}
	cpu := 5 + 40*day*week
	if (t.Unix()/60)%97 == 0 {
		cpu = 98
	}
	return map[string]map[string]float64{
		"cpu":     {"total": cpu, "user": cpu * 0.7, "system": cpu * 0.25, "iowait": 1, "steal": 0},
		"memory":  {"total": 8e9, "used": 3e9 + 2e9*day, "available": 5e9 - 2e9*day, "cached": 1e9, "buffers": 1e8, "swap_total": 2e9, "swap_used": 1e8},
		"load":    {"load1": 4 * day * week, "load5": 3.5 * day * week, "load15": 3 * day * week, "cpus": 2},
		"disk":    {"read_bps": 2e6 * day, "write_bps": 5e6 * day, "read_iops": 50, "write_iops": 120},
		"network": {"rx_bps": 1e6 * day * week, "tx_bps": 3e5 * day, "rx_pps": 900, "tx_pps": 400},
	}
}

// rollupPoints is every topic's point of one bucket: 60 ticks a minute
// (3,600 an hour) around the simulated figures, spikes kept as the max.
func rollupPoints(start time.Time, step time.Duration) []tier.Point {
	ticks := uint32(step / time.Second)
	var out []tier.Point
	for topic, fields := range simulated(start) {
		p := tier.Point{Topic: topic, T: start.UnixMilli(), Step: step, Count: ticks, Fields: map[string]tier.Stat{}}
		peak := simulated(start.Add(step / 2))[topic]
		for f, v := range fields {
			hi := max(v, peak[f])
			if topic == "cpu" && f == "total" && step == tier.Hour {
				hi = max(hi, 98) // an hour always holds the 97-minute spike's neighbourhood
			}
			p.Fields[f] = tier.Stat{Min: v * 0.8, Max: hi, Sum: v * float64(ticks), N: ticks}
		}
		out = append(out, p)
	}
	return out
}

// startRangeServer fills a history file with years of a simulated host,
// one tick every every (a whole number of minutes: each minute and hour
// then has samples), and serves it.
func startRangeServer(t testing.TB, years string, every string) *rangeServer {
	t.Helper()
	dir := t.TempDir()
	// Seed 1 draws restarts, an outage of hours and the clock step.
	fillHistory(t, dir, "--years", years, "--every", every, "--seed", "1")
	rs := &rangeServer{}

	// The rollup topic is opt-in, as the server makes it: the page's
	// shared stream must keep the long view's topics=rollup apart from
	// its stream of every topic, which comes without it.
	b, err := history.Open(history.Options{Dir: dir, Topics: rangeTopics, OptIn: []string{tier.Topic},
		Retention: time.Hour, MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	rs.broker = b
	// The retention the server's defaults keep, as the fill kept them.
	store, err := tier.OpenBolt(b.DB(), tier.BoltOptions{Minutes: tier.Keep{Age: 90 * 24 * time.Hour, MaxBytes: 64 << 20},
		Hours: tier.Keep{Age: 730 * 24 * time.Hour, MaxBytes: 16 << 20}})
	if err != nil {
		b.Close()
		t.Fatal(err)
	}
	newest, found, err := store.Newest(tier.Minute, "cpu")
	if err != nil || !found {
		b.Close()
		t.Fatalf("the filled minutes: newest found %v, %v", found, err)
	}
	rs.next = time.UnixMilli(newest).Add(tier.Minute)
	gin.SetMode(gin.ReleaseMode) // as main sets it: no route listing
	host := hostinfo.Info{Hostname: "rangehost", OS: "linux", CPUs: 2, BootTime: time.Unix(1_700_000_000, 0),
		Interval: time.Second, Retention: time.Hour}
	h, err := handlers.New(handlers.Options{
		Sources: handlers.OneHost(b, host, time.Second), Host: host, Instance: "range-test", Version: "test",
		Interval: time.Second, Retention: time.Hour, Retry: time.Second, Heartbeat: 15 * time.Second,
		Static: static.FS(), Health: func() error { return nil }, Tiers: rangeTiers{store}, OptIn: []string{tier.Topic},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	rs.URL = srv.URL

	// Live ticks, so the page's stream and its live charts are as usual.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // owned here: cancelled and waited for at cleanup
		defer wg.Done()
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			rs.tick(t, time.Now().Truncate(time.Second))
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		b.Shutdown()
		srv.Close()
		b.Close()
	})
	return rs
}

func (rs *rangeServer) tick(t testing.TB, at time.Time) {
	var samples []history.Sample
	for topic, fields := range simulated(at) {
		var sb strings.Builder
		fmt.Fprintf(&sb, `{"t":%d`, at.UnixMilli())
		for f, v := range fields {
			fmt.Fprintf(&sb, `,%q:%g`, f, v)
		}
		sb.WriteString("}")
		samples = append(samples, history.Sample{Topic: topic, Data: []byte(sb.String())})
	}
	if err := rs.broker.Publish(at, samples); err != nil {
		t.Error(err)
	}
}

// publishMinute publishes the rollup event of the minute starting at m,
// as the server does when a minute completes, and returns its id.
func (rs *rangeServer) publishMinute(t testing.TB, m time.Time) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, `{"t":%d,"step":60000,"points":{`, m.UnixMilli())
	first := true
	for _, p := range rollupPoints(m, tier.Minute) {
		if !first {
			sb.WriteString(",")
		}
		first = false
		fmt.Fprintf(&sb, `%q:{"count":%d,"fields":{`, p.Topic, p.Count)
		k := 0
		for f, s := range p.Fields {
			if k > 0 {
				sb.WriteString(",")
			}
			k++
			fmt.Fprintf(&sb, `%q:[%g,%g,%g,%d]`, f, s.Min, s.Max, s.Sum, s.N)
		}
		sb.WriteString("}}")
	}
	sb.WriteString("}}")
	if err := rs.broker.Publish(m.Add(time.Minute), []history.Sample{{Topic: "rollup", Data: []byte(sb.String())}}); err != nil {
		t.Fatal(err)
	}
	p, _ := rs.broker.Range("", []string{"rollup"}, 1)
	return p.Events[0].ID
}

// rangeTiers is the TierStores of the one host.
type rangeTiers struct{ tier.Store }

func (r rangeTiers) TierStore(context.Context, string) (tier.Store, error) { return r.Store, nil }

// rangeSnap is the long view's part of window.vitals.snapshot().
type rangeSnap struct {
	Range struct {
		View *struct {
			MS   int64 `json:"ms"`
			From int64 `json:"from"`
			To   int64 `json:"to"`
		} `json:"view"`
		Loading bool           `json:"loading"`
		Tier    string         `json:"tier"`
		Step    int64          `json:"step"`
		Points  map[string]int `json:"points"`
		Gaps    int            `json:"gaps"`
		LastCSV *struct {
			Name string `json:"name"`
			Rows int    `json:"rows"`
			Head string `json:"head"`
		} `json:"lastCSV"`
		RollupID string `json:"rollupId"`
	} `json:"range"`
	Drawn     map[string]int `json:"drawn"`
	Envelopes map[string]int `json:"envelopes"`
}

// longShown is the JS condition "the long view of ms (or a fixed one when
// 0) is loaded and the CPU chart painted its points with an envelope".
func longShown(ms int64) string {
	view := `s.range.view && s.range.view.from > 0`
	if ms > 0 {
		view = fmt.Sprintf(`s.range.view && s.range.view.ms === %d`, ms)
	}
	return view + ` && !s.range.loading && s.drawn.cpu > 50 && s.envelopes.cpu > 0`
}

func TestBrowserLongRanges(t *testing.T) {
	p := newPage(t)
	// Five weeks at a tick a minute: quick to fill, and the week of
	// minutes has no hole.
	rs := startRangeServer(t, "0.1", "1m")
	year := (365 * 24 * time.Hour).Milliseconds()
	week := (7 * 24 * time.Hour).Milliseconds()

	p.do(chromedp.Navigate(rs.URL + "/"))
	p.waitFor("the live page", allDrawn5, 10*time.Second)

	// 1 y from the picker: hours, an envelope, the outage, restarts and
	// clock step.
	p.do(chromedp.Click(chromedp.CSS(`[data-range-key="1y"]`)))
	p.waitFor("the year drawn", longShown(year), 10*time.Second)
	s := pageSnapshot[rangeSnap](p)
	if s.Range.Tier != "1h" || s.Range.Gaps == 0 {
		t.Errorf("1 y: tier %q, %d gaps; want 1h with the outage", s.Range.Tier, s.Range.Gaps)
	}
	if loc := p.location(); !strings.Contains(loc, "range=1y") {
		t.Errorf("address %s lacks range=1y", loc)
	}

	// 7 d: minutes, and a live minute folds in.
	p.do(chromedp.Click(chromedp.CSS(`[data-range-key="7d"]`)))
	p.waitFor("the week drawn", longShown(week), 10*time.Second)
	if s := pageSnapshot[rangeSnap](p); s.Range.Tier != "1m" {
		t.Errorf("7 d: tier %q, want 1m", s.Range.Tier)
	}
	id := rs.publishMinute(t, rs.next)
	p.waitFor("the live minute folded in", fmt.Sprintf(`s.range.rollupId === %q`, id), 10*time.Second)

	// Drag across the middle of the CPU chart: a fixed range, in the
	// address, that a reload reproduces.
	box, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]float64](
		`(() => { const r = document.querySelector('[data-chart="cpu"] .u-over').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`))
	if err != nil {
		t.Fatal(err)
	}
	y := box[1] + box[3]/2
	x0, x1 := box[0]+box[2]*0.3, box[0]+box[2]*0.6
	p.do(
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x0, y),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x0, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, (x0+x1)/2, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x1, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x1, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
	)
	p.waitFor("the zoomed range", longShown(0), 10*time.Second)
	zoomed := pageSnapshot[rangeSnap](p).Range.View
	if span := zoomed.To - zoomed.From; span <= 0 || span > week/2 {
		t.Fatalf("zoomed into %d ms of a week", span)
	}
	loc := p.location()
	if !strings.Contains(loc, fmt.Sprintf("from=%d", zoomed.From)) || !strings.Contains(loc, fmt.Sprintf("to=%d", zoomed.To)) {
		t.Fatalf("address %s does not hold the zoom %+v", loc, *zoomed)
	}
	p.do(chromedp.Reload())
	p.waitFor("the zoom after a reload", longShown(0)+fmt.Sprintf(` && s.range.view.from === %d && s.range.view.to === %d`, zoomed.From, zoomed.To), 10*time.Second)

	// CSV of the chart as shown.
	p.do(chromedp.Click(chromedp.CSS(`[data-csv="cpu"]`)))
	p.waitFor("the CSV", `s.range.lastCSV && s.range.lastCSV.rows > 50`, 5*time.Second)
	csv := pageSnapshot[rangeSnap](p).Range.LastCSV
	if !strings.HasPrefix(csv.Head, "time,unix_ms,total,total min,total max,") || !strings.HasSuffix(csv.Name, ".csv") {
		t.Errorf("CSV %q starts %q", csv.Name, csv.Head)
	}

	// Back leaves the zoom for the week it came from.
	p.do(chromedp.Click(chromedp.CSS(`#zoom-back`)))
	p.waitFor("back to the week", longShown(week), 10*time.Second)

	// A live range gives the charts back to the stream.
	p.do(chromedp.Click(chromedp.CSS(`[data-range-ms="300000"]`)))
	p.waitFor("the live view", `!s.range.view && `+allDrawn5, 10*time.Second)
	// This in-process server has no alert engine: its /api/alerts is a
	// 404, which the page takes in its stride. Anything else is an error.
	var errs []string
	for _, e := range p.consoleErrors() {
		if !strings.Contains(e, "status of 404") {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// allDrawn5 is allDrawn for the five core topics this server publishes.
const allDrawn5 = `s.state === "live" && ["cpu", "memory", "load", "disk", "network"].every((k) => s.drawn[k] > 0)`

func (p *page) location() string {
	p.t.Helper()
	loc, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`location.href`))
	if err != nil {
		p.t.Fatal(err)
	}
	return loc
}

// BenchmarkBrowserRangeYear measures the time from a press of "1 y" to a
// painted chart of a year at hourly points, in Chromium (bench/range.md).
func BenchmarkBrowserRangeYear(b *testing.B) {
	p := newPageWith(b)
	rs := startRangeServer(b, "2", "10m") // two years, as a long-running server holds
	p.do(chromedp.Navigate(rs.URL + "/"))
	p.waitFor("the live page", allDrawn5, 20*time.Second)
	year := (365 * 24 * time.Hour).Milliseconds()
	var paint time.Duration
	b.ResetTimer()
	for range b.N {
		p.do(chromedp.Click(chromedp.CSS(`[data-range-ms="300000"]`)))
		p.waitFor("the live view", `!s.range.view`, 10*time.Second)
		start := time.Now()
		p.do(chromedp.Click(chromedp.CSS(`[data-range-key="1y"]`)))
		p.waitFor("the year drawn", longShown(year), 10*time.Second)
		paint += time.Since(start)
	}
	// The press to the painted year alone, without the way back to the
	// live view that each round starts with.
	b.ReportMetric(float64(paint.Milliseconds())/float64(b.N), "ms/paint")
}
