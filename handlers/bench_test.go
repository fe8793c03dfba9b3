package handlers

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"vitals/history"
	"vitals/hostinfo"
)

// BenchmarkReplayFullWindow measures the server's side of the biggest
// catch-up: a client resuming from the oldest id of a full hour (18,000
// events) through the real /events handler, into a writer that discards
// the bytes. One op ends when catchup-end has been written. The target
// (server side <= 50 ms) is checked in BENCHMARKS.md, not here.
func BenchmarkReplayFullWindow(b *testing.B) {
	const ticks = 3600 // one hour at 1 Hz, five topics a tick
	end := time.Now().Truncate(time.Second)
	now := end.Add(-ticks * time.Second)
	br, err := history.Open(history.Options{Dir: b.TempDir(), Topics: testTopics, Retention: 2 * time.Hour,
		MaxBytes: 256 << 20, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	for range ticks {
		now = now.Add(time.Second)
		if err := br.Publish(now, benchSamples(now.UnixMilli())); err != nil {
			b.Fatal(err)
		}
	}
	h, err := New(Options{
		Sources:  OneHost(br, hostinfo.Info{Hostname: "bench", OS: "linux", CPUs: 2}, time.Second),
		Host:     hostinfo.Info{Hostname: "bench", OS: "linux", CPUs: 2},
		Instance: "bench", Interval: time.Second, Retention: time.Hour, Retry: 2 * time.Second, Heartbeat: time.Minute,
		Static: testStatic(),
		Health: func() error { return nil },
	})
	if err != nil {
		b.Fatal(err)
	}
	oldest, _ := br.Bounds()
	b.ReportAllocs()
	var written int64
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/events", nil)
		req.Header.Set("Last-Event-ID", oldest)
		w := &discardUntil{h: http.Header{}, marker: []byte("event: catchup-end\n"), done: cancel}
		h.ServeHTTP(w, req)
		cancel()
		if !w.seen {
			b.Fatalf("no catchup-end after %d bytes (status %d)", w.n, w.status)
		}
		written = w.n
	}
	b.SetBytes(written)
}

// discardUntil is a ResponseWriter (with Flush) that drops what it is given
// and cancels the request once marker has gone by.
type discardUntil struct {
	h      http.Header
	status int
	n      int64
	marker []byte
	seen   bool
	done   func()
}

func (w *discardUntil) Header() http.Header  { return w.h }
func (w *discardUntil) WriteHeader(code int) { w.status = code }
func (w *discardUntil) Flush()               {}
func (w *discardUntil) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	// catchup-end closes the replay's last write: look only at the tail.
	if tail := p[max(0, len(p)-256):]; !w.seen && bytes.Contains(tail, w.marker) {
		w.seen = true
		w.done()
	}
	return len(p), nil
}

func benchSamples(t int64) []history.Sample {
	ts := strconv.FormatInt(t, 10)
	return []history.Sample{
		{Topic: "cpu", Data: []byte(`{"t":` + ts + `,"total":12.5,"user":8.25,"system":4.25,"iowait":0,"steal":0,"idle":87.5,"cores":[10.5,14.5]}`)},
		{Topic: "memory", Data: []byte(`{"t":` + ts + `,"total":25276514304,"used":958992384,"available":24317521920,"cached":2058760192,"buffers":21962752,"percent":3.79,"swap_total":null,"swap_used":null}`)},
		{Topic: "load", Data: []byte(`{"t":` + ts + `,"load1":0.81,"load5":0.3,"load15":0.16,"cpus":2}`)},
		{Topic: "disk", Data: []byte(`{"t":` + ts + `,"read_bps":0,"write_bps":176093.52,"read_iops":0,"write_iops":39.99,"devices":{"vda":{"read_bps":0,"write_bps":176093.52,"read_iops":0,"write_iops":39.99}},"filesystems":[{"mount":"/","fstype":"ext4","total":270553174016,"used":14089887744,"percent":14.41}]}`)},
		{Topic: "network", Data: []byte(`{"t":` + ts + `,"rx_bps":1024,"tx_bps":2048,"rx_pps":3,"tx_pps":4,"interfaces":{"eth0":{"rx_bps":1024,"tx_bps":2048,"rx_pps":3,"tx_pps":4}}}`)},
	}
}
