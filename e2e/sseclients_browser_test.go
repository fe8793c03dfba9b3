package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vitals/internal/ssetest"
)

// sseClients are the clients docs/embedding.md shows, as the test page
// (testdata/sseclients) names them: the browser's own EventSource (token in
// the URL), the eventsource package (token in Authorization, through its
// fetch option) and @microsoft/fetch-event-source (Authorization and
// Cache-Control: no-cache, both of which need a CORS preflight).
var sseClients = []string{"native", "eventsource", "fetch-event-source"}

// clientTopics are the topics the test page asks for (clients.js).
const clientTopics = "cpu,memory,load,disk,network"

// npmClientFiles are what the test page loads from node_modules, installed
// by `npm ci` (make assets) from package-lock.json.
var npmClientFiles = []string{
	"eventsource/dist/index.js",
	"eventsource-parser/dist/index.js",
	"@microsoft/fetch-event-source/lib/esm/index.js",
}

type clientState struct {
	Client string   `json:"client"`
	IDs    []string `json:"ids"`
	Opens  int      `json:"opens"`
	Hellos int      `json:"hellos"`
	Errors []string `json:"errors"`
}

// TestBrowserSSEClientsCrossOriginResumeExactly runs each client from npm,
// and the browser's EventSource, in Chromium on a page of another origin
// against a vitals with a token and --cors-origins naming that origin.
// Each must connect, receive live events, and after vitals is killed and
// started again, resume exactly: the ids it received, in order, are the
// ids the server says it published (/api/history), no gap, no repeat.
func TestBrowserSSEClientsCrossOriginResumeExactly(t *testing.T) {
	for _, f := range npmClientFiles {
		if _, err := os.Stat(filepath.Join(moduleRoot, "node_modules", f)); err != nil {
			msg := "node_modules/" + f + " is missing: run `make assets` (npm ci) to install the SSE clients"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	p := newPage(t)

	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir("testdata/sseclients")))
	mux.Handle("/node_modules/", http.StripPrefix("/node_modules/",
		http.FileServer(http.Dir(filepath.Join(moduleRoot, "node_modules")))))
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)

	srv := startVitals(t, t.TempDir(), "--token", procToken, "--cors-origins", site.URL)
	auth := "Authorization: Bearer " + procToken

	tabs := map[string]*page{}
	for _, c := range sseClients {
		tab := p
		if c != sseClients[0] {
			tab = p.newTab()
		}
		tabs[c] = tab
		q := url.Values{"client": {c}, "vitals": {srv.URL}, "token": {procToken}}
		tab.do(chromedp.Navigate(site.URL + "/?" + q.Encode()))
	}
	for c, tab := range tabs {
		tab.waitGot(c+" to receive live events", `g.opens >= 1 && g.hellos >= 1 && g.ids.length >= 10`, 15*time.Second)
	}

	newest := func() string {
		_, body := ssetest.Do(t, "GET", srv.URL+"/api/history?topics="+clientTopics, auth)
		var h struct{ Events []struct{ ID string } }
		if err := json.Unmarshal([]byte(body), &h); err != nil || len(h.Events) == 0 {
			return ""
		}
		return h.Events[len(h.Events)-1].ID
	}
	beforeKill := newest()
	srv.Kill9(t)
	// Every client must see the server gone (and fail to reconnect)
	// before it comes back.
	for c, tab := range tabs {
		n := len(pageGot(tab).Errors)
		tab.waitGot(c+" to notice the server is gone", fmt.Sprintf(`g.errors.length > %d`, n), 20*time.Second)
	}
	srv = srv.Restart(t)
	// Wait until every client holds an event published after the restart:
	// the newest of the topics the clients ask for, once the server has one.
	var head string
	eventually(t, "an event after the restart", 10*time.Second, func() bool {
		head = newest()
		return head != "" && head != beforeKill
	})
	for c, tab := range tabs {
		tab.waitGot(c+" to resume after the restart", fmt.Sprintf(`g.opens >= 2 && g.ids.includes(%q)`, head), 20*time.Second)
	}

	for _, c := range sseClients {
		g := pageGot(tabs[c])
		published := publishedIDs(t, srv.URL, g.IDs[0], g.IDs[len(g.IDs)-1], auth)
		if !slices.Equal(g.IDs, published) {
			t.Errorf("%s received %d ids, the server published %d over the same span:\n got %v\nwant %v",
				c, len(g.IDs), len(published), g.IDs, published)
		}
		t.Logf("%s: %d events in order across the restart, %d opens, %d hellos, errors %q", c, len(g.IDs), g.Opens, g.Hellos, g.Errors)
	}
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Logf("console (connection errors while vitals was down are expected):\n%v", errs)
	}
}

// newTab opens another tab in p's browser, closed at the test's cleanup.
func (p *page) newTab() *page {
	p.t.Helper()
	ctx, cancel := chromedp.NewContext(p.ctx)
	p.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		p.t.Fatalf("open a tab: %v", err)
	}
	return &page{t: p.t, ctx: ctx}
}

// waitGot polls a condition about the test page's window.got (as `g`).
func (p *page) waitGot(what, cond string, timeout time.Duration) {
	p.t.Helper()
	expr := fmt.Sprintf(`(() => { const g = window.got; return !!g && !!(%s); })()`, cond)
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout))); err != nil {
		g := pageGot(p)
		p.t.Fatalf("waiting for %s (%v): %v\nopens=%d hellos=%d ids=%d errors=%q", what, timeout, err, g.Opens, g.Hellos, len(g.IDs), g.Errors)
	}
}

func pageGot(p *page) clientState {
	p.t.Helper()
	g, err := chromedp.Run(p.ctx, chromedp.Evaluate[clientState](`window.got`))
	if err != nil {
		p.t.Fatalf("read window.got: %v", err)
	}
	return g
}

// publishedIDs is what the server holds from first to last, both included.
func publishedIDs(t *testing.T, base, first, last, auth string) []string {
	t.Helper()
	_, body := ssetest.Do(t, "GET", base+"/api/history?topics="+clientTopics+"&after="+url.QueryEscape(first), auth)
	var h struct{ Events []struct{ ID string } }
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("history: %v: %s", err, body)
	}
	ids := []string{first}
	for _, e := range h.Events {
		ids = append(ids, e.ID)
		if e.ID == last {
			return ids
		}
	}
	t.Fatalf("%s is not in the server's history after %s", last, first)
	return nil
}
