package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vitals/internal/redistest"
)

// phoneLayout is what a phone's screen shows of the page's layout.
type phoneLayout struct {
	Header      float64        `json:"header"`
	ScrollWidth int            `json:"scrollWidth"`
	Width       int            `json:"width"`
	XLabels     map[string]int `json:"xLabels"`
	Overflowing []string       `json:"overflowing"`
}

func (p *page) phoneLayout() phoneLayout {
	p.t.Helper()
	return pageEval[phoneLayout](p, `(() => {
		const w = document.documentElement.clientWidth;
		// Elements reaching past the right edge of the screen (hidden ones
		// have no boxes and are skipped).
		const overflowing = [...document.querySelectorAll("body *")]
			.filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > w + 0.5 && !e.closest(".sr-only"); })
			.slice(0, 8).map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.split(" ").join(".") : ""));
		return {
			header: document.querySelector("header.top").getBoundingClientRect().height,
			scrollWidth: document.documentElement.scrollWidth, width: w,
			xLabels: window.vitals.snapshot().xLabels, overflowing,
		};
	})()`)
}

// TestBrowserPhoneLayout opens the dashboard on a 390 x 844 screen (an
// iPhone 12 to 15): a compact header, several time labels on the 5-minute
// charts, and nothing wider than the screen.
func TestBrowserPhoneLayout(t *testing.T) {
	p := newPageWith(t, chromedp.WindowSize(390, 844))
	srv := startVitals(t, t.TempDir())
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	p.openLive(srv.URL, 10)
	// Header on one screen: a fifth of a phone's height at most; it was
	// 190 px with the kernel string wrapping.
	const maxHeader = 844 / 5
	l := p.phoneLayout()
	screenshot(t, p, "phone-390.png")
	if l.Header > maxHeader {
		t.Errorf("header is %.0f px tall on a 390 px phone, want at most %d", l.Header, maxHeader)
	}
	if l.ScrollWidth > l.Width {
		t.Errorf("page scrolls sideways: %d px wide on a %d px screen; past the edge: %v", l.ScrollWidth, l.Width, l.Overflowing)
	}
	for _, id := range []string{"cpu", "memory", "load", "disk", "network"} {
		if l.XLabels[id] < 3 {
			t.Errorf("%s chart shows %d time labels on 5 minutes, want at least 3", id, l.XLabels[id])
		}
	}
	t.Logf("header %.0f px, %d/%d px wide, time labels %v", l.Header, l.ScrollWidth, l.Width, l.XLabels)
	p.waitFor("still live", `s.state === "live"`, 5*time.Second)
}

// TestRedisBrowserFleetOnPhone opens a fleet of two hosts on a 390 px
// screen: the overview is a list that fits, every host's every figure on
// screen, nothing scrolling sideways.
func TestRedisBrowserFleetOnPhone(t *testing.T) {
	chromiumPath(t)
	rs := redistest.Start(t)
	a := startVitals(t, t.TempDir(), "--redis", rs.URL, "--name", "a")
	startVitals(t, t.TempDir(), "--redis", rs.URL, "--name", "b")

	p := newPageWith(t, chromedp.WindowSize(390, 844))
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	p.do(chromedp.Navigate(a.URL + "/"))
	p.waitFor("the fleet of a and b", `s.fleet.shown && s.fleet.rows.length === 2 && s.fleet.rows.every((r) => r.live && r.cells[1] !== "—")`, 30*time.Second)
	type fit struct {
		Scroll, Client, Page, Width int
		Cells, Inside               int
		Out                         []string
	}
	f, err := chromedp.Run(p.ctx, chromedp.Evaluate[fit](`(() => {
		const box = document.querySelector("#fleet").getBoundingClientRect();
		const sc = document.querySelector(".fleet-scroll");
		const cells = [...document.querySelectorAll("#fleet-rows tr > *")];
		const out = cells.filter((c) => { const r = c.getBoundingClientRect(); return !(r.width > 0 && r.left >= box.left - 0.5 && r.right <= box.right + 0.5); })
			.map((c) => c.closest("tr").dataset.host + ":" + [...c.parentNode.children].indexOf(c) + " " + c.textContent);
		return { Scroll: sc.scrollWidth, Client: sc.clientWidth, Page: document.documentElement.scrollWidth,
			Width: document.documentElement.clientWidth, Cells: cells.length, Inside: cells.length - out.length, Out: out };
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, p, "fleet-phone-390.png")
	if f.Scroll > f.Client || f.Page > f.Width {
		t.Errorf("the fleet scrolls sideways: list %d/%d px, page %d/%d px", f.Scroll, f.Client, f.Page, f.Width)
	}
	if f.Cells != 14 || len(f.Out) > 0 {
		t.Errorf("%d of %d fleet cells on screen; outside: %v", f.Inside, f.Cells, f.Out)
	}
}
