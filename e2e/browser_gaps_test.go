package e2e

// Browser tests of the two honest-about-loss paths the other browser tests
// don't reach: a catch-up the server can no longer serve in full, and an
// outage long enough for the badge to say "Offline since".

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// serverHolds reports whether the server still has every event after id:
// /api/history?after= answers complete:false once the events after it were
// evicted.
func serverHolds(t *testing.T, base, id string) bool {
	t.Helper()
	resp, err := http.Get(base + "/api/history?limit=1&after=" + url.QueryEscape(id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Complete bool `json:"complete"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h.Complete
}

func TestBrowserIncompleteCatchup(t *testing.T) {
	p := newPage(t)
	// History is lost by size here, not by age: the smallest byte cap holds
	// some seconds of 200 ms ticks, while the 30 s retention sets a 30 s
	// window. Lost by age, the span missed would always lie left of the
	// window (it is the outage minus the retention, and the window is the
	// retention), so no band could be seen.
	srv := startVitals(t, t.TempDir(), "--history", "30s", "--history-bytes", "64KiB")
	// A stream of this tab's own: the browser's shared stream would keep
	// running while this tab is disconnected, and its window would bridge
	// the loss this test is about (the server's incomplete catch-up).
	p.do(chromedp.Navigate(srv.URL + "/?share=off"))
	p.waitFor("the page to be live", allDrawn+` && s.live >= 25`, 10*time.Second)

	p.disconnect()
	before := p.snap()
	// Stay away until the server has evicted what came after our id, then
	// 3 s longer so the loss is wide enough to see.
	deadline := time.Now().Add(20 * time.Second)
	for serverHolds(t, srv.URL, before.LastID) {
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s the server still holds everything after %s", before.LastID)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)

	reconnected := time.Now()
	s, c := p.reconnect(before.LastID)
	if c.Complete || c.Reason != "expired" || c.Count == 0 {
		t.Errorf("catch-up after the eviction: %+v, want incomplete (expired) with events", c)
	}
	// The indicator says plainly that history was not retained.
	if !replayedLine.MatchString(s.CatchupText) ||
		!strings.Contains(s.CatchupText, "History kept only from ") ||
		!strings.Contains(s.CatchupText, " not retained.") ||
		!strings.HasSuffix(s.CatchupText, "(expired)") {
		t.Errorf("catch-up indicator says %q", s.CatchupText)
	}
	t.Logf("catch-up indicator: %q", s.CatchupText)

	// One band marks the lost span: from the last sample before the
	// disconnect to the first one the server still had.
	var lost []band
	for _, b := range s.Bands {
		if b.Kind == "lost" {
			lost = append(lost, b)
		}
	}
	if len(lost) != 1 {
		t.Fatalf("want one lost band, got %+v", s.Bands)
	}
	b := lost[0]
	if b.From != before.NewestT || b.To <= b.From+s.IntervalMS || b.To > reconnected.UnixMilli() {
		t.Errorf("lost band %+v: want from %d (the last sample before the disconnect) to before %d", b, before.NewestT, reconnected.UnixMilli())
	}
	// The charts draw what arrived on both sides of it.
	var left, right int
	for _, tk := range s.Ticks {
		if tk <= b.From {
			left++
		}
		if tk >= b.To {
			right++
		}
	}
	if left == 0 || right == 0 {
		t.Errorf("samples: %d before the band, %d after it", left, right)
	}
	for id, n := range s.Drawn {
		if n == 0 {
			t.Errorf("%s chart draws nothing", id)
		}
	}
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	screenshot(t, p, "catchup-incomplete.png")
}

func TestBrowserOfflineSince(t *testing.T) {
	p := newPage(t)
	srv := startVitals(t, t.TempDir())
	p.openLive(srv.URL, 0)

	killed := time.Now()
	srv.Kill9(t)
	p.waitFor("Reconnecting", `s.badge.startsWith("Reconnecting")`, 5*time.Second)
	// The threshold is stream.js's OFFLINE_AFTER_MS (15 s): waited for as
	// is, rather than given a test-only knob on the page.
	p.waitFor("Offline since", `s.state === "offline"`, 20*time.Second)
	s := p.snap()

	var reconnectingAt, offlineAt int64
	for _, st := range s.States {
		if st.At < killed.UnixMilli() {
			continue
		}
		switch {
		case st.State == "reconnecting" && reconnectingAt == 0:
			reconnectingAt = st.At
		case st.State == "offline" && offlineAt == 0:
			offlineAt = st.At
		}
	}
	if reconnectingAt == 0 || offlineAt == 0 {
		t.Fatalf("states after the kill: %+v", s.States)
	}
	if d := offlineAt - reconnectingAt; d < 15000 || d > 17000 {
		t.Errorf("Offline since came %d ms after Reconnecting, want 15 s (plus at most the 1 s tick)", d)
	}
	// The outage starts at the first failure, which is when the badge
	// turned to Reconnecting (within the same few ms).
	since := strings.TrimPrefix(s.Badge, "Offline since ")
	want := []string{time.UnixMilli(reconnectingAt).Format("15:04:05"), time.UnixMilli(reconnectingAt - 100).Format("15:04:05")}
	if !strings.HasPrefix(since, want[0]+" ") && !strings.HasPrefix(since, want[1]+" ") {
		t.Errorf("badge %q, want Offline since %s", s.Badge, want[0])
	}
	if !strings.HasSuffix(s.Badge, " s") && !strings.HasSuffix(s.Badge, "trying now") {
		t.Errorf("badge %q does not say when the next try is", s.Badge)
	}
	t.Logf("badge %q, %v after the kill", s.Badge, time.Since(killed).Round(time.Millisecond))
}
