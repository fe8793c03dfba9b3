package e2e

// Bands keep their meaning: what the page draws over a gap comes from what
// the server stored (its "restart" mark on a new run's first tick), so the
// bands drawn live and those drawn after a reload, from history, are the
// same kind, at the same place, with the same label.

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// bandShown is a band of the page's gap list as the person reads it,
// with its kind and span.
type bandShown struct {
	Kind  string `json:"kind"`
	From  int64  `json:"from"`
	To    int64  `json:"to"`
	Label string `json:"label"`
}

// restartBands lists the page's "restart" bands with the text its gap list
// shows for each, oldest first.
func (p *page) restartBands() []bandShown {
	p.t.Helper()
	js := `(() => {
		const s = window.vitals.snapshot();
		const items = [...document.querySelectorAll("#gaps li")].map((li) => [li.dataset.kind, li.textContent]);
		const labels = items.filter(([k]) => k === "restart").map(([, t]) => t);
		return s.bands.filter((b) => b.kind === "restart").map((b, i) => ({kind: b.kind, from: b.from, to: b.to, label: labels[i] || ""}));
	})()`
	out, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]bandShown](js))
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

func TestBrowserRestartBandsSurviveReload(t *testing.T) {
	p := newPage(t)
	srv := startVitals(t, t.TempDir(), "--history", "60s")
	p.openLive(srv.URL, 20)

	// Two restarts, each after a kill -9 and a second down, each waited out
	// until the page is live on the new instance with samples after it.
	for i := range 2 {
		before := p.snap()
		srv.Kill9(t)
		p.waitFor("the page to see the server gone", `s.state !== "live"`, 10*time.Second)
		// A downtime wide enough to be a band, not a late tick: as the page
		// itself measures it, by its open "no data" band.
		p.waitFor("a second of downtime", `s.bands.some((b) => b.kind === "pending" && b.to - b.from >= 1000)`, 10*time.Second)
		srv = srv.Restart(t)
		p.waitFor(fmt.Sprintf("live after restart %d", i+1),
			fmt.Sprintf(`s.state === "live" && s.instance !== %q && s.bands.filter((b) => b.kind === "restart").length === %d`, before.Instance, i+1),
			20*time.Second)
		p.waitFor("samples after it", fmt.Sprintf(`s.live >= %d`, p.snap().Live+10), 10*time.Second)
	}
	live := p.restartBands()
	if len(live) != 2 {
		t.Fatalf("live: want two restart bands, got %+v", live)
	}
	for _, b := range live {
		if b.Label == "" || b.To-b.From < 1000 {
			t.Errorf("live band %+v: no label, or narrower than the downtime", b)
		}
	}

	p.do(chromedp.Reload())
	p.waitFor("live again after the reload", allDrawn+` && s.catchups.length > 0`, 20*time.Second)
	p.waitFor("both restart bands drawn", `s.bands.filter((b) => b.kind === "restart").length >= 2`, 10*time.Second)
	reloaded := p.restartBands()
	if !reflect.DeepEqual(live, reloaded) {
		t.Errorf("bands changed with a reload:\nlive     %+v\nreloaded %+v", live, reloaded)
	}
	for _, b := range p.snap().Bands {
		if b.Kind == "offline" {
			t.Errorf("a restart drawn as an outage after the reload: %+v", b)
		}
	}
}
