package handlers

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"vitals/hostinfo"
	"vitals/internal/logtest"
	"vitals/internal/ssetest"
)

const (
	testToken     = "full-token-0123456789abcdef"
	testReadToken = "read-token-0123456789abcdef"
)

func TestCORS(t *testing.T) {
	f := newFixture(t, func(c *Options) { c.Access.CORSOrigins = []string{"https://app.example", "http://localhost:3000"} })
	f.tick(t, 0)
	for _, tt := range []struct {
		name, path, origin string
		wantAllow          string
	}{
		{"allowed origin on the API", "/api/history", "https://app.example", "https://app.example"},
		{"allowed origin on the snapshot", "/api/snapshot", "http://localhost:3000", "http://localhost:3000"},
		{"disallowed origin", "/api/history", "https://evil.example", ""},
		{"no origin", "/api/history", "", ""},
		{"allowed origin off the API", "/healthz", "https://app.example", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.origin != "" {
				hdr = append(hdr, "Origin: "+tt.origin)
			}
			resp, _ := ssetest.Do(t, "GET", f.srv.URL+tt.path, hdr...)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tt.wantAllow {
				t.Errorf("Allow-Origin %q, want %q", got, tt.wantAllow)
			}
			if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "" {
				t.Errorf("Allow-Credentials %q", got)
			}
			if strings.HasPrefix(tt.path, "/api/") && resp.Header.Get("Vary") != "Origin" {
				t.Errorf("Vary = %q", resp.Header.Values("Vary"))
			}
		})
	}
	t.Run("events stream", func(t *testing.T) {
		s := ssetest.Open(t, f.srv.URL+"/events", "Origin: https://app.example")
		if got := s.Resp.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
			t.Fatalf("Allow-Origin %q", got)
		}
		s.NextEvent(t)
	})
	t.Run("preflight allows what SSE clients send", func(t *testing.T) {
		asked := "last-event-id,authorization,accept,cache-control,pragma,x-requested-with,content-type"
		resp, _ := ssetest.Do(t, "OPTIONS", f.srv.URL+"/events", "Origin: https://app.example",
			"Access-Control-Request-Method: GET", "Access-Control-Request-Headers: "+asked)
		h := resp.Header
		if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "https://app.example" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "GET") || h.Get("Access-Control-Max-Age") != "600" {
			t.Fatalf("%d %v", resp.StatusCode, h)
		}
		allowed := map[string]bool{}
		for _, name := range strings.Split(h.Get("Access-Control-Allow-Headers"), ",") {
			allowed[strings.ToLower(strings.TrimSpace(name))] = true
		}
		for _, name := range strings.Split(asked, ",") {
			if !allowed[name] {
				t.Errorf("preflight refuses %s: Allow-Headers %q", name, h.Get("Access-Control-Allow-Headers"))
			}
		}
	})
	t.Run("preflight from a disallowed origin gets no CORS headers", func(t *testing.T) {
		resp, _ := ssetest.Do(t, "OPTIONS", f.srv.URL+"/events", "Origin: https://evil.example", "Access-Control-Request-Method: GET")
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Fatalf("%s: %s", k, resp.Header.Get(k))
			}
		}
	})
	t.Run("star allows any origin", func(t *testing.T) {
		f := newFixture(t, func(c *Options) { c.Access.CORSOrigins = []string{"*"} })
		resp, _ := ssetest.Do(t, "GET", f.srv.URL+"/api/snapshot", "Origin: https://anywhere.example")
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://anywhere.example" {
			t.Fatalf("Allow-Origin %q", got)
		}
	})
}

func TestTokens(t *testing.T) {
	f := newFixture(t, func(c *Options) {
		c.Access.Token, c.Access.ReadToken = testToken, testReadToken
		c.Metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "vitals_up 1\n") })
	})
	f.tick(t, 0)
	for _, tt := range []struct {
		name, path string
		headers    []string
		want       int
	}{
		{"no token", "/api/history", nil, 401},
		{"empty query token", "/api/history?token=", nil, 401},
		{"wrong query token", "/api/history?token=nope", nil, 401},
		{"wrong bearer", "/api/history", []string{"Authorization: Bearer " + testToken + "x"}, 401},
		{"basic auth is not a token", "/api/history", []string{"Authorization: Basic " + testToken}, 401},
		{"bearer", "/api/history", []string{"Authorization: Bearer " + testToken}, 200},
		{"bearer scheme in any case", "/api/snapshot", []string{"Authorization: bearer " + testToken}, 200},
		{"query token", "/api/history?token=" + testToken, nil, 200},
		{"read token on the API", "/api/snapshot?token=" + testReadToken, nil, 200},
		{"read token on the page", "/?token=" + testReadToken, nil, 403},
		{"read token on metrics", "/metrics", []string{"Authorization: Bearer " + testReadToken}, 403},
		{"full token on metrics", "/metrics", []string{"Authorization: Bearer " + testToken}, 200},
		{"metrics without token", "/metrics", nil, 401},
		{"page without token", "/", nil, 401},
		{"unknown path without token", "/nope", nil, 401},
		{"healthz is open", "/healthz", nil, 200},
		{"static files are open", "/static/vendor/uPlot.min.css", nil, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", f.srv.URL+tt.path, tt.headers...)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.want == 401 {
				if resp.Header.Get("WWW-Authenticate") == "" || !strings.Contains(decode[map[string]string](t, body)["error"], "token") {
					t.Fatalf("401 without a clear answer: %v %s", resp.Header, body)
				}
			}
		})
	}
	t.Run("read token streams", func(t *testing.T) {
		s := ssetest.Open(t, f.srv.URL+"/events?token="+testReadToken)
		if s.Resp.StatusCode != 200 || s.NextEvent(t).Event != "hello" {
			t.Fatalf("status %d", s.Resp.StatusCode)
		}
	})
	t.Run("metrics public", func(t *testing.T) {
		f := newFixture(t, func(c *Options) {
			c.Access.Token, c.Access.MetricsPublic = testToken, true
			c.Metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
		})
		if resp, _ := ssetest.Do(t, "GET", f.srv.URL+"/metrics"); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if resp, _ := ssetest.Do(t, "GET", f.srv.URL+"/api/snapshot"); resp.StatusCode != 401 {
			t.Fatalf("snapshot status %d", resp.StatusCode)
		}
	})
}

func TestTokenCookie(t *testing.T) {
	f := newFixture(t, func(c *Options) { c.Access.Token = testToken })
	resp, _ := ssetest.Do(t, "GET", f.srv.URL+"/?token="+testToken+"&theme=dark")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Path != "/" || loc.Query().Has("token") || loc.Query().Get("theme") != "dark" {
		t.Fatalf("Location %q", resp.Header.Get("Location"))
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v", resp.Header.Values("Set-Cookie"))
	}
	ck := cookies[0]
	_, port, _ := net.SplitHostPort(f.srv.Listener.Addr().String())
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Name != "vitals_session_"+port {
		t.Fatalf("cookie %q", resp.Header.Get("Set-Cookie"))
	}
	if strings.Contains(ck.Value, testToken) {
		t.Fatal("the cookie holds the token itself")
	}
	cookie := "Cookie: " + ck.Name + "=" + ck.Value
	for _, path := range []string{"/", "/api/snapshot"} {
		if resp, body := ssetest.Do(t, "GET", f.srv.URL+path, cookie); resp.StatusCode != 200 {
			t.Fatalf("%s with the cookie: %d %s", path, resp.StatusCode, body)
		}
	}
	// The cookie value is no token: it can't be replayed as one.
	if resp, _ := ssetest.Do(t, "GET", f.srv.URL+"/api/snapshot", "Authorization: Bearer "+ck.Value); resp.StatusCode != 401 {
		t.Fatalf("cookie value accepted as a bearer token: %d", resp.StatusCode)
	}
	if resp, _ := ssetest.Do(t, "GET", f.srv.URL+"/", "Cookie: "+ck.Name+"=forged"); resp.StatusCode != 401 {
		t.Fatalf("forged cookie: %d", resp.StatusCode)
	}
}

func TestHostCheck(t *testing.T) {
	f := newFixture(t, func(c *Options) {
		c.Access.LoopbackOnly = true
		c.Access.AllowedHosts = []string{"vitals.example.com"}
	})
	for _, tt := range []struct {
		host string
		want int
	}{
		{"localhost:8080", 200},
		{"LOCALHOST.", 200},
		{"127.0.0.1:8080", 200},
		{"127.1.2.3", 200},
		{"[::1]:8080", 200},
		{"dash.localhost:8080", 200},
		{"vitals.example.com", 200},
		{"Vitals.Example.Com:443", 200},
		{"evil.example:8080", 403},
		{"10.0.0.1", 403},
		{"localhost.evil.example", 403},
	} {
		t.Run(tt.host, func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", f.srv.URL+"/healthz", "Host: "+tt.host)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.want == 403 && (!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || !strings.Contains(body, "--allowed-hosts")) {
				t.Fatalf("403 not a plain message: %v %q", resp.Header, body)
			}
		})
	}
	t.Run("off when not on loopback", func(t *testing.T) {
		f := newFixture(t, nil)
		if resp, _ := ssetest.Do(t, "GET", f.srv.URL+"/healthz", "Host: evil.example"); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func TestOversizedRequests(t *testing.T) {
	f := newFixture(t, nil)
	ids := f.tick(t, 0)
	check := func(t *testing.T, resp *http.Response, body string, status int) {
		t.Helper()
		if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			decode[map[string]string](t, body)["error"] == "" {
			t.Fatalf("%d %v %q", resp.StatusCode, resp.Header, body)
		}
	}
	t.Run("long query string", func(t *testing.T) {
		resp, body := ssetest.Do(t, "GET", f.srv.URL+"/api/history?topics="+strings.Repeat("cpu,", 5000))
		check(t, resp, body, http.StatusRequestURITooLong)
	})
	t.Run("long header", func(t *testing.T) {
		resp, body := ssetest.Do(t, "GET", f.srv.URL+"/api/history", "X-Junk: "+strings.Repeat("x", 100<<10))
		check(t, resp, body, http.StatusRequestHeaderFieldsTooLarge)
	})
	t.Run("oversized Last-Event-ID", func(t *testing.T) {
		resp, body := ssetest.Do(t, "GET", f.srv.URL+"/events", "Last-Event-ID: "+strings.Repeat("9", 100<<10))
		check(t, resp, body, http.StatusRequestHeaderFieldsTooLarge)
	})
	t.Run("long but accepted Last-Event-ID is a malformed id", func(t *testing.T) {
		s := ssetest.Open(t, f.srv.URL+"/events", "Last-Event-ID: "+strings.Repeat("9", 4<<10))
		s.NextEvent(t) // hello
		cs := decode[catchupStart](t, s.NextEvent(t).Data)
		if cs.Complete || cs.Reason != "malformed" || cs.Count != len(ids) {
			t.Fatalf("catchup-start %+v", cs)
		}
	})
	t.Run("past the server's own limit", func(t *testing.T) {
		// net/http answers this itself (a plain 431) before any handler.
		resp, _ := ssetest.Do(t, "GET", f.srv.URL+"/api/history", "X-Junk: "+strings.Repeat("x", 2<<20))
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	if resp, _ := ssetest.Do(t, "GET", f.srv.URL+"/api/history"); resp.StatusCode != 200 {
		t.Fatalf("not serving after oversized requests: %d", resp.StatusCode)
	}
}

func TestMethods(t *testing.T) {
	f := newFixture(t, nil)
	f.tick(t, 0)
	for _, path := range []string{"/events", "/api/history", "/api/snapshot", "/healthz", "/", "/nope"} {
		for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
			resp, body := ssetest.Do(t, m, f.srv.URL+path)
			if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" ||
				decode[map[string]string](t, body)["error"] == "" {
				t.Fatalf("%s %s: %d %v %s", m, path, resp.StatusCode, resp.Header, body)
			}
		}
		resp, _ := ssetest.Do(t, "OPTIONS", f.srv.URL+path)
		if resp.StatusCode != 204 || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
			t.Fatalf("OPTIONS %s: %d %v", path, resp.StatusCode, resp.Header)
		}
	}
	for _, path := range []string{"/events", "/api/history", "/api/snapshot", "/healthz", "/"} {
		resp, body := ssetest.Do(t, "HEAD", f.srv.URL+path)
		if resp.StatusCode != 200 || body != "" {
			t.Fatalf("HEAD %s: %d %q", path, resp.StatusCode, body)
		}
	}
	t.Run("HEAD of a route added later", func(t *testing.T) {
		h, err := New(Options{Sources: OneHost(f.broker, hostinfo.Info{}, time.Second), Interval: time.Second, Retry: time.Second, Heartbeat: time.Second,
			Static: testStatic(), Health: func() error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		// A route registered after New, as a later feature would: the
		// middleware (methods, tokens) covers it too.
		h.Handler.(*gin.Engine).GET("/later", func(c *gin.Context) { c.String(200, "body") })
		srv := newServer(t, h)
		if resp, body := ssetest.Do(t, "HEAD", srv+"/later"); resp.StatusCode != 200 || body != "" || resp.Header.Get("Allow") != "" {
			t.Fatalf("HEAD: %d %v %q", resp.StatusCode, resp.Header, body)
		}
		if resp, body := ssetest.Do(t, "GET", srv+"/later"); resp.StatusCode != 200 || body != "body" {
			t.Fatalf("GET: %d %q", resp.StatusCode, body)
		}
		if resp, _ := ssetest.Do(t, "POST", srv+"/later"); resp.StatusCode != 405 {
			t.Fatalf("POST: %d", resp.StatusCode)
		}
	})
}

func TestSnapshot(t *testing.T) {
	f := newFixture(t, nil)
	if _, body := ssetest.Do(t, "GET", f.srv.URL+"/api/snapshot"); body != "{}" {
		t.Fatalf("empty history: %s", body)
	}
	f.tick(t, 0)
	ids := f.tick(t, 0)
	_, body := ssetest.Do(t, "GET", f.srv.URL+"/api/snapshot")
	snap := decode[map[string]struct {
		ID   string
		Data map[string]any
	}](t, body)
	for i, topic := range testTopics {
		if snap[topic].ID != ids[i] || snap[topic].Data["t"] == nil {
			t.Errorf("%s: %+v, want id %s", topic, snap[topic], ids[i])
		}
	}
}

type countingObserver struct {
	mu                      sync.Mutex
	open                    map[string]int
	closed                  map[string]int
	refused                 int
	openedTotal, closeTotal int
}

func (o *countingObserver) StreamOpened(topics string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.open[topics]++
	o.openedTotal++
}

func (o *countingObserver) StreamClosed(topics, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.open[topics]--
	o.closed[reason]++
	o.closeTotal++
}

func (o *countingObserver) StreamRefused() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refused++
}

func (o *countingObserver) get(f func(*countingObserver) int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return f(o)
}

func TestMaxClients(t *testing.T) {
	obs := &countingObserver{open: map[string]int{}, closed: map[string]int{}}
	f := newFixture(t, func(c *Options) { c.Limits.MaxClients = 3; c.Observer = obs })
	var streams []*ssetest.Stream
	for range 3 {
		s := ssetest.Open(t, f.srv.URL+"/events?topics=cpu")
		s.NextEvent(t)
		streams = append(streams, s)
	}
	for range 5 {
		s := ssetest.Open(t, f.srv.URL+"/events")
		if s.Resp.StatusCode != 200 {
			t.Fatalf("over the limit: status %d", s.Resp.StatusCode)
		}
		first := s.Next(t)
		if first.Comment == "" {
			t.Fatalf("want an explaining comment, got %+v", first)
		}
		ms, err := strconv.Atoi(s.Next(t).Retry)
		if err != nil || ms < 3000 || ms >= 6000 {
			t.Fatalf("retry %d (%v), want 3000..5999", ms, err)
		}
		if _, err := s.Read(ssetest.DefaultTimeout); err != io.EOF {
			t.Fatalf("refused stream not closed: %v", err)
		}
	}
	if n := obs.get(func(o *countingObserver) int { return o.open["cpu"] }); n != 3 {
		t.Fatalf("observer sees %d open cpu streams", n)
	}
	if n := obs.get(func(o *countingObserver) int { return o.refused }); n != 5 {
		t.Fatalf("observer saw %d refusals", n)
	}
	// The admitted ones still get every event; one leaving frees a slot.
	ids := f.tick(t, 0)
	for _, s := range streams {
		if ev := s.NextEvent(t); ev.ID != ids[0] {
			t.Fatalf("got %s, want %s", ev.ID, ids[0])
		}
	}
	streams[0].Close()
	// A stream notices its client left at its next write, as on a live
	// server, where a tick comes every interval.
	waitFor(t, func() bool {
		f.tick(t, 0)
		return obs.get(func(o *countingObserver) int { return o.closed[CloseClientGone] }) == 1
	})
	s := ssetest.Open(t, f.srv.URL+"/events")
	if ev := s.NextEvent(t); ev.Event != "hello" {
		t.Fatalf("after a slot freed: %+v", ev)
	}
}

func TestLogsRedactTokensAndNameStreamEnds(t *testing.T) {
	logs := &logtest.Buffer{} // the log lines, for assertions
	f := newFixture(t, func(c *Options) {
		c.Access.Token, c.Access.ReadToken = testToken, testReadToken
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ids := f.tick(t, 0)
	ssetest.Do(t, "GET", f.srv.URL+"/api/history?token="+testToken+"&limit=1")
	ssetest.Do(t, "GET", f.srv.URL+"/api/history?limit=1&Token="+testReadToken)
	ssetest.Do(t, "GET", f.srv.URL+"/api/history?tok%65n="+testToken)
	ssetest.Do(t, "GET", f.srv.URL+"/api/history?token=wrong-"+testToken)
	ssetest.Do(t, "GET", f.srv.URL+"/api/snapshot", "Authorization: Bearer "+testToken)
	ssetest.Do(t, "GET", f.srv.URL+"/?token="+testToken)
	s := ssetest.Open(t, f.srv.URL+"/events?topics=cpu,load&token="+testReadToken, "Last-Event-ID: "+ids[0])
	s.NextEvent(t)
	s.Close()
	s2 := ssetest.Open(t, f.srv.URL+"/events?token="+testToken)
	s2.NextEvent(t)
	// The closed stream notices at its next write (a tick, on a live server).
	waitFor(t, func() bool { f.tick(t, 0); return strings.Contains(logs.String(), `reason="client gone"`) })
	f.broker.Shutdown()
	waitFor(t, func() bool { return strings.Contains(logs.String(), "reason=shutdown") })

	out := logs.String()
	for _, secret := range []string{testToken, testReadToken} {
		if strings.Contains(out, secret) {
			t.Fatalf("a token reached the log:\n%s", out)
		}
	}
	for _, want := range []string{
		"url=\"/api/history?token=REDACTED&limit=1\"",
		"msg=\"stream opened\"", "topics=cpu,load", "after=" + ids[0], "replayed=1",
		"msg=\"stream closed\"", "duration_ms=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/events", "/events"},
		{"/events?topics=cpu", "/events?topics=cpu"},
		{"/events?token=abc", "/events?token=REDACTED"},
		{"/?a=1&token=abc&b=2", "/?a=1&token=REDACTED&b=2"},
		{"/?TOKEN=abc", "/?TOKEN=REDACTED"},
		{"/?to%6Ben=abc", "/?to%6Ben=REDACTED"},
		{"/?token", "/?token=REDACTED"},
		{"/?%zz=abc", "/?%zz=REDACTED"},
	} {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := redactURL(u); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSlowClientCloseReason(t *testing.T) {
	obs := &countingObserver{open: map[string]int{}, closed: map[string]int{}}
	f := newFixture(t, func(c *Options) { c.WriteTimeout = 200 * time.Millisecond; c.Observer = obs })
	stuck := dialStuck(t, f)
	br := bufio.NewReader(stuck)
	if line, _ := br.ReadString('\n'); !strings.Contains(line, "200") {
		t.Fatalf("status line %q", line)
	}
	for i := 0; obs.get(func(o *countingObserver) int { return o.closed[CloseSlow] }) == 0; i++ {
		if i == 2000 {
			t.Fatal("stuck client never closed as slow")
		}
		f.tick(t, 16<<10)
		time.Sleep(time.Millisecond)
	}
	// Nothing was lost from the history while it was being dropped.
	p, _ := f.broker.Range("", nil, 0)
	for i := 1; i < len(p.Events); i++ {
		if p.Events[i].Seq != p.Events[i-1].Seq+1 {
			t.Fatalf("gap between %s and %s", p.Events[i-1].ID, p.Events[i].ID)
		}
	}
}

func TestWriteFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"deadline", fmt.Errorf("write: %w", os.ErrDeadlineExceeded), CloseSlow},
		{"other", io.ErrClosedPipe, CloseWriteFailed},
	} {
		if got, _ := writeFailure(ctx, tt.err); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	cancel()
	if got, _ := writeFailure(ctx, io.ErrClosedPipe); got != CloseClientGone {
		t.Errorf("after the client left: %q", got)
	}
}

func newServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
