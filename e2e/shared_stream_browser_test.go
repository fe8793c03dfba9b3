package e2e

// One connection per browser: ten dashboard tabs and an /embed page share
// one /events stream (static/shareworker.js), counted at the server, and
// every tab still resumes exactly by its own position after a restart.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vitals/internal/ssetest"
)

// openStreams is the number of /events streams the server holds now, the
// sum of its vitals_streams gauge, and how many it has closed so far.
func openStreams(t *testing.T, base string) (open, closed int) {
	t.Helper()
	_, body := ssetest.Do(t, "GET", base+"/metrics")
	for line := range strings.Lines(body) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(name, "vitals_streams{"):
			open += int(n)
		case strings.HasPrefix(name, "vitals_streams_closed_total{"):
			closed += int(n)
		}
	}
	return open, closed
}

// tab opens another tab in p's browser.
func (p *page) tab(t *testing.T) *page {
	t.Helper()
	tab, _ := p.closableTab(t)
	return tab
}

// closableTab is tab with the function that closes it.
func (p *page) closableTab(t *testing.T) (*page, context.CancelFunc) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(p.ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return &page{t: t, ctx: ctx}, cancel
}

// oneStream waits until the server holds exactly one /events stream.
func oneStream(t *testing.T, base, when string) {
	t.Helper()
	eventually(t, "one /events stream "+when, 15*time.Second, func() bool {
		open, _ := openStreams(t, base)
		return open == 1
	})
}

// TestBrowserTabsShareOneStreamThroughALeader is the fallback where there
// is no SharedWorker (?share=leader skips it): one tab, elected with a Web
// Lock, holds the stream for the others over a BroadcastChannel; when it
// closes, another takes over and every tab resumes exactly.
func TestBrowserTabsShareOneStreamThroughALeader(t *testing.T) {
	browser := newPage(t)
	srv := startVitals(t, t.TempDir())
	var tabs []*page
	var closeFirst context.CancelFunc
	for i := range 4 {
		p, closeTab := browser.closableTab(t)
		if i == 0 {
			closeFirst = closeTab // the first to ask for the lock leads
		}
		p.do(chromedp.Navigate(srv.URL + "/?share=leader"))
		p.waitFor(fmt.Sprintf("tab %d live", i+1), allDrawn, 30*time.Second)
		tabs = append(tabs, p)
	}
	oneStream(t, srv.URL, "for four tabs")

	before := make([]snapshot, len(tabs))
	for i, p := range tabs {
		before[i] = p.snap()
	}
	closeFirst()
	tabs = tabs[1:]
	for i, p := range tabs {
		p.waitFor(fmt.Sprintf("tab %d back through the new leader", i+2),
			fmt.Sprintf(`s.state === "live" && s.catchups.length > %d && s.live >= %d`, len(before[i+1].Catchups), before[i+1].Live+5), 30*time.Second)
		c := p.snap().Catchups
		last := c[len(c)-1]
		published := 0
		if last.Head != last.After {
			published = slices.Index(historyIDsVia(t, srv.Client, srv.URL, last.After), last.Head) + 1
		}
		if !last.Complete || last.Count != published {
			t.Errorf("tab %d: catch-up %+v, the server published %d events after its id", i+2, last, published)
		}
		checkNoHoles(t, srv, p.snap())
	}
	oneStream(t, srv.URL, "after the leader left")
}

func TestBrowserTenTabsAndAnEmbedShareOneStream(t *testing.T) {
	first := newPage(t)
	srv := startVitals(t, t.TempDir())

	tabs := []*page{first}
	for range 9 {
		tabs = append(tabs, first.tab(t))
	}
	for i, p := range tabs {
		p.do(chromedp.Navigate(srv.URL + "/"))
		p.waitFor(fmt.Sprintf("tab %d live", i+1), allDrawn, 30*time.Second)
	}
	embed := first.tab(t)
	embed.do(chromedp.Navigate(srv.URL + "/embed?topics=cpu,memory&range=5m"))
	embedLive := func(what string) {
		t.Helper()
		_, err := chromedp.Run(embed.ctx, chromedp.Poll[bool](
			`(() => { const c = [...document.querySelectorAll("vitals-chart")].map((e) => e.snapshot()); return c.length > 0 && c.every((s) => s.state === "live" && s.points > 0); })()`,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
		if err != nil {
			t.Fatalf("the embed page %s: %v", what, err)
		}
	}
	embedLive("live")

	// Every tab and the embed page live, over one stream, and it stays one.
	open, closed := openStreams(t, srv.URL)
	if open != 1 {
		t.Fatalf("%d /events streams open for ten tabs and an embed page, want 1", open)
	}
	for i, p := range tabs {
		p.waitFor(fmt.Sprintf("tab %d still live", i+1), `s.state === "live" && s.badge === "Live"`, 5*time.Second)
	}
	if o, c := openStreams(t, srv.URL); o != 1 || c != closed {
		t.Errorf("streams: %d open (want 1), %d closed since (want none)", o, c-closed)
	}

	// A restart: every tab comes back by its own position, exactly.
	before := make([]snapshot, len(tabs))
	for i, p := range tabs {
		before[i] = p.snap()
	}
	srv.Kill9(t)
	for i, p := range tabs {
		p.waitFor(fmt.Sprintf("tab %d sees the server gone", i+1), `s.state !== "live"`, 15*time.Second)
	}
	srv = srv.Restart(t)
	for i, p := range tabs {
		p.waitFor(fmt.Sprintf("tab %d live after the restart", i+1),
			fmt.Sprintf(`s.state === "live" && s.instance !== %q && s.catchups.length > %d`, before[i].Instance, len(before[i].Catchups)), 30*time.Second)
		p.waitFor("samples after it", fmt.Sprintf(`s.live >= %d`, p.snap().Live+5), 15*time.Second)
		exactAfterRestart(t, srv, i+1, p.snap())
	}
	embedLive("live after the restart")
	if !poll(10*time.Second, func() bool { open, _ = openStreams(t, srv.URL); return open == 1 }) {
		t.Errorf("%d /events streams after the restart, want 1", open)
	}
	if errs := first.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// exactAfterRestart checks one tab after a restart: its catch-up replayed
// exactly what the server published after the tab's own last id, and it
// holds every tick the server published in its span, the restart being
// the one band.
func exactAfterRestart(t *testing.T, srv *vitalsProc, tab int, s snapshot) {
	t.Helper()
	c := s.Catchups[len(s.Catchups)-1]
	published := 0 // the tab's id is the head: nothing was published after it yet
	if c.Head != c.After {
		published = slices.Index(historyIDsVia(t, srv.Client, srv.URL, c.After), c.Head) + 1
		if published == 0 {
			t.Errorf("tab %d: catch-up head %s is not in the server's history after %s", tab, c.Head, c.After)
		}
	}
	if !c.Complete || c.Count != published {
		t.Errorf("tab %d: catch-up %+v; the server published %d events after %s up to its head", tab, c, published, c.After)
	}
	ticks, _, _ := serverTicks(t, srv)
	if want := ticksWithin(ticks, s.Ticks[0], s.Ticks[len(s.Ticks)-1]); !slices.Equal(s.Ticks, want) {
		t.Errorf("tab %d holds %d ticks, the server published %d in that span", tab, len(s.Ticks), len(want))
	}
	restarts := 0
	for _, b := range s.Bands {
		switch b.Kind {
		case "restart":
			restarts++
		case "late":
		default:
			t.Errorf("tab %d: unexpected band %+v", tab, b)
		}
	}
	if restarts != 1 {
		t.Errorf("tab %d: %d restart bands, want 1: %+v", tab, restarts, s.Bands)
	}
}
