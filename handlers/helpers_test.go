package handlers

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gin-gonic/gin"

	"vitals/history"
	"vitals/hostinfo"
)

func TestMain(m *testing.M) {
	// gin prints every route in its default debug mode; the mode is a
	// gin-wide switch, which main sets too.
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

var testTopics = []string{"cpu", "memory", "load", "disk", "network"}

type fixture struct {
	broker *history.Broker
	srv    *httptest.Server
	mu     sync.Mutex
	now    time.Time // sample time of the next tick
}

// newFixture serves the real handlers over a real broker on a bbolt file
// in a temp dir. mod adjusts the Options.
func newFixture(t *testing.T, mod func(*Options)) *fixture {
	t.Helper()
	f := &fixture{now: time.Now().Truncate(time.Second)}
	b, err := history.Open(history.Options{Dir: t.TempDir(), Topics: testTopics, Retention: 2 * time.Hour,
		MaxBytes: 256 << 20, Now: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Options{
		Host:      hostinfo.Info{Hostname: "testhost", OS: "linux", CPUs: 2, BootTime: time.Unix(1_700_000_000, 0)},
		Instance:  "inst1",
		Version:   "v1.2.3-test",
		Interval:  time.Second,
		Retention: time.Hour,
		Retry:     2 * time.Second,
		Heartbeat: time.Minute,
		Static:    testStatic(),
		Health:    func() error { return nil },
	}
	if mod != nil {
		mod(&cfg)
	}
	if cfg.Sources == nil {
		cfg.Sources = OneHost(b, cfg.Host, cfg.Interval)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.broker = b
	f.srv = httptest.NewServer(h)
	t.Cleanup(func() {
		b.Shutdown()
		f.srv.Close()
		b.Close()
	})
	return f
}

// testStatic stands in for the static files: the pages need the vendored
// chart library to exist; these tests don't look at its contents.
func testStatic() fstest.MapFS {
	return fstest.MapFS{
		"vendor/uPlot.esm.js":  {Data: []byte("export default {}")},
		"vendor/uPlot.min.css": {Data: []byte("")},
	}
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// tick publishes one event per topic (payload padded to pad bytes) and
// returns their ids.
func (f *fixture) tick(t testing.TB, pad int) []string {
	t.Helper()
	f.mu.Lock()
	ts := f.now
	f.now = f.now.Add(time.Second)
	f.mu.Unlock()
	var samples []history.Sample
	for _, topic := range testTopics {
		samples = append(samples, history.Sample{Topic: topic,
			Data: fmt.Appendf(nil, `{"t":%d,"pad":%q}`, ts.UnixMilli(), strings.Repeat("x", pad))})
	}
	if err := f.broker.Publish(ts, samples); err != nil {
		t.Fatal(err)
	}
	p, _ := f.broker.Range("", nil, len(samples))
	ids := make([]string, len(p.Events))
	for i, e := range p.Events {
		ids[i] = e.ID
	}
	return ids
}

// dialStuck asks for /events over a raw connection with a small receive
// buffer, and reads nothing unless the test does: a client that stopped
// reading. The connection is closed at cleanup, before the fixture's.
func dialStuck(t *testing.T, f *fixture) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", f.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.(*net.TCPConn).SetReadBuffer(4 << 10)
	io.WriteString(c, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
	return c
}

func decode[T any](t testing.TB, data string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
	return v
}
