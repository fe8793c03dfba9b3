package e2e

import (
	"context"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"vitals/internal/proctest"
)

// The page-cost benchmark's knobs. The defaults make the 1x run of `make
// test` a short smoke run; bench/page.md says how the published figures
// were made (-pagecost.dur=30s -pagecost.netdata).
var (
	pageCostDur     = flag.Duration("pagecost.dur", time.Second, "how long BenchmarkPageCPU measures each page")
	pageCostSettle  = flag.Duration("pagecost.settle", time.Second, "how long a page runs before it is measured")
	pageCostNetdata = flag.Bool("pagecost.netdata", false, "measure Debian's netdata dashboard in the same run (needs the netdata package)")
	netdataWarm     = flag.Duration("pagecost.netdata-warm", time.Minute, "how long netdata runs before its dashboard is measured")
)

// BenchmarkPageCPU measures what a page left open costs: the CPU of the
// whole Chromium process tree (browser, renderer, GPU and utility
// processes) over -pagecost.dur, in percent of one core, for a blank page,
// the dashboard at its 5-minute and 1-hour ranges, and with
// -pagecost.netdata Netdata's own dashboard, each in a fresh browser.
func BenchmarkPageCPU(b *testing.B) {
	chromiumPath(b)
	srv := startVitals(b, b.TempDir(), "--interval", "1s")
	waitHistory(b, srv.URL, 5)
	pages := []struct {
		name, url, rangeMS string
	}{
		{"blank", "about:blank", ""},
		{"vitals-5min", srv.URL + "/", "300000"},
		{"vitals-1h", srv.URL + "/", "3600000"},
	}
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			for range b.N {
				measurePage(b, pg.url, func(p *page) {
					if pg.rangeMS == "" {
						return
					}
					p.waitFor("the dashboard live", allDrawn, 30*time.Second)
					p.do(chromedp.Click(chromedp.CSS(`[data-range-ms="` + pg.rangeMS + `"]`)))
					p.waitFor("the range", `s.rangeMs === `+pg.rangeMS+` && s.state === "live"`, 30*time.Second)
				})
			}
		})
	}
	b.Run("netdata", func(b *testing.B) {
		if !*pageCostNetdata {
			b.Skip("netdata's dashboard is measured with -pagecost.netdata")
		}
		b.StopTimer()
		url := startNetdata(b)
		for range b.N {
			measurePage(b, url, nil)
		}
	})
}

// measurePage opens url in a fresh browser, lets ready finish and the page
// settle, then reports the browser tree's CPU over -pagecost.dur.
func measurePage(b *testing.B, url string, ready func(*page)) {
	b.Helper()
	b.StopTimer()
	p := newPageWith(b, chromedp.WindowSize(1280, 900))
	proc := chromedp.FromContext(p.ctx).Browser.Process()
	if proc == nil {
		b.Fatal("no browser process to measure")
	}
	// A page left open on a screen has focus; Netdata's dashboard stops
	// refreshing without it, which would flatter it. Every column gets
	// the same.
	if _, err := chromedp.Run(p.ctx, func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return chromedp.Void{}, err
	}); err != nil {
		b.Fatalf("emulate focus: %v", err)
	}
	p.do(chromedp.Navigate(url))
	if ready != nil {
		ready(p)
	}
	time.Sleep(*pageCostSettle) // the first paint and history read are not what stays
	b.StartTimer()
	a, _, err := proctest.ReadTreeUsage(proc.Pid)
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(*pageCostDur)
	z, procs, err := proctest.ReadTreeUsage(proc.Pid)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(proctest.CPUPercent(a, z), "%core")
	b.ReportMetric(float64(procs), "procs")
}

// startNetdata runs Debian's netdata on a free loopback port, stopped by
// its pid when the benchmark ends, and returns its dashboard's URL once it
// has run -pagecost.netdata-warm (its charts fill in over the first
// minute). Without the package the column is skipped.
func startNetdata(b *testing.B) string {
	b.Helper()
	exe, err := exec.LookPath("netdata")
	if err != nil {
		if _, err = os.Stat("/usr/sbin/netdata"); err != nil {
			b.Skip("netdata is not installed (apt-get install netdata); its column is left out")
		}
		exe = "/usr/sbin/netdata"
	}
	addr := freeAddr(b)
	host, port, _ := strings.Cut(addr, ":")
	// -D stays in the foreground, so the process started is the one to
	// stop; -i/-p bind loopback only.
	cmd := exec.Command(exe, "-D", "-i", host, "-p", port)
	cmd.Env = append(os.Environ(), "DO_NOT_TRACK=1", "DISABLE_TELEMETRY=1")
	proc, err := proctest.Start(cmd)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { proc.Stop(10 * time.Second) })
	base := "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := proc.WaitReady(ctx, 30*time.Second, proctest.Answers(http.DefaultClient, base+"/")); err != nil {
		b.Fatalf("netdata did not come up: %v", err)
	}
	time.Sleep(*netdataWarm)
	return base + "/"
}
