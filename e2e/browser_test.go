package e2e

// Browser tests: the real binary, the real page, Debian's Chromium driven by
// chromedp. Locally a missing browser skips them; with CI=true it fails.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// replayedLine is the catch-up line after a resume that replayed events:
// how long the stream was away (and the server down, after a restart), then
// how many events came back and how fast.
var replayedLine = regexp.MustCompile(`^Back after [0-9.]+ (ms|s|min) away( \(server down [0-9.]+ (ms|s|min)\))?: [0-9]+ missed events? replayed in [0-9]+ ms`)

var updateScreenshots = flag.Bool("update", false, "refresh docs/screenshot.png and docs/screenshot-dark.png from the browser test")

// chromiumPath finds the browser, or skips (locally) or fails (CI=true).
func chromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (install Debian's chromium package: apt-get install chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg + "; skipping the browser tests")
	return ""
}

// snapshot is window.vitals.snapshot(), the page's read-only test hook.
type snapshot struct {
	State      string           `json:"state"`
	Badge      string           `json:"badge"`
	LastID     string           `json:"lastId"`
	Instance   string           `json:"instance"`
	Live       int              `json:"live"`
	CaughtUp   int              `json:"caughtUp"`
	Reconnects int              `json:"reconnects"`
	Catchups   []catchupSummary `json:"catchups"`
	Bands      []band           `json:"bands"`
	Ticks      []int64          `json:"ticks"`
	Points     map[string]int   `json:"points"`
	Drawn      map[string]int   `json:"drawn"`
	NewestT    int64            `json:"newestT"`
	IntervalMS int64            `json:"intervalMs"`
	States     []struct {
		State string `json:"state"`
		At    int64  `json:"at"`
	} `json:"states"`
	CatchupText string `json:"catchupText"`
}

type catchupSummary struct {
	After     string `json:"after"`
	Announced int    `json:"announced"`
	Count     int    `json:"count"`
	Head      string `json:"head"`
	Complete  bool   `json:"complete"`
	Reason    string `json:"reason"`
	MS        int64  `json:"ms"`
}

type band struct {
	From int64  `json:"from"`
	To   int64  `json:"to"`
	Kind string `json:"kind"`
}

// page is one Chromium tab with its console recorded.
type page struct {
	t   testing.TB
	ctx context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage // guarded by mu
}

func newPage(t testing.TB) *page {
	t.Helper()
	return newPageWith(t)
}

// newPageWith is newPage with extra Chromium options.
func newPageWith(t testing.TB, extra ...chromedp.ExecAllocatorOption) *page {
	t.Helper()
	exe := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // root in containers and CI
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	p := &page{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() { // owned by the test: ends when ctx is cancelled, cleanup waits
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		<-done
	})
	return p
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatal(err)
	}
}

func (p *page) snap() snapshot {
	p.t.Helper()
	return pageSnapshot[snapshot](p)
}

// pageSnapshot reads window.vitals.snapshot() into T, which names the
// part of it a test looks at.
func pageSnapshot[T any](p *page) T {
	p.t.Helper()
	return pageEval[T](p, `window.vitals.snapshot()`)
}

// pageEval evaluates a JavaScript expression in the page into T, failing
// the test on an error.
func pageEval[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluate in the page: %v", err)
	}
	return v
}

// waitFor polls a JavaScript condition about the snapshot `s` until it is
// true, and fails with the last snapshot if it never is.
func (p *page) waitFor(what, cond string, timeout time.Duration) {
	p.t.Helper()
	expr := fmt.Sprintf(`(() => { if (!window.vitals) return false; const s = window.vitals.snapshot(); return !!(%s); })()`, cond)
	_, err := chromedp.Run(p.ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		s := p.snap()
		p.t.Fatalf("waiting for %s (%v): %v\nstate=%s badge=%q live=%d caughtUp=%d catchups=%+v bands=%+v",
			what, timeout, err, s.State, s.Badge, s.Live, s.CaughtUp, s.Catchups, s.Bands)
	}
}

func (p *page) consoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.console {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
			out = append(out, m.String())
		}
	}
	return out
}

// openLive opens the dashboard at base and waits until every chart is
// drawn, the stream is live and at least minLive live events came.
func (p *page) openLive(base string, minLive int) {
	p.t.Helper()
	p.do(chromedp.Navigate(base + "/"))
	cond := allDrawn
	if minLive > 0 {
		cond += fmt.Sprintf(` && s.live >= %d`, minLive)
	}
	p.waitFor("the page to be live", cond, 10*time.Second)
}

// disconnect expands the stream panel, presses Disconnect and waits until
// the page says it is disconnected.
func (p *page) disconnect() {
	p.t.Helper()
	p.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("stream").open = true`))
	p.do(chromedp.Click(chromedp.ID("btn-disconnect")))
	p.waitFor("disconnected", `s.state === "disconnected"`, 5*time.Second)
}

// reconnect presses Reconnect and waits until the page is live again after
// the catch-up from lastID, which it returns with the snapshot.
func (p *page) reconnect(lastID string) (snapshot, catchupSummary) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.ID("btn-reconnect")))
	p.waitFor("the catch-up after the disconnect",
		fmt.Sprintf(`s.state === "live" && s.catchups.some((c) => c.after === %q)`, lastID), 10*time.Second)
	s := p.snap()
	var c catchupSummary
	for _, x := range s.Catchups {
		if x.After == lastID {
			c = x
		}
	}
	return s, c
}

// historyIDs asks the server for the ids it holds after `after`, oldest first.
func historyIDs(t testing.TB, base, after string) []string {
	t.Helper()
	return historyIDsVia(t, http.DefaultClient, base, after)
}

// historyIDsVia is historyIDs through client (HTTPS with a test
// certificate).
func historyIDsVia(t testing.TB, client *http.Client, base, after string) []string {
	t.Helper()
	url := base + "/api/history"
	if after != "" {
		url += "?after=" + after
	}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Events []struct {
			ID string `json:"id"`
		} `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(h.Events))
	for i, e := range h.Events {
		ids[i] = e.ID
	}
	return ids
}

// serverTicks reads the server's history: every tick time it published,
// in order, for each tick that followed skipped ticks how many it skipped
// (the "skipped" field the sampler puts on that tick's events), and the
// topics it published.
func serverTicks(t testing.TB, srv *vitalsProc) (ticks []int64, skippedBefore map[int64]int64, topics map[string]bool) {
	t.Helper()
	resp, err := srv.Client.Get(srv.URL + "/api/history")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Events []struct {
			Event string `json:"event"`
			Data  struct {
				T       int64 `json:"t"`
				Skipped int64 `json:"skipped"`
			} `json:"data"`
		} `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	skippedBefore, topics = make(map[int64]int64), make(map[string]bool)
	for _, e := range h.Events {
		topics[e.Event] = true
		if e.Event == "alerts" {
			continue // records of alert transitions, not ticks
		}
		if n := len(ticks); n == 0 || ticks[n-1] != e.Data.T {
			ticks = append(ticks, e.Data.T)
		}
		if e.Data.Skipped > 0 {
			skippedBefore[e.Data.T] = e.Data.Skipped
		}
	}
	return ticks, skippedBefore, topics
}

// ticksWithin is the ticks of the sorted ticks in [first, last].
func ticksWithin(ticks []int64, first, last int64) []int64 {
	var out []int64
	for _, tick := range ticks {
		if tick >= first && tick <= last {
			out = append(out, tick)
		}
	}
	return out
}

// checkNoHoles judges the page's samples against what the server says it
// published, never against the cadence: the page holds exactly the tick
// times of the server's history between its first and last, so a step
// longer than 1.5 intervals is allowed only where the server marked the
// next tick "skipped" (it was late: a busy machine); and the only band
// allowed is a "sampler late" one over such a step, never "offline".
func checkNoHoles(t testing.TB, srv *vitalsProc, s snapshot) {
	t.Helper()
	if len(s.Ticks) == 0 {
		t.Fatal("the page holds no samples")
	}
	published, skippedBefore, topics := serverTicks(t, srv)
	if want := ticksWithin(published, s.Ticks[0], s.Ticks[len(s.Ticks)-1]); !slices.Equal(s.Ticks, want) {
		t.Errorf("the page holds ticks %v, the server published %v", s.Ticks, want)
	}
	skips := 0
	for i := 1; i < len(s.Ticks); i++ {
		d := s.Ticks[i] - s.Ticks[i-1]
		n := skippedBefore[s.Ticks[i]]
		skips += int(n)
		if d*2 > s.IntervalMS*3 && d != (n+1)*s.IntervalMS {
			t.Errorf("hole in the charts: %d ms between samples at %d and %d, where the server skipped %d ticks",
				d, s.Ticks[i-1], s.Ticks[i], n)
		}
	}
	if skips > 0 {
		t.Logf("the server skipped %d ticks while the page was open (a busy machine)", skips)
	}
	for _, b := range s.Bands {
		if b.Kind != "late" || skippedBefore[b.To] == 0 {
			t.Errorf("unexpected band %+v", b)
		}
	}
	for topic, n := range s.Points {
		if !topics[topic] {
			continue // a chart of a topic this host doesn't have (no GPU)
		}
		if n != len(s.Ticks) {
			t.Errorf("%s has %d points for %d ticks", topic, n, len(s.Ticks))
		}
	}
}

// allDrawn is the JS condition "every chart has data and the stream is live".
const allDrawn = `s.state === "live" && Object.keys(s.drawn).length >= 6 && Object.values(s.drawn).every((n) => n > 0)`

func TestBrowserPageLoads(t *testing.T) {
	p := newPage(t)
	srv := startVitals(t, t.TempDir())
	start := time.Now()
	p.do(chromedp.Navigate(srv.URL + "/"))
	p.waitFor("every chart to have data", allDrawn, 3*time.Second-time.Since(start))
	t.Logf("all six charts drawn and live %v after navigation", time.Since(start).Round(time.Millisecond))

	// A few live ticks, then nothing may have gone wrong or left the host.
	p.waitFor("live events", `s.live >= 20`, 10*time.Second)
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	urls, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`[location.href,
		...performance.getEntriesByType("resource").map((e) => e.name),
		...[...document.querySelectorAll("[src],[href]")].map((e) => e.src || e.href)]`))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, srv.URL+"/") {
			t.Errorf("request to another host: %s", u)
		}
	}
	if len(urls) < 5 {
		t.Errorf("only %d requests seen: %v", len(urls), urls)
	}
	checkWhatsUsing(t, p)
}

func TestBrowserDisconnectReconnect(t *testing.T) {
	p := newPage(t)
	srv := startVitals(t, t.TempDir())
	p.openLive(srv.URL, 10)
	p.checkReconnectExact(srv)
}

// checkReconnectExact disconnects the live page, waits while the server
// publishes, reconnects, and checks that the catch-up brought exactly what
// the server published meanwhile and that the charts have no hole.
func (p *page) checkReconnectExact(srv *vitalsProc) {
	t := p.t
	t.Helper()
	p.disconnect()
	before := p.snap()
	if !strings.HasPrefix(before.Badge, "Offline since") {
		t.Errorf("badge after Disconnect = %q", before.Badge)
	}
	// The server keeps publishing meanwhile: about 25 ticks of 5 topics at
	// the 200 ms test interval, counted in what it says it published.
	eventually(t, "100 events published while away", 30*time.Second, func() bool {
		return len(historyIDsVia(t, srv.Client, srv.URL, before.LastID)) >= 100
	})

	after, c := p.reconnect(before.LastID)
	// What the server published meanwhile: its history after our id, up to
	// the head the catch-up ended at.
	ids := historyIDsVia(t, srv.Client, srv.URL, before.LastID)
	published := -1
	for i, id := range ids {
		if id == c.Head {
			published = i + 1
		}
	}
	if published < 0 {
		t.Fatalf("catch-up head %q not in the server's history after %q", c.Head, before.LastID)
	}
	// 5 s at the 200 ms test interval is about 25 ticks of 5 topics.
	if published < 100 {
		t.Errorf("server published only %d events in 5 s", published)
	}
	if c.Count != published || c.Announced != published {
		t.Errorf("caught up %d events (announced %d), server published %d", c.Count, c.Announced, published)
	}
	if got := after.CaughtUp - before.CaughtUp; got != published {
		t.Errorf("caught-up counter grew by %d, want %d", got, published)
	}
	if !c.Complete {
		t.Errorf("catch-up incomplete: %s", c.Reason)
	}
	if !replayedLine.MatchString(after.CatchupText) {
		t.Errorf("catch-up indicator says %q", after.CatchupText)
	}
	t.Logf("caught up %d events in %d ms: %q", c.Count, c.MS, after.CatchupText)
	checkNoHoles(t, srv, after)
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

func TestBrowserReloadResumes(t *testing.T) {
	p := newPage(t)
	srv := startVitals(t, t.TempDir())
	p.openLive(srv.URL, 10)
	// Stop the stream first, so the stored id can't move under the test.
	p.disconnect()
	time.Sleep(100 * time.Millisecond) // one frame: the position is saved per frame
	stored, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](
		`JSON.parse(localStorage.getItem("vitals.position." + document.body.dataset.self)).id`))
	if err != nil {
		t.Fatal(err)
	}
	if s := p.snap(); stored != s.LastID {
		t.Fatalf("stored id %q, page's last id %q", stored, s.LastID)
	}
	time.Sleep(time.Second)

	p.do(chromedp.Reload())
	p.waitFor("the reloaded page to resume from the stored id",
		fmt.Sprintf(`s.state === "live" && s.catchups.length > 0 && s.catchups[0].after === %q`, stored), 10*time.Second)
	s := p.snap()
	c := s.Catchups[0]
	if !c.Complete || c.Count == 0 {
		t.Errorf("resume after reload: %+v", c)
	}
	if !replayedLine.MatchString(s.CatchupText) {
		t.Errorf("catch-up indicator after reload says %q", s.CatchupText)
	}
	checkNoHoles(t, srv, s)
}

func TestBrowserKillRestart(t *testing.T) {
	p := newPage(t)
	// A 20 s history and window: the screenshots at the end show the whole
	// story (live, the offline band, live again) instead of a thin sliver
	// of a 5-minute axis.
	srv := startVitals(t, t.TempDir(), "--history", "20s")
	p.openLive(srv.URL, 0)
	burnCPU(3 * time.Second) // something to see on the CPU charts (with -update)
	p.waitFor("some history", `s.live >= 150`, 20*time.Second)

	beforeKill := p.snap()
	killed := time.Now()
	srv.Kill9(t)
	p.waitFor("Reconnecting", `s.badge.startsWith("Reconnecting")`, 5*time.Second)
	time.Sleep(2 * time.Second) // the downtime the band must cover
	down := p.snap()
	if down.State != "reconnecting" {
		t.Errorf("after 2 s down the badge is %q", down.Badge)
	}

	srv2 := srv.Restart(t)
	restarted := time.Now()
	p.waitFor("live again after the restart",
		fmt.Sprintf(`s.state === "live" && s.instance !== %q && s.catchups.length > 1`, beforeKill.Instance), 15*time.Second)
	t.Logf("live again %v after the restart", time.Since(restarted).Round(time.Millisecond))
	s := p.snap()

	// The badge went Live -> Reconnecting -> ... -> Live.
	var seq []string
	for _, st := range s.States {
		if st.At >= killed.UnixMilli() {
			seq = append(seq, st.State)
		}
	}
	if len(seq) < 2 || seq[0] != "reconnecting" || seq[len(seq)-1] != "live" {
		t.Errorf("states after the kill: %v", seq)
	}
	// The catch-up indicator appeared, and the stored id still meant
	// something to the restarted server: ids continue.
	c := s.Catchups[len(s.Catchups)-1]
	if !c.Complete || c.Count == 0 {
		t.Errorf("catch-up after restart: %+v", c)
	}
	if s.CatchupText == "" {
		t.Error("no catch-up indicator after the restart")
	}
	ids := historyIDs(t, srv2.URL, "")
	pos := map[string]int{}
	for i, id := range ids {
		pos[id] = i
	}
	old, okOld := pos[beforeKill.LastID]
	cur, okNew := pos[s.LastID]
	if !okOld || !okNew || old >= cur {
		t.Errorf("ids do not continue: before kill %q (at %d, %v), now %q (at %d, %v)", beforeKill.LastID, old, okOld, s.LastID, cur, okNew)
	}
	// One band labelled as a restart covers the downtime.
	var covered bool
	for _, b := range s.Bands {
		if b.Kind == "restart" && b.From <= killed.UnixMilli() && b.To >= killed.Add(2*time.Second).UnixMilli() {
			covered = true
		}
	}
	if !covered {
		t.Errorf("no restart band covers %v..+2s: %+v", killed.Format("15:04:05.000"), s.Bands)
	}

	// Let the right side fill a little, then the README pictures.
	p.waitFor("data after the restart", fmt.Sprintf(`s.live >= %d`, s.Live+100), 10*time.Second)
	screenshots(t, p)
}

// screenshots saves the dashboard in light and dark to the test's output
// dir and, with -update, to docs/ at the module root.
func screenshots(t *testing.T, p *page) {
	t.Helper()
	// 1280 px is the README's picture in both schemes; 390 px (a phone)
	// in light is docs/screenshot-phone.png, in dark only goes to the
	// output dir, to look at.
	for _, scheme := range []string{"light", "dark"} {
		for _, width := range []int64{1280, 390} {
			name := "screenshot"
			if width != 1280 {
				name += "-phone"
			}
			if scheme == "dark" {
				name += "-dark"
			}
			png := shoot(t, p, scheme, width)
			path := savePNG(t, testOutDir(t), name+".png", png)
			t.Logf("%s screenshot at %d px: %s", scheme, width, path)
			if *updateScreenshots && (width == 1280 || scheme == "light") {
				savePNG(t, filepath.Join(moduleRoot, "docs"), name+".png", png)
			}
		}
	}
	p.do(chromedp.EmulateViewport(1280, 900))
}

// screenshot saves a picture of the whole page to the test's output dir,
// for a person to look at.
func screenshot(t *testing.T, p *page, name string) {
	t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", savePNG(t, testOutDir(t), name, png))
}

// testOutDir is where tests leave pictures: $VITALS_TEST_OUT, else the
// test's artifact dir.
func testOutDir(t *testing.T) string {
	if out := os.Getenv("VITALS_TEST_OUT"); out != "" {
		return out
	}
	return t.ArtifactDir()
}

// savePNG writes png as dir/name, creating dir, and returns the path.
func savePNG(t *testing.T, dir, name string, png []byte) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	return path
}

// shoot takes a full-page picture in a colour scheme at a viewport width.
func shoot(t *testing.T, p *page, scheme string, width int64) []byte {
	t.Helper()
	p.do(chromedp.EmulateViewport(width, 900))
	if _, err := chromedp.Run(p.ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return chromedp.Void{}, err
	}); err != nil {
		t.Fatal(err)
	}
	// The whole page on screen at once: a chart out of sight is not
	// redrawn, and a full-page capture of a short window would show it as
	// it was when it left the screen.
	p.do(chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	height := pageEval[int64](p, `document.documentElement.scrollHeight`)
	p.do(chromedp.EmulateViewport(width, height))
	// Charts rebuild on the change; give them two frames.
	p.do(chromedp.Sleep(300 * time.Millisecond))
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	return png
}

// burnCPU keeps every core busy for d, so the CPU charts in the committed
// screenshots show a hill. Only with -update: otherwise it would just slow
// the race-built server and the other packages' tests running alongside.
func burnCPU(d time.Duration) {
	if !*updateScreenshots {
		return
	}
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Go(func() {
			x := 0
			for time.Now().Before(stop) {
				x++
			}
			_ = x
		})
	}
	wg.Wait()
}
