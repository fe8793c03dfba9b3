package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// viewState is what a person sees hold still or move: the "Now" line, the
// badge, what each chart has drawn, and the pause counters.
type viewState struct {
	Summary     string           `json:"summary"`
	Badge       string           `json:"badge"`
	BadgeSub    string           `json:"badgeSub"`
	Paused      bool             `json:"paused"`
	Waiting     int              `json:"waiting"`
	Live        int              `json:"live"`
	NewestT     int64            `json:"newestT"`
	Drawn       map[string]int   `json:"drawn"`
	Points      map[string]int   `json:"points"`
	DrawnNewest map[string]int64 `json:"drawnNewest"`
	Redraws     map[string]int   `json:"redraws"`
	Frames      int              `json:"frames"`
	// Records is how many alert records the page keeps: they are applied
	// as they come, paused or not, so they never wait.
	Records int
	Units   map[string]string
	Toggles map[string]string
	Values  map[string]string
	Search  string
}

func (p *page) viewState() viewState {
	p.t.Helper()
	return pageEval[viewState](p, `(() => {
		const s = window.vitals.snapshot();
		const text = (sel) => (document.querySelector(sel) || {}).textContent || "";
		return { ...s,
			summary: text("#summary"), badge: text("#badge"), badgeSub: text("#badge-sub"),
			Units: s.units,
			Records: s.alerts ? s.alerts.records : 0,
			Toggles: Object.fromEntries([...document.querySelectorAll("[data-unit-toggle]")].map((b) => [b.dataset.unitToggle, b.textContent])),
			Values: Object.fromEntries(["network", "memory"].map((id) => [id, text('[data-chart="' + id + '"] [data-values]')])),
			Search: location.search,
		};
	})()`)
}

// TestBrowserPauseHoldsTheView checks Pause: the whole view holds still
// (charts, the "Now" line), the badge says Paused with the live count of
// events waiting, and Resume draws every one of them.
func TestBrowserPauseHoldsTheView(t *testing.T) {
	p := newPage(t)
	srv := startVitals(t, t.TempDir())
	p.openLive(srv.URL, 10)

	p.do(chromedp.Click(chromedp.ID("pause")))
	p.waitFor("paused", `s.paused`, 5*time.Second)
	held := p.viewState()
	p.waitFor("events to wait", fmt.Sprintf(`s.waiting >= 25 && s.live >= %d`, held.Live+25), 30*time.Second)
	v := p.viewState()
	if v.Summary != held.Summary {
		t.Errorf("the Now line moved while paused: %q -> %q", held.Summary, v.Summary)
	}
	for id, n := range held.Drawn {
		if v.Drawn[id] != n || v.DrawnNewest[id] != held.DrawnNewest[id] || v.Redraws[id] != held.Redraws[id] {
			t.Errorf("%s chart moved while paused: %d points to %d, newest %d to %d", id, n, v.Drawn[id], held.DrawnNewest[id], v.DrawnNewest[id])
		}
	}
	// The badge is as of the last frame: a count at most the newest.
	var shown int
	if _, err := fmt.Sscanf(v.BadgeSub, "%d events waiting", &shown); v.Badge != "Paused" || err != nil || shown < 1 || shown > v.Waiting {
		t.Errorf("badge %q / %q with %d waiting", v.Badge, v.BadgeSub, v.Waiting)
	}
	// The count is what the stream delivered since the pause, read in the
	// same snapshot.
	if arrived := v.Live - held.Live - (v.Records - held.Records); v.Waiting != arrived {
		t.Errorf("%d events waiting, %d metric events arrived since the pause (%d alert records besides)",
			v.Waiting, arrived, v.Records-held.Records)
	}

	p.do(chromedp.Click(chromedp.ID("pause")))
	// Resume draws in the next frame: wait for it, not for the click.
	p.waitFor("live again and drawn", `!s.paused && s.state === "live" && s.drawnNewest.cpu === s.newestT && s.frames > `+fmt.Sprint(v.Frames), 10*time.Second)
	r := p.viewState()
	if r.Badge == "Paused" || r.Summary == held.Summary {
		t.Errorf("after Resume: badge %q, Now line %q", r.Badge, r.Summary)
	}
	for id := range held.Drawn {
		if id == "temperatures" || id == "gpu" {
			continue
		}
		// Every sample that waited is drawn, the newest included (more
		// may have come since).
		if r.DrawnNewest[id] < v.NewestT || r.Drawn[id] < v.Points[topicOf(id)] {
			t.Errorf("%s after Resume: newest drawn %d, %d waited; %d points drawn, %d held", id, r.DrawnNewest[id], v.NewestT, r.Drawn[id], v.Points[topicOf(id)])
		}
	}
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// topicOf is the topic a dashboard chart draws.
func topicOf(chart string) string {
	if chart == "cores" {
		return "cpu"
	}
	return chart
}

// TestBrowserUnitToggles checks the unit toggles: network in bits/s by
// default and bytes/s on a press, memory in bytes and % of total; the
// chart, its values and the Now line follow, the address and the browser
// keep the choice, and a reload shows it again.
func TestBrowserUnitToggles(t *testing.T) {
	p := newPage(t)
	srv := startVitals(t, t.TempDir())
	p.openLive(srv.URL, 10)

	bits := regexp.MustCompile(`network in [0-9.]+ [kMGT]?bit/s, out [0-9.]+ [kMGT]?bit/s`)
	bytes := regexp.MustCompile(`network in [0-9.]+ [KMGT]?i?B/s, out [0-9.]+ [KMGT]?i?B/s`)
	memBytes := regexp.MustCompile(`memory [0-9.]+ [KMGT]?i?B of `)
	memPct := regexp.MustCompile(`memory [0-9.]+ % of `)

	v := p.viewState()
	if v.Units["network"] != "bits" || v.Units["memory"] != "bytes" || v.Toggles["network"] != "bits/s" || v.Toggles["memory"] != "bytes" {
		t.Fatalf("defaults: units %v, toggles %v", v.Units, v.Toggles)
	}
	if !bits.MatchString(v.Summary) || !memBytes.MatchString(v.Summary) || !strings.Contains(v.Values["network"], "bit/s") {
		t.Errorf("defaults read %q; network values %q", v.Summary, v.Values["network"])
	}

	p.do(chromedp.Click(chromedp.CSS(`[data-unit-toggle="network"]`)))
	p.do(chromedp.Click(chromedp.CSS(`[data-unit-toggle="memory"]`)))
	p.waitFor("the new units drawn", `s.units.network === "bytes" && s.units.memory === "percent" && s.drawn.network > 0 && s.drawn.memory > 0`, 5*time.Second)
	eventually(t, "the Now line in the new units", 5*time.Second, func() bool {
		v = p.viewState()
		return bytes.MatchString(v.Summary) && memPct.MatchString(v.Summary)
	})
	if v.Toggles["network"] != "bytes" || v.Toggles["memory"] != "% of total" {
		t.Errorf("toggles read %v", v.Toggles)
	}
	if strings.Contains(v.Values["network"], "bit/s") || !strings.Contains(v.Values["network"], "B/s") || !strings.Contains(v.Values["memory"], "%") {
		t.Errorf("chart values: network %q, memory %q", v.Values["network"], v.Values["memory"])
	}
	if v.Search != "?network=bytes&memory=percent" && v.Search != "?memory=percent&network=bytes" {
		t.Errorf("address keeps %q", v.Search)
	}

	// A reload of the plain address shows the browser's last choice.
	p.do(chromedp.Navigate(srv.URL + "/"))
	p.waitFor("the page again", allDrawn, 15*time.Second)
	if v := p.viewState(); v.Units["network"] != "bytes" || v.Units["memory"] != "percent" {
		t.Errorf("after a reload: %v", v.Units)
	}
	// The address wins over what the browser kept.
	p.do(chromedp.Navigate(srv.URL + "/?network=bits"))
	p.waitFor("the page from the address", allDrawn+` && s.units.network === "bits"`, 15*time.Second)
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
