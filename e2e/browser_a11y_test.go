package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chartA11y is what a screen reader and a keyboard user get from one
// chart.
type chartA11y struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Tab      int    `json:"tab"`
	Focused  bool   `json:"focused"`
	Said     string `json:"said"`
	Live     string `json:"live"`
	TipShown bool   `json:"tipShown"`
	TipTime  string `json:"tipTime"`
	Points   int    `json:"points"`
	Cursor   *int   `json:"cursor"`
}

func (p *page) chartA11y(id string) chartA11y {
	p.t.Helper()
	return pageEval[chartA11y](p, fmt.Sprintf(`(() => {
		const card = document.querySelector('[data-chart=%q]');
		const plot = card.querySelector("[data-plot]");
		const region = card.querySelector("[data-announce]");
		const tip = card.querySelector(".tip");
		return {
			name: plot.getAttribute("aria-label") || "", role: plot.getAttribute("role") || "", tab: plot.tabIndex,
			focused: document.activeElement === plot,
			said: region ? region.textContent : "", live: region ? region.getAttribute("aria-live") : "",
			tipShown: !!tip && !tip.hidden, tipTime: tip && tip.firstChild ? tip.firstChild.textContent : "",
			points: window.vitals.snapshot().drawn[%q] || 0,
			cursor: window.vitals.snapshot().cursors[%q],
		};
	})()`, id, id, id))
}

// TestBrowserChartKeyboard checks item by item what a keyboard and a screen
// reader get: every chart has a name and takes focus, the arrow keys,
// Page Up/Down, Home and End move the cursor (the tooltip shows where), and
// a polite live region says the values under it, the newest move last.
func TestBrowserChartKeyboard(t *testing.T) {
	p := newPage(t)
	srv := startVitals(t, t.TempDir())
	p.openLive(srv.URL, 20)

	for _, id := range []string{"cpu", "cores", "memory", "load", "disk", "network"} {
		c := p.chartA11y(id)
		if c.Name == "" || c.Tab != 0 || c.Role != "application" || c.Live != "polite" {
			t.Errorf("%s chart: name %q, tabIndex %d, role %q, live region %q", id, c.Name, c.Tab, c.Role, c.Live)
		}
	}

	p.waitFor("forty samples to move over", `s.drawn.cpu >= 40`, 30*time.Second)
	// Hold still, so each key's index is known.
	p.do(chromedp.Click(chromedp.ID("pause")))
	p.waitFor("paused", `s.paused`, 5*time.Second)
	p.do(chromedp.Focus(chromedp.CSS(`[data-chart="cpu"] [data-plot]`)))
	said := regexp.MustCompile(`^CPU at (\d\d:\d\d:\d\d): total [0-9.]+ %, user `)
	step := func(key, name string) chartA11y {
		t.Helper()
		p.do(chromedp.KeyEvent(key))
		// The announcement waits out the rate limit: poll until it names
		// the time the tooltip shows.
		var c chartA11y
		eventually(t, name+" announced", 10*time.Second, func() bool {
			c = p.chartA11y("cpu")
			m := said.FindStringSubmatch(c.Said)
			return c.TipShown && m != nil && strings.HasSuffix(c.TipTime, m[1])
		})
		return c
	}
	// The window holds no gaps here, so each key's index is known.
	at := func(c chartA11y) int {
		if c.Cursor == nil {
			t.Fatalf("no cursor shown: %+v", c)
		}
		return *c.Cursor
	}
	end := step(kb.End, "End")
	n := end.Points
	if !end.Focused || at(end) != n-1 {
		t.Fatalf("End: focused %v, cursor at %d of %d", end.Focused, at(end), n)
	}
	if c := step(kb.ArrowLeft, "ArrowLeft"); at(c) != n-2 {
		t.Errorf("ArrowLeft from %d went to %d", n-1, at(c))
	}
	if c := step(kb.Home, "Home"); at(c) != 0 {
		t.Errorf("Home went to %d", at(c))
	}
	page := max(1, (n+5)/10)
	if c := step(kb.PageDown, "PageDown"); at(c) != page {
		t.Errorf("PageDown from 0 went to %d, want %d of %d", at(c), page, n)
	}
	// Several keys in a row: the region ends on the last position.
	for range 5 {
		p.do(chromedp.KeyEvent(kb.ArrowRight))
	}
	c := step(kb.ArrowRight, "ArrowRight x6")
	if at(c) != page+6 {
		t.Errorf("six ArrowRight from %d went to %d", page, at(c))
	}
	if c := step(kb.PageUp, "PageUp"); at(c) != 6 {
		t.Errorf("PageUp from %d went to %d", page+6, at(c))
	}
	t.Logf("%d points; the region says %q", n, c.Said)

	p.do(chromedp.KeyEvent(kb.Escape))
	eventually(t, "Escape lets go of the cursor", 5*time.Second, func() bool { return !p.chartA11y("cpu").TipShown })
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
