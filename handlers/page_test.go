package handlers

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"os"
	"strings"
	"testing"

	"vitals/internal/ssetest"
	"vitals/static"
	"vitals/views"
)

// pageFixture serves the handlers with the real static files (the ones the
// binary embeds), so the tests see what a browser would.
func pageFixture(t *testing.T, mod func(*Options)) *fixture {
	t.Helper()
	if missing := static.Missing(static.FS()); len(missing) > 0 {
		msg := "static/vendor is missing " + strings.Join(missing, ", ") + ": run `make assets`"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return newFixture(t, func(c *Options) {
		c.Static = static.FS()
		if mod != nil {
			mod(c)
		}
	})
}

// directive returns the value of one CSP directive ("" if absent).
func directive(csp, name string) string {
	for _, d := range strings.Split(csp, ";") {
		d = strings.TrimSpace(d)
		if k, v, _ := strings.Cut(d, " "); k == name {
			return v
		}
	}
	return ""
}

func TestDashboardPage(t *testing.T) {
	f := pageFixture(t, nil)
	resp, body := ssetest.Do(t, "GET", f.srv.URL+"/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	for k, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          "no-cache",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	// The dashboard has buttons (Disconnect, Forget position): no page may
	// frame it, not even its own /embed.
	if got := directive(csp, "frame-ancestors"); got != "'none'" {
		t.Errorf("/ frame-ancestors = %q, want 'none' (CSP %q)", got, csp)
	}
	if got := directive(csp, "script-src"); got != "'self'" {
		t.Errorf("/ script-src = %q", got)
	}
	if !strings.Contains(body, `<script type="module" src="/static/app.js">`) || !strings.Contains(body, "testhost") {
		t.Errorf("/ does not look like the dashboard:\n%s", body)
	}
}

func TestEmbedPage(t *testing.T) {
	f := pageFixture(t, nil)
	resp, body := ssetest.Do(t, "GET", f.srv.URL+"/embed?topics=cpu,network&range=15m")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /embed = %d: %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control = %q", got)
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q: a ?token= in the URL could leak", got)
	}
	if got := resp.Header.Get("X-Frame-Options"); got != "" {
		t.Errorf("X-Frame-Options = %q: it would forbid the iframe", got)
	}
	want := []string{
		`<script type="module" src="/static/embed.js">`,
		`<vitals-chart topic="cpu" range="15m" theme="light">`,
		`<vitals-chart topic="network" range="15m" theme="light">`,
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("/embed lacks %s:\n%s", w, body)
		}
	}
	if strings.Count(body, "<vitals-chart") != 2 {
		t.Errorf("/embed has %d charts, want 2", strings.Count(body, "<vitals-chart"))
	}
	// The one inline style is allowed by its hash, and nothing else inline.
	csp := resp.Header.Get("Content-Security-Policy")
	sum := sha256.Sum256([]byte(views.EmbedCSS))
	if got, want := directive(csp, "style-src"), "'self' 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'"; got != want {
		t.Errorf("style-src = %q, want %q", got, want)
	}
	if !strings.Contains(body, "<style>"+views.EmbedCSS+"</style>") {
		t.Error("the page's inline style is not views.EmbedCSS as hashed")
	}
	if got := directive(csp, "script-src"); got != "'self'" {
		t.Errorf("script-src = %q", got)
	}

	// Without topics: every chart the host feeds, 5 minutes.
	_, body = ssetest.Do(t, "GET", f.srv.URL+"/embed")
	for _, topic := range append([]string{"cores"}, testTopics...) {
		if !strings.Contains(body, `<vitals-chart topic="`+topic+`" range="5m"`) {
			t.Errorf("/embed without topics lacks %s:\n%s", topic, body)
		}
	}
}

func TestEmbedPageFrameAncestors(t *testing.T) {
	tests := []struct {
		name    string
		origins []string
		want    string
	}{
		{name: "no --cors-origins: own pages only", want: "'self'"},
		{name: "listed origins", origins: []string{"https://app.example", "http://localhost:3000"}, want: "'self' https://app.example http://localhost:3000"},
		{name: "any origin", origins: []string{"*"}, want: "*"},
		{name: "a value that would add a directive is left out", origins: []string{"https://a.example; script-src *"}, want: "'self'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := pageFixture(t, func(c *Options) { c.Access.CORSOrigins = tt.origins })
			resp, _ := ssetest.Do(t, "GET", f.srv.URL+"/embed?topics=cpu")
			csp := resp.Header.Get("Content-Security-Policy")
			if got := directive(csp, "frame-ancestors"); got != tt.want {
				t.Errorf("frame-ancestors = %q, want %q (CSP %q)", got, tt.want, csp)
			}
			if got := directive(csp, "script-src"); got != "'self'" {
				t.Errorf("script-src = %q", got)
			}
			// The dashboard is never framed, whatever the origins.
			resp, _ = ssetest.Do(t, "GET", f.srv.URL+"/")
			if got := directive(resp.Header.Get("Content-Security-Policy"), "frame-ancestors"); got != "'none'" {
				t.Errorf("/ frame-ancestors = %q", got)
			}
		})
	}
}

func TestEmbedPageBadQuery(t *testing.T) {
	f := pageFixture(t, nil)
	tests := []struct {
		name, query, wantErr, wantValid string
	}{
		{name: "unknown chart", query: "topics=cpu,gpu", wantErr: `unknown chart "gpu"`, wantValid: "cpu, cores, memory, load, disk, network"},
		{name: "range not offered", query: "topics=cpu&range=2h", wantErr: `unknown range "2h"`, wantValid: "5m, 15m, 1h"},
		{name: "range not a duration", query: "range=<b>", wantErr: `unknown range "<b>"`, wantValid: "5m, 15m, 1h"},
		{name: "unknown theme", query: "theme=pink", wantErr: `unknown theme "pink"`, wantValid: "light, dark, auto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", f.srv.URL+"/embed?"+tt.query)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
			}
			// It is shown inside an iframe: a page, not JSON.
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if resp.Header.Get("Content-Security-Policy") == "" {
				t.Error("the error page has no CSP")
			}
			text := html.UnescapeString(body)
			if !strings.HasPrefix(strings.ToLower(text), "<!doctype html>") || !strings.Contains(text, "vitals can't show this: "+tt.wantErr+".") ||
				!strings.Contains(text, "Use one of: "+tt.wantValid+".") {
				t.Errorf("body %q, want %q and %q", text, tt.wantErr, tt.wantValid)
			}
			if strings.Contains(body, "<b>") {
				t.Error("the query reached the page as HTML")
			}
		})
	}
}

// Every name <vitals-chart> takes works in the iframe too, cores included.
func TestEmbedPageChartNames(t *testing.T) {
	f := pageFixture(t, nil)
	resp, body := ssetest.Do(t, "GET", f.srv.URL+"/embed?topics=cores,cpu")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /embed?topics=cores,cpu = %d: %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `<vitals-chart topic="cores" range="5m" theme="light"></vitals-chart><vitals-chart topic="cpu"`) {
		t.Errorf("/embed?topics=cores,cpu:\n%s", body)
	}
}

func TestStaticFiles(t *testing.T) {
	f := pageFixture(t, nil)
	tests := []struct {
		path, contentType string
	}{
		{"/static/embed.js", "text/javascript; charset=utf-8"},
		{"/static/app.js", "text/javascript; charset=utf-8"},
		{"/static/vendor/uPlot.esm.js", "text/javascript; charset=utf-8"},
		{"/static/vendor/uPlot.min.css", "text/css; charset=utf-8"},
		{"/static/style.css", "text/css; charset=utf-8"},
		{"/static/favicon.svg", "image/svg+xml"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", f.srv.URL+tt.path)
			if resp.StatusCode != http.StatusOK || body == "" {
				t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
			}
			h := resp.Header
			if got := h.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if got := h.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control = %q", got)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			// Module scripts load in CORS mode: without this header no
			// other site could use embed.js.
			if got := h.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin = %q, want *", got)
			}
			etag := h.Get("ETag")
			if len(etag) < 10 || etag[0] != '"' {
				t.Fatalf("ETag = %q, want a strong tag", etag)
			}
			resp, body = ssetest.Do(t, "GET", f.srv.URL+tt.path, "If-None-Match: "+etag)
			if resp.StatusCode != http.StatusNotModified || body != "" {
				t.Errorf("If-None-Match %s: status %d, %d bytes; want 304 and nothing", etag, resp.StatusCode, len(body))
			}
			resp, _ = ssetest.Do(t, "GET", f.srv.URL+tt.path, `If-None-Match: "stale"`)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("stale If-None-Match: status %d, want 200", resp.StatusCode)
			}
		})
	}
}

func TestStaticFilesNotServed(t *testing.T) {
	f := pageFixture(t, nil)
	for _, p := range []string{
		"/static/missing.js",
		"/static/static.go",           // the package's Go source
		"/static/static_test.go",      // its tests
		"/static/series_test.js",      // JavaScript unit tests
		"/static/format_test.js",      //
		"/static/../handlers/page.go", // cleaned by the router, still nothing
		"/static/vendor/",
		"/static/",
	} {
		t.Run(p, func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", f.srv.URL+p)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("status %d, want 404: %.200s", resp.StatusCode, body)
			}
			if strings.Contains(body, "package ") || strings.Contains(body, "import ") {
				t.Errorf("source served: %.200s", body)
			}
		})
	}
}
