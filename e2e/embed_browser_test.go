package e2e

// The embed element in the real browser: a page on another origin loads
// static/embed.js from vitals and shows live charts over one shared
// stream; a page on an origin vitals does not allow gets nothing; and the
// /embed iframe page renders and may be framed by the allowed origin.

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// embedSnap is <vitals-chart>.snapshot(), the element's read-only test hook.
type embedSnap struct {
	State       string           `json:"state"`
	Badge       string           `json:"badge"`
	Problem     string           `json:"problem"`
	Detail      string           `json:"detail"`
	Topic       string           `json:"topic"`
	Series      []string         `json:"series"`
	Topics      []string         `json:"topics"`
	LastID      string           `json:"lastId"`
	Live        int              `json:"live"`
	CaughtUp    int              `json:"caughtUp"`
	FromHistory int              `json:"fromHistory"`
	Catchups    []catchupSummary `json:"catchups"`
	Points      int              `json:"points"`
	Drawn       int              `json:"drawn"`
	Values      []string         `json:"values"`
	CatchupText string           `json:"catchupText"`
	Opened      int              `json:"opened"`
	Servers     int              `json:"servers"`
	Messages    []string         `json:"messages"`
}

// streamCounter is a reverse proxy in front of vitals that counts /events
// requests: how many were opened and how many are open now, and with what
// query. The browser can't hide a connection from it.
type streamCounter struct {
	mu      sync.Mutex
	total   int      // guarded by mu
	open    int      // guarded by mu
	queries []string // guarded by mu
}

func (sc *streamCounter) counts() (total, open int, queries []string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.total, sc.open, append([]string(nil), sc.queries...)
}

func newStreamCounter(t *testing.T, target string) (*streamCounter, *httptest.Server) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1 // pass every SSE write on at once
	sc := &streamCounter{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/events" {
			sc.mu.Lock()
			sc.total++
			sc.open++
			sc.queries = append(sc.queries, r.URL.RawQuery)
			sc.mu.Unlock()
			defer func() {
				sc.mu.Lock()
				sc.open--
				sc.mu.Unlock()
			}()
		}
		rp.ServeHTTP(w, r)
	}))
	// Cleanups run last-in first-out: cut the streams still open (the
	// browser is still there), then close.
	t.Cleanup(srv.Close)
	t.Cleanup(srv.CloseClientConnections)
	return sc, srv
}

// embedPageHTML is the other site's page: embed.js from vitals (through the
// counting proxy) and two charts of two topics.
func embedPageHTML(vitals string) string {
	v := html.EscapeString(vitals)
	return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Someone else's page</title>
<style>
  body { font: 16px Georgia, serif; margin: 24px; background: #fbf7ef; color: #333; }
  /* rules that would wreck the charts if they leaked into the shadow DOM */
  div, span, b, canvas { border: 3px dotted red !important; color: red !important; font-size: 30px !important; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
  #mem { --vitals-s1: #9333ea; --vitals-radius: 0; }
</style>
<script type="module" src="` + v + `/static/embed.js"></script>
</head><body>
<h1>Our status page</h1>
<p>Two live charts from vitals below, one stream between them.</p>
<div class="grid">
  <vitals-chart id="cpu" src="` + v + `" topic="cpu" fields="total,iowait" range="1m"></vitals-chart>
  <vitals-chart id="mem" src="` + v + `" topic="memory" range="1m"></vitals-chart>
</div>
</body></html>`
}

// framePageHTML holds the /embed page in an iframe.
func framePageHTML(vitals string) string {
	return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>framed</title></head><body>
<iframe id="f" style="width:900px;height:520px;border:0" src="` + html.EscapeString(vitals) + `/embed?topics=load,network&amp;range=5m"></iframe>
</body></html>`
}

const allCharts = `[...document.querySelectorAll("vitals-chart")].map((e) => e.snapshot())`

func (p *page) embedSnaps() []embedSnap {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]embedSnap](allCharts))
	if err != nil {
		p.t.Fatalf("read the charts' snapshots: %v", err)
	}
	return s
}

// waitCharts polls cond over `all`, the snapshots of every <vitals-chart>.
func (p *page) waitCharts(what, cond string, timeout time.Duration) {
	p.t.Helper()
	expr := fmt.Sprintf(`(() => { if (!customElements.get("vitals-chart")) return false; const all = %s; return !!(%s); })()`, allCharts, cond)
	_, err := chromedp.Run(p.ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		p.t.Fatalf("waiting for %s (%v): %v\ncharts: %+v", what, timeout, err, p.embedSnaps())
	}
}

func TestBrowserEmbedCrossOrigin(t *testing.T) {
	p := newPage(t)

	// One page server, reachable as two origins: 127.0.0.1:port is
	// allowed, localhost:port (same server, another origin) is not.
	var vitalsURL string // set below, before any request
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, embedPageHTML(vitalsURL))
	})
	mux.HandleFunc("/frame", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, framePageHTML(vitalsURL))
	})
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	_, port, _ := net.SplitHostPort(site.Listener.Addr().String())
	allowed := "http://127.0.0.1:" + port
	refused := "http://localhost:" + port

	srv := startVitals(t, t.TempDir(), "--cors-origins", allowed)
	// The charts must find history when they load: wait for the server to
	// hold two ticks, rather than hope it did by the time the page asks.
	waitHistory(t, srv.URL, 10)
	counter, proxy := newStreamCounter(t, srv.URL)
	vitalsURL = proxy.URL

	// Live data in both charts, over exactly one stream.
	start := time.Now()
	p.do(chromedp.Navigate(allowed + "/"))
	p.waitCharts("both charts to draw live data",
		`all.length === 2 && all.every((s) => s.state === "live" && s.drawn > 5 && s.live >= 20)`, 15*time.Second)
	t.Logf("both charts live %v after navigation", time.Since(start).Round(time.Millisecond))
	burnCPU(2 * time.Second) // a hill on the CPU chart, for the picture (with -update)
	p.do(chromedp.Sleep(time.Second))
	snaps := p.embedSnaps()
	total, open, queries := counter.counts()
	if total != 1 || open != 1 {
		t.Errorf("/events requests: %d opened, %d open, want 1 and 1 (queries %q)", total, open, queries)
	}
	if len(queries) > 0 && !strings.Contains(queries[0], "topics=cpu%2Cmemory") {
		t.Errorf("the stream's query %q does not ask for cpu and memory only", queries[0])
	}
	for _, s := range snaps {
		if s.Opened != 1 || s.Servers != 1 {
			t.Errorf("%s chart: %d EventSources opened over %d servers, want 1 and 1", s.Topic, s.Opened, s.Servers)
		}
		if s.Points == 0 || s.FromHistory == 0 {
			t.Errorf("%s chart: %d points, %d from history", s.Topic, s.Points, s.FromHistory)
		}
	}
	if got := strings.Join(snaps[0].Series, ","); got != "total,iowait" {
		t.Errorf("cpu chart draws %q, want total,iowait", got)
	}
	for _, v := range snaps[0].Values {
		if !strings.HasSuffix(v, " %") {
			t.Errorf("cpu chart value %q is not a percentage", v)
		}
	}
	screenshot(t, p, "embed-cross-origin.png")

	// Elements come and go: a new topic widens the one stream (the old
	// one closes), removing every chart closes it.
	p.do(chromedp.Evaluate[chromedp.Void](`(() => {
		document.getElementById("mem").remove();
		const el = document.createElement("vitals-chart");
		el.setAttribute("src", document.getElementById("cpu").getAttribute("src"));
		el.setAttribute("topic", "load");
		document.querySelector(".grid").append(el);
	})()`))
	p.waitCharts("the added load chart to draw", `all.length === 2 && all[1].topic === "load" && all[1].drawn > 5 && all[1].state === "live"`, 10*time.Second)
	total, open, queries = counter.counts()
	if total != 2 || open != 1 || !strings.Contains(queries[len(queries)-1], "load") {
		t.Errorf("after adding a load chart: %d streams opened, %d open, queries %q; want 2, 1, the last with load", total, open, queries)
	}
	// The position survives a reload: the page resumes after the id it
	// stored, and the catch-up line reports it.
	p.do(chromedp.Sleep(300 * time.Millisecond)) // a frame or two: the position is saved per frame
	p.do(chromedp.Reload())
	p.waitCharts("the reloaded page to resume", `all.length === 2 && all[0].catchups.length > 0 && all[0].state === "live"`, 10*time.Second)
	if c := p.embedSnaps()[0].Catchups[0]; !c.Complete || c.After == "" {
		t.Errorf("resume after reload: %+v", c)
	}
	p.do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("vitals-chart").forEach((e) => e.remove())`))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, open, _ = counter.counts(); open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d streams still open after every chart left the page", open)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors on the allowed page:\n%s", strings.Join(errs, "\n"))
	}

	// The same page from an origin vitals doesn't allow: no data, and the
	// charts say why.
	p.do(chromedp.Navigate(refused + "/"))
	p.waitCharts("the refused page to show an error",
		`all.length === 2 && all.every((s) => s.state === "error" && s.detail.includes("origin is not allowed"))`, 10*time.Second)
	time.Sleep(time.Second) // a retry or two: still nothing
	for _, s := range p.embedSnaps() {
		if s.Points != 0 || s.Live != 0 || s.LastID != "" {
			t.Errorf("%s chart on a refused origin got data: %+v", s.Topic, s)
		}
	}
	screenshot(t, p, "embed-refused.png")

	// The /embed page renders live charts on its own ...
	p.do(chromedp.Navigate(srv.URL + "/embed?topics=cpu,network&range=5m"))
	p.waitCharts("the /embed page to draw",
		`all.length === 2 && all[0].topic === "cpu" && all[1].topic === "network" && all.every((s) => s.state === "live" && s.drawn > 5)`, 10*time.Second)
	if s := p.embedSnaps(); s[0].Opened != 1 || s[0].Servers != 1 {
		t.Errorf("/embed page: %d EventSources over %d servers", s[0].Opened, s[0].Servers)
	}
	screenshot(t, p, "embed-page.png")
	// Narrow and dark too, to look at: the axis labels must fit at 360 px.
	p.do(chromedp.EmulateViewport(360, 800), chromedp.Sleep(300*time.Millisecond))
	screenshot(t, p, "embed-page-360.png")
	p.do(chromedp.Navigate(srv.URL + "/embed?topics=cpu,network&range=5m&theme=dark"))
	p.waitCharts("the dark /embed page to draw", `all.length === 2 && all.every((s) => s.state === "live" && s.drawn > 5)`, 10*time.Second)
	screenshot(t, p, "embed-page-360-dark.png")
	p.do(chromedp.EmulateViewport(1280, 900), chromedp.Sleep(300*time.Millisecond))
	screenshot(t, p, "embed-page-dark.png")
	// ... and inside an iframe on the allowed origin (frame-ancestors):
	// its script runs and opens its stream.
	before, _, _ := counter.counts()
	p.do(chromedp.Navigate(allowed + "/frame"))
	deadline = time.Now().Add(10 * time.Second)
	for {
		total, _, queries = counter.counts()
		if total > before && strings.Contains(queries[len(queries)-1], "topics=load%2Cnetwork") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the framed /embed page opened no stream (queries %q)", queries)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.do(chromedp.Sleep(time.Second)) // let it draw, for the picture
	screenshot(t, p, "embed-iframe.png")
	for _, e := range p.consoleErrors() {
		// The refused origin's CORS failures are expected; nothing else.
		if !strings.Contains(e, "CORS") && !strings.Contains(e, "ERR_FAILED") {
			t.Errorf("console error: %s", e)
		}
	}
}
