package e2e

// The host picker and the fleet overview in a real browser, on two vitals
// processes publishing hosts a and b into a real redis-server. Locally a
// missing redis-server or Chromium skips it; with CI=true it fails.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"vitals/history/redisstream"
	"vitals/internal/redistest"
)

// fleetSnap is the fleet part of window.vitals.snapshot().
type fleetSnap struct {
	Host      string `json:"host"`
	HelloHost string `json:"helloHost"`
	Fleet     struct {
		Polls  int  `json:"polls"`
		Shown  bool `json:"shown"`
		Picker []struct {
			Value string `json:"value"`
			Label string `json:"label"`
		} `json:"picker"`
		Selected string `json:"selected"`
		Rows     []struct {
			Host        string   `json:"host"`
			Live        bool     `json:"live"`
			Current     bool     `json:"current"`
			Cells       []string `json:"cells"`
			SparkPoints int      `json:"sparkPoints"`
		} `json:"rows"`
	} `json:"fleet"`
}

func (p *page) fleetSnap() fleetSnap {
	p.t.Helper()
	return pageSnapshot[fleetSnap](p)
}

func TestRedisBrowserHostPickerAndFleet(t *testing.T) {
	chromiumPath(t) // skip before starting anything when there is no browser
	srv := redistest.Start(t)
	rc := srv.Client(t)
	// Different intervals tell the hosts apart on the page: a's samples are
	// 200 ms apart, b's 300 ms, and hello carries each host's interval.
	a := startVitals(t, t.TempDir(), "--redis", srv.URL, "--name", "a", "--interval", "200ms")
	b := startVitals(t, t.TempDir(), "--redis", srv.URL, "--name", "b", "--interval", "300ms")

	p := newPage(t)
	p.do(chromedp.Navigate(a.URL + "/"))
	p.waitFor("host a drawn", allDrawn+` && s.host === "a" && s.helloHost === "a" && s.intervalMs === 200`, 15*time.Second)
	p.waitFor("the picker and the overview to list a and b",
		`s.fleet.shown && s.fleet.picker.map((o) => o.value).join() === "a,b" && s.fleet.rows.map((r) => r.host).join() === "a,b"`+
			` && s.fleet.rows.every((r) => r.live && r.sparkPoints > 1 && r.cells[1] !== "—")`, 15*time.Second)
	fs := p.fleetSnap()
	if fs.Fleet.Selected != "a" || !fs.Fleet.Rows[0].Current || fs.Fleet.Rows[1].Current {
		t.Errorf("before the switch: %+v", fs.Fleet)
	}
	t.Logf("fleet rows: %+v", fs.Fleet.Rows)

	// Switch with the keyboard, as a person without a mouse would.
	p.do(chromedp.Focus("#host-pick"), chromedp.KeyEvent(kb.ArrowDown))
	p.waitFor("the charts to follow b",
		allDrawn+` && s.host === "b" && s.helloHost === "b" && s.intervalMs === 300 && s.live >= 10 && s.ticks.length >= 10`, 15*time.Second)
	search, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`location.search`))
	if err != nil || search != "?host=b" {
		t.Errorf("address after the switch: %q %v", search, err)
	}
	s := p.snap()
	// Every sample drawn now is b's: 300 ms apart (a sample of a would sit
	// 200 ms from its neighbour), and the newest id is in b's stream.
	if len(s.Ticks) < 10 {
		t.Fatalf("only %d ticks drawn for b", len(s.Ticks))
	}
	for i := 1; i < len(s.Ticks); i++ {
		if d := s.Ticks[i] - s.Ticks[i-1]; d%300 != 0 {
			t.Fatalf("samples %d ms apart: not all from b (ticks %v)", d, s.Ticks)
		}
	}
	if n, err := rc.XRange(context.Background(), redisstream.StreamKey("b"), s.LastID, s.LastID).Result(); err != nil || len(n) != 1 {
		t.Errorf("last id %s is not in b's stream: %v %v", s.LastID, n, err)
	}
	fs = p.fleetSnap()
	if fs.Fleet.Selected != "b" || fs.Fleet.Rows[0].Current || !fs.Fleet.Rows[1].Current {
		t.Errorf("after the switch: %+v", fs.Fleet)
	}
	screenshot(t, p, "fleet.png")

	// A reload keeps b (the address names it) and resumes from b's own
	// stored position.
	p.do(chromedp.Reload())
	p.waitFor("b again after a reload", allDrawn+` && s.host === "b" && s.helloHost === "b" && s.catchups.length > 0`, 15*time.Second)
	s = p.snap()
	if c := s.Catchups[0]; !c.Complete || c.After == "" {
		t.Errorf("reload did not resume b from its position: %+v", c)
	}
	pos, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](
		`[localStorage.getItem("vitals.position.a") || "", localStorage.getItem("vitals.position.b") || ""]`))
	if err != nil || pos[0] == "" || pos[1] == "" {
		t.Errorf("positions stored per host: %q %v", pos, err)
	}

	// Back to a with the back button.
	p.do(chromedp.NavigateBack())
	p.waitFor("a after going back", allDrawn+` && s.host === "a" && s.helloHost === "a"`, 15*time.Second)

	// b stops: the overview and the picker mark it offline (three missed
	// ticks plus 2 s, then the next poll).
	b.Kill9(t)
	p.waitFor("b marked offline",
		`s.fleet.rows.length === 2 && !s.fleet.rows[1].live && s.fleet.rows[0].live && s.fleet.picker[1].label === "b (offline)"`,
		20*time.Second)
	fs = p.fleetSnap()
	if st := fs.Fleet.Rows[1].Cells[0]; !strings.HasPrefix(st, "offline since ") {
		t.Errorf("b's status reads %q", st)
	}
	screenshot(t, p, "fleet-offline.png")
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
