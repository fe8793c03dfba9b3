package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

type breakdownSnap struct {
	Search     string `json:"search"`
	Breakdowns map[string]struct {
		Open   bool     `json:"open"`
		Names  []string `json:"names"`
		Drawn  int      `json:"drawn"`
		Series int      `json:"series"`
	} `json:"breakdowns"`
	Note   string   `json:"note"`
	Labels []string `json:"labels"`
}

func (p *page) breakdownSnap() breakdownSnap {
	p.t.Helper()
	return pageEval[breakdownSnap](p, `(() => ({
		...window.vitals.snapshot(), search: location.search,
		note: (document.querySelector('[data-chart="network-interfaces"] .breakdown-note') || {}).textContent || "",
		labels: [...document.querySelectorAll('[data-chart="network-interfaces"] [data-values] .lbl')].map((e) => e.textContent),
	}))()`)
}

// TestBrowserBreakdowns opens the network totals by interface and the disk
// totals by device: each a chart with a line in and a line out per name,
// interface kinds named, kept in the address across a reload, closed again
// from the same button.
func TestBrowserBreakdowns(t *testing.T) {
	p := newPage(t)
	srv := startVitals(t, t.TempDir())
	p.openLive(srv.URL, 10)

	p.do(chromedp.Click(chromedp.CSS(`[data-breakdown="network"]`)))
	p.do(chromedp.Click(chromedp.CSS(`[data-breakdown="disk"]`)))
	p.waitFor("both breakdowns drawn", `s.breakdowns.network.open && s.breakdowns.network.drawn > 0 && s.breakdowns.network.names.length > 0`+
		` && s.breakdowns.disk.open && s.breakdowns.disk.drawn > 0 && s.breakdowns.disk.names.length > 0`, 15*time.Second)
	b := p.breakdownSnap()
	if b.Search != "?detail=network,disk" {
		t.Errorf("address after opening both: %q", b.Search)
	}
	for which, s := range b.Breakdowns {
		if s.Series != 2*len(s.Names) {
			t.Errorf("%s: %d series for names %v", which, s.Series, s.Names)
		}
	}
	// One line in and one out for each interface, the kinds named.
	net := b.Breakdowns["network"]
	if len(b.Labels) != 2*len(net.Names) || b.Labels[0] != net.Names[0]+" in" || b.Labels[1] != net.Names[0]+" out" {
		t.Errorf("network breakdown labels %v for %v", b.Labels, net.Names)
	}
	if !strings.Contains(b.Note, net.Names[0]+" ") {
		t.Errorf("kinds note %q does not name %s", b.Note, net.Names[0])
	}
	t.Logf("interfaces %v (%q), devices %v", net.Names, b.Note, b.Breakdowns["disk"].Names)

	// The address keeps them open.
	p.do(chromedp.Reload())
	p.waitFor("open after a reload", allDrawn+` && s.breakdowns.network.open && s.breakdowns.network.drawn > 0 && s.breakdowns.disk.open`, 15*time.Second)

	// Closed from the same button, and gone from the address.
	p.do(chromedp.Click(chromedp.CSS(`[data-breakdown="network"]`)))
	p.waitFor("network closed", `!s.breakdowns.network.open && s.breakdowns.disk.open`, 5*time.Second)
	if b := p.breakdownSnap(); b.Search != "?detail=disk" {
		t.Errorf("address after closing the network one: %q", b.Search)
	}
	screenshot(t, p, "breakdowns.png")
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
