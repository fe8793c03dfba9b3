package e2e

// A host of a --redis fleet that stops publishing is offline on its own
// page, as the server says: the badge, the "Now" line, a moving axis and a
// growing band, also after a reload; when it starts again the band is the
// server's "restarted" one, before and after a reload alike.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vitals/internal/redistest"
)

// statusSnap is the part of window.vitals.snapshot() these tests read.
type statusSnap struct {
	State    string `json:"state"`
	Badge    string `json:"badge"`
	Summary  string `json:"summary"`
	HostDown *struct {
		Since int64 `json:"since"`
	} `json:"hostDown"`
	NewestT int64  `json:"newestT"`
	Bands   []band `json:"bands"`
}

func (p *page) statusSnap() statusSnap {
	p.t.Helper()
	return pageSnapshot[statusSnap](p)
}

// pendingBand is the open band of s, the zero band when there is none.
func (s statusSnap) pendingBand() band {
	for _, b := range s.Bands {
		if b.Kind == "pending" {
			return b
		}
	}
	return band{}
}

func TestRedisBrowserSilentHostIsOfflineOnItsPage(t *testing.T) {
	chromiumPath(t)
	srv := redistest.Start(t)
	a := startVitals(t, t.TempDir(), "--redis", srv.URL, "--name", "a", "--interval", "200ms")
	b := startVitals(t, t.TempDir(), "--redis", srv.URL, "--name", "b", "--interval", "300ms")

	p := newPage(t)
	p.do(chromedp.Navigate(a.URL + "/?host=b"))
	p.waitFor("b live on a's server", allDrawn+` && s.host === "b" && s.helloHost === "b" && s.live >= 10`, 20*time.Second)
	if s := p.statusSnap(); s.HostDown != nil || s.Badge != "Live" || !strings.HasPrefix(s.Summary, "Now: ") {
		t.Fatalf("b live: %+v", s)
	}

	b.Kill9(t)
	// The server's rule: three intervals plus 2 s after b's newest tick.
	offline := `s.state === "live" && s.hostDown && s.badge.startsWith("Offline since") && s.badge.includes("host not publishing")` +
		` && s.summary.startsWith("Offline; last values") && s.bands.some((b) => b.kind === "pending")`
	p.waitFor("b offline on its page", offline, 20*time.Second)
	first := p.statusSnap()
	if first.HostDown.Since != first.NewestT {
		t.Errorf("offline since %d, but b's newest sample is %d", first.HostDown.Since, first.NewestT)
	}
	// The axis keeps moving and the band grows, at least a second more.
	p.waitFor("the band to grow", fmt.Sprintf(`s.bands.some((b) => b.kind === "pending" && b.to >= %d)`, first.pendingBand().To+1000), 10*time.Second)

	// A reload while b is still silent: offline again right after the
	// catch-up, from the server's word, not from the page's timers.
	p.do(chromedp.Reload())
	p.waitFor("b offline after a reload", offline+` && s.host === "b"`, 20*time.Second)
	// Longer than the page's 20 s stale-stream limit: the status repeated
	// in place of the heartbeat keeps it from reconnecting.
	// Polled on the page's clock, and over at once if it reconnects.
	reconnects := p.snap().Reconnects
	pageEval[bool](p, `(window.__silentMark = performance.now(), true)`)
	p.waitFor("22 s of the silent host's stream", fmt.Sprintf(`performance.now() - window.__silentMark >= 22000 || s.reconnects !== %d || s.state !== "live"`, reconnects), 60*time.Second)
	if s := p.snap(); s.Reconnects != reconnects || s.State != "live" {
		t.Errorf("the stream of a silent host reconnected: %d -> %d reconnects, state %s", reconnects, s.Reconnects, s.State)
	}
	if s := p.statusSnap(); s.HostDown == nil {
		t.Errorf("offline lost while b is still silent: %+v", s)
	}
	screenshot(t, p, "host-offline.png")

	// b starts again: Live, and the span is the server's restart band,
	// the same after a reload.
	b = b.Restart(t)
	p.waitFor("b live again", `s.state === "live" && !s.hostDown && s.badge === "Live" && s.summary.startsWith("Now: ")`+
		` && s.bands.some((b) => b.kind === "restart")`, 20*time.Second)
	before := p.restartBands()
	p.do(chromedp.Reload())
	p.waitFor("b after a reload", allDrawn+` && s.host === "b" && !s.hostDown && s.bands.some((b) => b.kind === "restart")`, 20*time.Second)
	if after := p.restartBands(); len(before) == 0 || fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("restart bands changed with a reload:\nbefore %+v\nafter  %+v", before, after)
	}
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestRedisBrowserFleetIsLive: the fleet table moves with the stream, the
// row of the host shown reads what its "Now" line reads, and the columns
// hold still while the numbers change.
func TestRedisBrowserFleetIsLive(t *testing.T) {
	chromiumPath(t)
	srv := redistest.Start(t)
	a := startVitals(t, t.TempDir(), "--redis", srv.URL, "--name", "a", "--interval", "200ms")
	startVitals(t, t.TempDir(), "--redis", srv.URL, "--name", "b", "--interval", "300ms")

	p := newPage(t)
	p.do(chromedp.Navigate(a.URL + "/"))
	p.waitFor("the fleet streamed", allDrawn+` && s.fleet.shown && s.fleet.rows.length === 2 && s.fleet.streamed >= 3`, 20*time.Second)

	type look struct {
		Polls, Streamed int
		Summary         string
		Cells           []string // the shown host's CPU, memory, load
		OtherT          int64
		Widths          []float64
	}
	read := func() look {
		l, err := chromedp.Run(p.ctx, chromedp.Evaluate[look](`(() => {
			const s = window.vitals.snapshot();
			const row = s.fleet.rows.find((r) => r.current);
			const other = s.fleet.rows.find((r) => !r.current);
			const widths = [...document.querySelectorAll("#fleet thead th")].map((th) => th.getBoundingClientRect().width);
			return {Polls: s.fleet.polls, Streamed: s.fleet.streamed, Summary: s.summary, Cells: [row.cells[1], row.cells[2], row.cells[3]],
				OtherT: other.t, Widths: widths};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	first := read()
	others := map[int64]bool{}
	var last look
	for i := range 15 {
		l := read()
		// One frame draws both, from the same event.
		if !strings.Contains(l.Summary, "CPU "+l.Cells[0]) || !strings.Contains(l.Summary, "load "+l.Cells[2]) {
			t.Errorf("read %d: the row says CPU %q, load %q; the Now line %q", i, l.Cells[0], l.Cells[2], l.Summary)
		}
		if fmt.Sprint(l.Widths) != fmt.Sprint(first.Widths) {
			t.Errorf("read %d: column widths moved: %v, first %v", i, l.Widths, first.Widths)
		}
		others[l.OtherT] = true
		last = l
		// The next read after a new tick of b.
		eventually(t, "a tick of b", 10*time.Second, func() bool { return read().OtherT != l.OtherT })
	}
	if last.Polls != 1 {
		t.Errorf("%d polls of /api/fleet: the stream should keep the rows after the first", last.Polls)
	}
	if last.Streamed <= first.Streamed || len(others) < 2 {
		t.Errorf("b's row did not move with the stream: %d -> %d fleet events, b's newest sample read %v", first.Streamed, last.Streamed, others)
	}
}
