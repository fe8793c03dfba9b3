package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gin-gonic/gin"

	"vitals/bench/internal/loadresult"
	"vitals/handlers"
	"vitals/history"
	"vitals/hostinfo"
)

// TestFanOutExact is the fan-out correctness check: 200 streams (a quarter
// of them filtered to two topics) held for 10 s against the real handlers
// and broker, every stream's ids compared with GET /api/history. It
// asserts exactness only, never speed: the machine may be busy.
func TestFanOutExact(t *testing.T) {
	// 200 ms ticks: five times the product's rate, so the 10 s window
	// carries 50 ticks per stream.
	const interval = 200 * time.Millisecond
	srvURL := servePublishing(t, "loadgen-test", interval, 1)[0]

	res := runFlags(t, "-url", srvURL, "-streams", "200", "-ramp", "1000", "-hold", "10s",
		"-grace", "2s", "-interval", interval.String(), "-label", "test")
	c := res.Check
	t.Logf("held %d, %d live events, p99 %.1f ms, check %+v", res.Held, res.LiveEvents, res.Latency.P99, c)
	if res.Held != 200 || res.Failed != 0 {
		t.Errorf("held %d streams, %d failed; want 200, 0 (errors: %v)", res.Held, res.Failed, res.Errors)
	}
	if c.Streams != 200 || c.Expected == 0 {
		t.Errorf("checked %d streams owing %d events; want 200 streams owing some", c.Streams, c.Expected)
	}
	if c.Missed != 0 || c.OutOfOrder != 0 || c.Unknown != 0 || c.BadIDs != 0 {
		t.Errorf("not exact: %+v", c)
	}
	if len(res.Errors) > 0 {
		t.Errorf("stream errors: %v", res.Errors)
	}
}

// TestSpreadOverURLsExact spreads streams over two servers sharing one
// broker (so one id sequence, as instances sharing a Redis have), each
// stream asking for ?host=, and checks every stream against the log of
// the URL it used.
func TestSpreadOverURLsExact(t *testing.T) {
	const interval = 200 * time.Millisecond
	urls := servePublishing(t, "h0", interval, 2)

	res := runFlags(t, "-urls", strings.Join(urls, ","), "-hosts", "h0", "-streams", "60", "-ramp", "1000",
		"-hold", "3s", "-grace", "1s", "-interval", interval.String(), "-label", "spread", "-pids", strconv.Itoa(os.Getpid()))
	c := res.Check
	if res.Held != 60 || c.Streams != 60 || c.Expected == 0 || c.Logs != 2 {
		t.Errorf("held %d, checked %d streams owing %d over %d logs; want 60, 60, some, 2 (errors: %v)", res.Held, c.Streams, c.Expected, c.Logs, res.Errors)
	}
	if c.Missed != 0 || c.OutOfOrder != 0 || c.Unknown != 0 || c.BadIDs != 0 || c.Disagree != 0 {
		t.Errorf("not exact: %+v", c)
	}
	if len(res.Servers) != 1 || res.Servers[0].Held != 30 {
		t.Errorf("servers %+v: want one, holding the first URL's 30 streams", res.Servers)
	}
}

func TestRedisIDs(t *testing.T) {
	var e epochs
	a, ok1 := e.parse([]byte("1795599730000-2"))
	b, ok2 := e.parse([]byte("1795599730001-0"))
	c, ok3 := e.parse([]byte("abcdefgh.17"))
	if !ok1 || !ok2 || !ok3 || a >= b || a>>seqBits == c>>seqBits {
		t.Fatalf("parse: %x %v, %x %v, %x %v", a, ok1, b, ok2, c, ok3)
	}
	if got := e.format(a); got != "1795599730000-2" {
		t.Errorf("format = %q", got)
	}
	if got := e.format(c); got != "abcdefgh.17" {
		t.Errorf("format = %q", got)
	}
	for _, bad := range []string{"1-16", "-1", "1-", "x-1", "17"} {
		if _, ok := e.parse([]byte(bad)); ok {
			t.Errorf("parse(%q) ok", bad)
		}
	}
}

// testHandler is the real handlers over broker b, for host hostname.
// runFlags runs the load generator as its command line args would, to
// the end, and fails the test if it cannot start.
func runFlags(t *testing.T, args ...string) *loadresult.Result {
	t.Helper()
	cfg, err := parseFlags(args)
	if err != nil {
		t.Fatal(err)
	}
	res, err := run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func testHandler(t *testing.T, b *history.Broker, hostname string, interval time.Duration) http.Handler {
	t.Helper()
	h, err := handlers.New(handlers.Options{
		Sources:  handlers.OneHost(b, hostinfo.Info{Hostname: hostname, OS: "linux", CPUs: 2}, interval),
		Host:     hostinfo.Info{Hostname: hostname, OS: "linux", CPUs: 2},
		Instance: "test", Interval: interval, Retention: time.Hour, Retry: time.Second, Heartbeat: time.Minute,
		Static: fstest.MapFS{
			"vendor/uPlot.esm.js":  {Data: []byte("export default {}")},
			"vendor/uPlot.min.css": {Data: []byte("")},
		},
		Health: func() error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// servePublishing serves n test servers of the real handlers over one
// broker for host, fed a tick of every topic each interval by a publisher
// standing in for the sampler, and returns their URLs. The test owns the
// publisher: cleanup stops it first, then the broker and the servers.
func servePublishing(t *testing.T, host string, interval time.Duration, n int) []string {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	topics := []string{"cpu", "memory", "load", "disk", "network"}
	b, err := history.Open(history.Options{Dir: t.TempDir(), Topics: topics, Retention: time.Hour, MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	var srvs []*httptest.Server
	for range n {
		srv := httptest.NewServer(testHandler(t, b, host, interval))
		srvs = append(srvs, srv)
		urls = append(urls, srv.URL)
	}
	stop, wg := startPublisher(b, topics, interval)
	t.Cleanup(func() {
		stop()
		wg.Wait()
		b.Shutdown()
		for _, s := range srvs {
			s.Close()
		}
		b.Close()
	})
	return urls
}

// startPublisher publishes one tick of every topic each interval, standing
// in for the sampler, until stop is called; wait on wg after stop.
func startPublisher(b *history.Broker, topics []string, interval time.Duration) (stop func(), wg *sync.WaitGroup) {
	ctx, stop := context.WithCancel(context.Background())
	wg = &sync.WaitGroup{}
	wg.Go(func() {
		tk := time.NewTicker(interval)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tk.C:
				ts := strconv.FormatInt(now.UnixMilli(), 10)
				var s []history.Sample
				for _, tp := range topics {
					s = append(s, history.Sample{Topic: tp, Data: []byte(`{"t":` + ts + `,"v":1}`)})
				}
				b.Publish(now, s)
			}
		}
	})
	return stop, wg
}

// TestParserSkipsNonEvents checks that after hello (which leaves p.data
// empty but not nil) a heartbeat comment or a retry-only block is not
// counted as a live event.
func TestParserSkipsNonEvents(t *testing.T) {
	r := &runner{}
	s := &stream{r: r}
	p := parser{s: s, start: time.Now()}
	for _, l := range []string{"event: hello", `data: {"newest":""}`, "", ": ping", "", "retry: 1000", "", "event: cpu", `data: {"t":1}`, ""} {
		p.line([]byte(l))
	}
	if !p.hello {
		t.Fatal("hello not seen")
	}
	if n := r.live.Load(); n != 1 {
		t.Errorf("live events = %d, want 1", n)
	}
	if s.retry != time.Second {
		t.Errorf("retry = %v, want 1s", s.retry)
	}
}

// TestParseNoAllocs checks the per-event path: an id of a known epoch is
// parsed without allocating, with or without a stream's cache.
func TestParseNoAllocs(t *testing.T) {
	var e epochs
	var c epochCache
	ids := [][]byte{[]byte("abcdefgh.17"), []byte("abcdefgh.18"), []byte("1795599730000-2")}
	for _, id := range ids {
		e.parse(id)
	}
	for _, id := range ids {
		if n := testing.AllocsPerRun(100, func() { e.parseCached(id, &c) }); n != 0 {
			t.Errorf("parseCached(%q): %v allocs", id, n)
		}
		if n := testing.AllocsPerRun(100, func() { e.parse(id) }); n != 0 {
			t.Errorf("parse(%q): %v allocs", id, n)
		}
	}
	a, _ := e.parseCached([]byte("zz.5"), &c)
	b, _ := e.parseCached([]byte("abcdefgh.5"), &c)
	if e.format(a) != "zz.5" || e.format(b) != "abcdefgh.5" {
		t.Errorf("after an epoch change: %q, %q", e.format(a), e.format(b))
	}
}

// TestLoopbackOnly checks every URL the run contacts is on loopback.
func TestLoopbackOnly(t *testing.T) {
	for _, args := range [][]string{
		{"-url", "http://127.0.0.1:8080"},
		{"-url", "http://127.0.0.2:8080"},
		{"-url", "http://localhost:8080"},
		{"-url", "http://[::1]:8080"},
		{"-urls", "http://127.0.0.1:1,http://127.0.0.1:2"},
		{"-pprof", "http://127.0.0.1:6060"},
	} {
		if _, err := parseFlags(args); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
	for _, args := range [][]string{
		{"-url", "http://127.evil.example:8080"},
		{"-url", "http://10.0.0.1:8080"},
		{"-url", "https://127.0.0.1:8080"},
		{"-urls", "http://127.0.0.1:1,http://127.evil.example:2"},
		{"-pprof", "http://127.evil.example:6060"},
		{"-pprof", "http://192.0.2.1:6060"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

// TestRunStopsOnCancel checks that cancelling the run's context cuts the
// window, the grace, the slow drain and the settle short.
func TestRunStopsOnCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	cfg, err := parseFlags([]string{"-url", srv.URL, "-streams", "5", "-slow", "1", "-hold", "1m", "-grace", "1m",
		"-slow-drain", "1m", "-settle", "1m", "-truth", "ticks", "-label", "cancel"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	if _, err := run(ctx, cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("run took %v after its context ended", d)
	}
}
