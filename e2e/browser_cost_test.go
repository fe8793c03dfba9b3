package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// costSnap is the part of window.vitals.snapshot() about the page's own
// work.
type costSnap struct {
	Live        int              `json:"live"`
	Frames      int              `json:"frames"`
	Redraws     map[string]int   `json:"redraws"`
	Drawn       map[string]int   `json:"drawn"`
	Points      map[string]int   `json:"points"`
	NewestT     int64            `json:"newestT"`
	DrawnNewest map[string]int64 `json:"drawnNewest"`
	Visibility  string           `json:"visibility"`
}

// lifecycle puts the tab in a web lifecycle state: "frozen" hides it and
// stops its tasks; "active" lets them run again, the tab still hidden.
func (p *page) lifecycle(state cdppage.SetWebLifecycleStateState) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Call(ctx, cdppage.SetWebLifecycleState, cdppage.SetWebLifecycleStateParams{State: state})
		return chromedp.Void{}, err
	}); err != nil {
		p.t.Fatalf("set lifecycle %s: %v", state, err)
	}
}

// TestBrowserDrawsOnlyWhatChanged checks the page's own cost: the
// once-a-second frame (badge, clock) redraws no chart whose topic got no
// event, and a hidden tab draws nothing while the stream goes on, then
// draws exactly what it holds when shown again.
func TestBrowserDrawsOnlyWhatChanged(t *testing.T) {
	p := newPage(t)
	// Samples every 2 s: between two, the page's one-second frames come
	// with nothing new to draw.
	srv := startVitals(t, t.TempDir(), "--interval", "2s")
	p.do(chromedp.Navigate(srv.URL + "/"))
	p.waitFor("the page to be live", allDrawn+` && s.live >= 5`, 30*time.Second)

	read := func() costSnap { return pageSnapshot[costSnap](p) }
	a := read()
	p.waitFor("four more ticks", fmt.Sprintf(`s.ticks.length >= %d`, len(p.snap().Ticks)+4), 30*time.Second)
	b := read()
	ticks := b.Points["cpu"] - a.Points["cpu"]
	frames := b.Frames - a.Frames
	for id, n := range b.Redraws {
		if _, shown := b.Drawn[id]; !shown {
			// A topic the host lacks: its hidden chart costs nothing.
			if got := n - a.Redraws[id]; got != 0 {
				t.Errorf("hidden %s chart redrawn %d times", id, got)
			}
			continue
		}
		if got := n - a.Redraws[id]; got > ticks+1 {
			t.Errorf("%s chart redrawn %d times for %d new samples (%d frames)", id, got, ticks, frames)
		}
	}
	if frames <= b.Redraws["cpu"]-a.Redraws["cpu"] {
		t.Errorf("%d frames, %d CPU chart redraws: the one-second frames should have drawn no chart", frames, b.Redraws["cpu"]-a.Redraws["cpu"])
	}
	t.Logf("%d new samples: %d frames, redraws %v -> %v", ticks, frames, a.Redraws, b.Redraws)

	// Hidden: the stream goes on, nothing is drawn.
	p.lifecycle(cdppage.SetWebLifecycleStateStateFrozen)
	p.lifecycle(cdppage.SetWebLifecycleStateStateActive)
	h := read()
	if h.Visibility != "hidden" {
		t.Fatalf("the tab is %q after freezing, want hidden", h.Visibility)
	}
	p.waitFor("events while hidden", fmt.Sprintf(`s.live >= %d`, h.Live+3*5), 60*time.Second)
	h2 := read()
	if h2.Frames != h.Frames || fmt.Sprint(h2.Redraws) != fmt.Sprint(h.Redraws) {
		t.Errorf("hidden tab drew: frames %d -> %d, redraws %v -> %v", h.Frames, h2.Frames, h.Redraws, h2.Redraws)
	}
	// Shown again (the protocol has no "show": the page is told as a
	// browser tells it), it draws at once exactly what it holds.
	// Read in the same task as the show: an event arriving after it would
	// wait for an animation frame the still-hidden tab never gets.
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[costSnap](`(() => {
		Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
		document.dispatchEvent(new Event("visibilitychange"));
		return window.vitals.snapshot();
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Frames <= h2.Frames {
		t.Errorf("shown again: no frame drawn (%d -> %d)", h2.Frames, s.Frames)
	}
	var stale []string
	for id, newest := range s.DrawnNewest {
		if _, shown := s.Drawn[id]; !shown || id == "temperatures" || id == "gpu" {
			continue
		}
		if newest != s.NewestT {
			stale = append(stale, fmt.Sprintf("%s at %d", id, newest))
		}
	}
	if len(stale) > 0 {
		t.Errorf("shown again, charts not at the newest sample %d: %s", s.NewestT, strings.Join(stale, ", "))
	}
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestBrowserDrawsAFramePerTick counts the dashboard's frames against the
// ticks it was sent, at the default 1 s interval: a tick (its events and
// the fleet's rows) is drawn in one frame, and the page's timer adds none
// while the ticks come. The page drew three a tick before (the tick, the
// fleet rows at their own timer's phase, the badge's timer). The bound
// allows one timer frame a second besides the tick's: a timer firing in
// the same instant as a late tick may still draw just before it.
func TestBrowserDrawsAFramePerTick(t *testing.T) {
	p := newPage(t)
	srv := startVitals(t, t.TempDir(), "--interval", "1s")
	p.do(chromedp.Navigate(srv.URL + "/"))
	p.waitFor("the page to be live", allDrawn+` && s.live >= 3`, 30*time.Second)
	read := func() costSnap { return pageSnapshot[costSnap](p) }
	a := read()
	p.waitFor("ten more ticks", fmt.Sprintf(`s.points.cpu >= %d`, a.Points["cpu"]+10), 60*time.Second)
	b := read()
	ticks := b.Points["cpu"] - a.Points["cpu"]
	frames := b.Frames - a.Frames
	t.Logf("%d ticks drawn in %d frames", ticks, frames)
	if frames > 2*ticks+1 {
		t.Errorf("%d frames for %d ticks: more than the tick's frame and the timer's", frames, ticks)
	}
	if frames < ticks/2 {
		t.Errorf("%d frames for %d ticks: ticks left undrawn", frames, ticks)
	}
}
