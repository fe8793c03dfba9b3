package handlers

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"vitals/hostinfo"
	"vitals/internal/ssetest"
)

func TestEventsStartsWithRetryAndHello(t *testing.T) {
	f := newFixture(t, nil)
	ids := f.tick(t, 0)
	s := ssetest.Open(t, f.srv.URL+"/events")
	h := s.Resp.Header
	if s.Resp.StatusCode != 200 || h.Get("Content-Type") != "text/event-stream; charset=utf-8" ||
		h.Get("Cache-Control") != "no-cache" || h.Get("X-Accel-Buffering") != "no" || h.Get("Content-Encoding") != "" {
		t.Fatalf("status %d, headers %v", s.Resp.StatusCode, h)
	}
	if first := s.Next(t); first.Retry != "2000" || first.Event != "" {
		t.Fatalf("first block = %+v, want retry: 2000", first)
	}
	hello := s.Next(t)
	if hello.Event != "hello" || hello.ID != "" {
		t.Fatalf("second block = %+v", hello)
	}
	got := decode[map[string]any](t, hello.Data)
	for _, k := range []string{"host", "os", "kernel", "cpus", "boot_time", "interval_ms", "topics", "oldest", "newest", "instance", "version"} {
		if _, ok := got[k]; !ok {
			t.Errorf("hello lacks %q: %s", k, hello.Data)
		}
	}
	if got["oldest"] != ids[0] || got["newest"] != ids[4] || got["instance"] != "inst1" || got["version"] != "v1.2.3-test" || got["interval_ms"] != 1000.0 {
		t.Errorf("hello = %s", hello.Data)
	}
	// No id given: straight to live, no catch-up.
	live := f.tick(t, 0)
	if ev := s.NextEvent(t); ev.ID != live[0] || ev.Event != "cpu" {
		t.Fatalf("first live event = %+v, want %s", ev, live[0])
	}
}

func TestEventsCatchUp(t *testing.T) {
	f := newFixture(t, nil)
	first := f.tick(t, 0)
	second := f.tick(t, 0)
	tests := []struct {
		name   string
		query  string
		header string
		want   []string
	}{
		{"header", "", first[4], second},
		{"query parameter", "?lastEventId=" + first[4], "", second},
		{"header wins over query", "?lastEventId=" + first[0], first[4], second},
		{"nothing missed still brackets", "", second[4], nil},
		{"topic filter", "?topics=load,cpu", first[4], []string{second[0], second[2]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.header != "" {
				hdr = append(hdr, "Last-Event-ID: "+tt.header)
			}
			s := ssetest.Open(t, f.srv.URL+"/events"+tt.query, hdr...)
			s.NextEvent(t) // hello
			start := s.NextEvent(t)
			cs := decode[catchupStart](t, start.Data)
			if start.Event != "catchup-start" || start.ID != "" || !cs.Complete || cs.Count != len(tt.want) {
				t.Fatalf("catchup-start = %+v", start)
			}
			var got []string
			for range tt.want {
				got = append(got, s.NextEvent(t).ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("replayed %v, want %v", got, tt.want)
			}
			end := s.NextEvent(t)
			ce := decode[catchupEnd](t, end.Data)
			if end.Event != "catchup-end" || ce.Count != len(tt.want) || ce.Head != second[4] {
				t.Fatalf("catchup-end = %+v", end)
			}
		})
	}
}

func TestEventsMalformedIDIsNeverAnHTTPError(t *testing.T) {
	f := newFixture(t, nil)
	window := append(f.tick(t, 0), f.tick(t, 0)...)
	for _, id := range []string{"garbage", strings.Repeat("9", 500), "abcdefgh.1", "\u00e9\u00e9"} {
		s := ssetest.Open(t, f.srv.URL+"/events", "Last-Event-ID: "+id)
		if s.Resp.StatusCode != 200 {
			t.Fatalf("id %q: status %d", id, s.Resp.StatusCode)
		}
		s.NextEvent(t)
		cs := decode[catchupStart](t, s.NextEvent(t).Data)
		if cs.Complete || cs.Reason == "" || cs.Count != len(window) {
			t.Fatalf("id %q: %+v", id, cs)
		}
	}
}

func TestEventsUnknownTopicIs400JSON(t *testing.T) {
	f := newFixture(t, nil)
	resp, err := http.Get(f.srv.URL + "/events?topics=cpu,gpu")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	got := decode[struct {
		Error string
		Valid []string
	}](t, string(body))
	if resp.StatusCode != 400 || !strings.Contains(got.Error, `"gpu"`) || !slices.Equal(got.Valid, testTopics) {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
}

func TestEventsHeartbeat(t *testing.T) {
	f := newFixture(t, func(c *Options) { c.Heartbeat = 50 * time.Millisecond })
	s := ssetest.Open(t, f.srv.URL+"/events")
	s.Next(t) // retry
	s.Next(t) // hello
	if ev := s.Next(t); ev.Comment != "ping" {
		t.Fatalf("want a ping on an idle stream, got %+v", ev)
	}
}

func TestEventsReplaysAFullHourInOneGo(t *testing.T) {
	f := newFixture(t, nil)
	// An hour of 5 topics at 1 Hz: about 18,000 events of ~200 bytes.
	var first string
	for i := range 3600 {
		ids := f.tick(t, 150)
		if i == 0 {
			first = ids[0]
		}
	}
	s := ssetest.Open(t, f.srv.URL+"/events", "Last-Event-ID: "+first)
	s.NextEvent(t)
	cs := decode[catchupStart](t, s.NextEvent(t).Data)
	if !cs.Complete || cs.Count != 3600*5-1 {
		t.Fatalf("catchup-start = %+v", cs)
	}
	for range cs.Count {
		if ev := s.NextEvent(t); ev.ID == "" {
			t.Fatalf("replay event without id: %+v", ev)
		}
	}
	if end := s.NextEvent(t); end.Event != "catchup-end" {
		t.Fatalf("after the replay: %+v", end)
	}
	if st := f.broker.Stats(); st.Dropped != 0 || st.Subscribers != 1 {
		t.Fatalf("stats after replay: %+v", st)
	}
}

func TestClientThatStopsReadingIsDroppedOthersStayOnTime(t *testing.T) {
	f := newFixture(t, func(c *Options) { c.WriteTimeout = 200 * time.Millisecond })
	// The stuck client: asks for the stream and never reads a byte.
	dialStuck(t, f)
	healthy := ssetest.Open(t, f.srv.URL+"/events")
	healthy.NextEvent(t) // hello

	waitFor(t, func() bool { return f.broker.Stats().Subscribers == 2 })
	// Publish big ticks until the stuck client's socket buffers fill and
	// its writes pass their deadline. The healthy client must get every
	// event of every tick, in order.
	for i := 0; f.broker.Stats().Subscribers > 1; i++ {
		if i == 2000 {
			t.Fatal("stuck client was never dropped")
		}
		ids := f.tick(t, 16<<10)
		for _, id := range ids {
			if ev := healthy.NextEvent(t); ev.ID != id {
				t.Fatalf("healthy client got %s, want %s", ev.ID, id)
			}
		}
	}
	ids := f.tick(t, 0)
	if ev := healthy.NextEvent(t); ev.ID != ids[0] {
		t.Fatalf("after the drop the healthy client got %s, want %s", ev.ID, ids[0])
	}
}

func TestShutdownTellsStreamsToReconnect(t *testing.T) {
	before := runtime.NumGoroutine()
	f := newFixture(t, nil)
	s := ssetest.Open(t, f.srv.URL+"/events")
	s.NextEvent(t)
	f.broker.Shutdown()
	ev := s.Next(t)
	if ev.Retry == "" {
		t.Fatalf("want a retry before close, got %+v", ev)
	}
	if _, err := s.Read(ssetest.DefaultTimeout); err != io.EOF {
		t.Fatalf("stream not closed after shutdown: %v", err)
	}
	// New clients during shutdown get 200 + retry, never an error status.
	s2 := ssetest.Open(t, f.srv.URL+"/events")
	if s2.Resp.StatusCode != 200 || s2.Next(t).Retry == "" {
		t.Fatalf("status %d during shutdown", s2.Resp.StatusCode)
	}
	s.Close()
	s2.Close()
	f.srv.Close()
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("condition not met in 10s; goroutines:\n%s", buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A writer that can't hand over its connection (a wrapping middleware, a
// recorder) gets the same stream through net/http.
func TestEventsThroughAWriterThatCannotHijack(t *testing.T) {
	f := newFixture(t, nil)
	ids := f.tick(t, 0)
	h, err := New(Options{Sources: OneHost(f.broker, hostinfo.Info{}, time.Second), Interval: time.Second, Retry: time.Second, Heartbeat: time.Minute,
		Static: testStatic(), Health: func() error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, "GET", "/events", nil)
	req.Header.Set("Last-Event-ID", ids[0])
	w := &discardUntil{h: http.Header{}, marker: []byte("event: catchup-end\n"), done: cancel}
	h.ServeHTTP(w, req)
	if !w.seen || w.status != 200 || w.h.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("seen %v, status %d, header %v", w.seen, w.status, w.h)
	}
}

// TestEventsOverTLSAndHTTP2 serves the stream over TLS with HTTP/2, where
// the connection can't be hijacked (the handler writes through net/http
// with a flush and a write deadline per tick), and over TLS with HTTP/1.1
// (hijacked, each chunk gathered into one TLS record). The events, the
// resume and the goodbye at shutdown must be what plain HTTP/1.1 gets.
func TestEventsOverTLSAndHTTP2(t *testing.T) {
	f := newFixture(t, nil)
	h2 := httptest.NewUnstartedServer(f.srv.Config.Handler)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	t.Cleanup(h2.Close)
	// HTTP/1.1 over TLS: hijacked, but a TLS connection can't writev.
	h1s := httptest.NewTLSServer(f.srv.Config.Handler)
	t.Cleanup(h1s.Close)
	first := f.tick(t, 0)

	open := func(client *http.Client, base string) *ssetest.Stream {
		return ssetest.OpenWith(t, client, base+"/events?topics=cpu,load", "Last-Event-ID: "+first[0])
	}
	s2 := open(h2.Client(), h2.URL)
	s1 := open(http.DefaultClient, f.srv.URL)
	s1s := open(h1s.Client(), h1s.URL)
	if s1s.Resp.ProtoMajor != 1 || s1s.Resp.TLS == nil {
		t.Fatalf("TLS server spoke %s", s1s.Resp.Proto)
	}
	if s2.Resp.ProtoMajor != 2 || s2.Resp.StatusCode != 200 || s2.Resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("%s %d %v", s2.Resp.Proto, s2.Resp.StatusCode, s2.Resp.Header)
	}
	if s1.Resp.ProtoMajor != 1 {
		t.Fatalf("plain server spoke %s", s1.Resp.Proto)
	}
	// retry, hello, catchup-start, the first tick's load (its cpu is the
	// resume point), catchup-end, then two live ticks of cpu and load.
	var live []string
	for range 2 {
		ids := f.tick(t, 0)
		live = append(live, ids[0], ids[2])
	}
	const blocks = 1 + 1 + 1 + 1 + 1 + 4
	for i := range blocks {
		b1, b1s, b2 := s1.Next(t), s1s.Next(t), s2.Next(t)
		if b1 != b2 || b1 != b1s {
			t.Fatalf("block %d differs:\nHTTP/1.1 %+v\nHTTPS/1.1 %+v\nHTTP/2   %+v", i, b1, b1s, b2)
		}
		if i == 3 && b2.ID != first[2] {
			t.Fatalf("replayed %+v, want %s", b2, first[2])
		}
		if i >= 5 && b2.ID != live[i-5] {
			t.Fatalf("live block %d = %+v, want %s", i, b2, live[i-5])
		}
	}
	// Shutdown: a short retry, then a clean end of the response.
	f.broker.Shutdown()
	if b := s2.Next(t); b.Retry == "" {
		t.Fatalf("want a retry at shutdown, got %+v", b)
	}
	if _, err := s2.Read(ssetest.DefaultTimeout); err != io.EOF {
		t.Fatalf("after the goodbye: %v, want a clean end (io.EOF)", err)
	}
}

// A stream whose socket fills leaves the writers for a goroutine of
// its own, mid-chunk, and still delivers every event once and in order
// when its client reads again.
func TestStreamThatFallsBehindMovesToTheSlowPathAndLosesNothing(t *testing.T) {
	f := newFixture(t, func(c *Options) { c.WriteTimeout = time.Minute })
	// Not read for now. Its receive buffer keeps the kernel's default: a
	// tiny one stalls loopback TCP on the persist timer once reading
	// resumes (the window never opens by a whole 64 KiB segment).
	c, err := net.Dial("tcp", f.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
	waitFor(t, func() bool { return pooledStreams(f) == 1 })
	var want []string
	// While the writers serve the stream each tick is written whole, so
	// its queue stays empty; once the socket's buffers (megabytes on
	// loopback) are full the rest of a tick goes through the slow path,
	// and the next tick or two queue well under the 256 KiB budget.
	for i := 0; pooledStreams(f) == 1; i++ {
		if i == 2000 {
			t.Fatal("the stream never left the writers")
		}
		want = append(want, f.tick(t, 6000)...)
	}
	want = append(want, f.tick(t, 0)...)
	c.SetReadDeadline(time.Now().Add(time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	var got []string
	for len(got) < len(want) && sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
			got = append(got, id)
		}
	}
	if i := firstDiff(got, want); i >= 0 {
		buf := make([]byte, 1<<16)
		t.Fatalf("got %d ids, want %d; first difference at %d (%v); goroutines:\n%s", len(got), len(want), i, sc.Err(), buf[:runtime.Stack(buf, true)])
	}
	if st := f.broker.Stats(); st.Dropped != 0 {
		t.Fatalf("dropped: %+v", st)
	}
}

// pooledStreams counts the streams the writers serve.
func pooledStreams(f *fixture) int {
	ws := f.srv.Config.Handler.(*Handler).s.writers
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return len(ws.streams)
}

// firstDiff is the index where got and want first differ, or -1.
func firstDiff(got, want []string) int {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return i
		}
	}
	if len(got) != len(want) {
		return min(len(got), len(want))
	}
	return -1
}

// Live streams with different topic sets share the writers' frames only
// where their events are the same: each gets exactly its own topics, in
// order, tick after tick.
func TestLiveStreamsWithDifferentTopicsEachGetTheirOwn(t *testing.T) {
	f := newFixture(t, nil)
	sets := []string{"", "cpu,memory", "load,cpu", "network"}
	streams := make([]*ssetest.Stream, len(sets))
	for i, set := range sets {
		url := f.srv.URL + "/events"
		if set != "" {
			url += "?topics=" + set
		}
		streams[i] = ssetest.Open(t, url)
		streams[i].NextEvent(t) // hello
	}
	waitFor(t, func() bool { return pooledStreams(f) == len(sets) })
	for range 3 {
		ids := f.tick(t, 0) // cpu, memory, load, disk, network
		want := [][]string{ids, {ids[0], ids[1]}, {ids[0], ids[2]}, {ids[4]}}
		for i, s := range streams {
			for _, id := range want[i] {
				if ev := s.NextEvent(t); ev.ID != id {
					t.Fatalf("topics %q: got %s (%s), want %s", sets[i], ev.ID, ev.Event, id)
				}
			}
		}
	}
}
