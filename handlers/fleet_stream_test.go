package handlers

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"vitals/history"
	"vitals/internal/ssetest"
)

// TestEventsFleetStreamsTheRows asks /events for the fleet: its rows come
// right after hello, then with each tick, with only the new sparkline
// samples and the same figures as the tick's events.
func TestEventsFleetStreamsTheRows(t *testing.T) {
	// Heartbeats every 300 ms: two of them in a row mark a quiet spell of
	// several fleet periods (below).
	f := newFixture(t, func(o *Options) { o.Interval, o.Heartbeat = 100*time.Millisecond, 300*time.Millisecond })
	publish := func(cpu float64) int64 { return publishTick(t, f, cpu) }
	fleet := func(s *ssetest.Stream) fleetEvent {
		t.Helper()
		for {
			ev := s.NextEvent(t)
			if ev.Event == "fleet" {
				if ev.ID != "" {
					t.Fatalf("fleet event with an id: %+v", ev)
				}
				return decode[fleetEvent](t, ev.Data)
			}
		}
	}
	for _, cpu := range []float64{10, 20, 30, 40} {
		publish(cpu)
	}

	s := ssetest.Open(t, f.srv.URL+"/events?fleet=true&points=3")
	first := fleet(s)
	if first.Append || first.Self != "testhost" || len(first.Hosts) != 1 {
		t.Fatalf("first fleet event = %+v", first)
	}
	if r := first.Hosts[0]; len(r.Spark.CPU) != 3 || r.Spark.CPU[2] != 40 || r.CPU == nil || *r.CPU != 40 || !r.Live {
		t.Errorf("first row = %+v, want the last 3 samples and cpu 40", r)
	}

	ms := publish(55.5)
	next := fleet(s)
	if !next.Append || len(next.Hosts) != 1 {
		t.Fatalf("next fleet event = %+v", next)
	}
	r := next.Hosts[0]
	if r.T != ms || r.CPU == nil || *r.CPU != 55.5 || len(r.Spark.T) != 1 || r.Spark.T[0] != ms || r.Spark.CPU[0] != 55.5 {
		t.Errorf("row after the tick at %d = %+v, want only that sample", ms, r)
	}

	// Nothing changes for several periods: no fleet event until the next
	// tick. The server's own heartbeats measure the quiet spell: two in a
	// row are at least a heartbeat apart, three fleet periods, in which
	// the fleet timer ran with no tick to carry the rows.
	for pings := 0; pings < 2; {
		ev := s.Next(t)
		switch {
		case ev.Event == "fleet":
			t.Errorf("a fleet event with nothing new: %s", ev.Data)
		case ev.Event == "" && ev.Data == "" && ev.Comment != "":
			pings++
		}
	}
	ms = publish(60)
	for {
		ev := s.NextEvent(t)
		if ev.Event == "fleet" {
			if got := decode[fleetEvent](t, ev.Data); got.Hosts[0].T != ms {
				t.Errorf("a fleet event with nothing new: %+v", got)
			}
			break
		}
	}
}

// publishTick publishes one tick of cpu and memory a second after the
// last, and returns its time in unix ms.
func publishTick(t *testing.T, f *fixture, cpu float64) int64 {
	t.Helper()
	f.mu.Lock()
	ts := f.now
	f.now = f.now.Add(time.Second)
	f.mu.Unlock()
	ms := ts.UnixMilli()
	err := f.broker.Publish(ts, []history.Sample{
		{Topic: "cpu", Data: fmt.Appendf(nil, `{"t":%d,"total":%g}`, ms, cpu)},
		{Topic: "memory", Data: fmt.Appendf(nil, `{"t":%d,"total":8000,"used":2000,"percent":25}`, ms)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestEventsFleetRidesTheTick reads the stream's HTTP chunks: a tick's
// fleet rows go out in the tick's own chunk, so a browser draws the tick
// and the fleet in one frame. The fleet's period is far longer than the
// test, so only the tick can have sent them.
func TestEventsFleetRidesTheTick(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Interval = time.Hour })
	publishTick(t, f, 10)
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "GET /events?fleet=true HTTP/1.1\r\nHost: vitals\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("transfer encoding %v, want chunked", resp.TransferEncoding)
	}
	// resp.Body would join the chunks; read them from br as they came.
	chunk := func() string {
		t.Helper()
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
		if err != nil || n == 0 {
			t.Fatalf("chunk size %q: %v", line, err)
		}
		b := make([]byte, n+2) // and its CRLF
		if _, err := io.ReadFull(br, b); err != nil {
			t.Fatal(err)
		}
		return string(b[:n])
	}
	for !strings.Contains(chunk(), "event: fleet") {
		// hello, and the first rows after it
	}
	publishTick(t, f, 20)
	for {
		c := chunk()
		if !strings.Contains(c, "event: cpu") {
			continue // a heartbeat
		}
		if !strings.Contains(c, "event: fleet") {
			t.Fatalf("the tick's chunk has no fleet rows:\n%s", c)
		}
		return
	}
}

func TestEventsFleetBadValueIs400(t *testing.T) {
	f := newFixture(t, nil)
	for _, q := range []string{"fleet=maybe", "fleet=true&points=0"} {
		resp, body := ssetest.Do(t, http.MethodGet, f.srv.URL+"/events?"+q)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
}
