package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vitals/internal/ssetest"
)

// These tests run the real binary through the bad inputs and the
// operations we promise to survive: after each, the server must still serve the
// next client and the history must have no hole.

const (
	procToken     = "proc-test-token-0123456789"
	procReadToken = "proc-read-token-0123456789"
)

// requireContiguousHistory checks that the retained events have
// consecutive sequence numbers: no event was lost. The minutes' "rollup"
// events share the sequence but are opt-in, left out of a history that
// names no topic, so they are asked for apart and fill their places. It
// returns how many events the plain history holds.
func requireContiguousHistory(t *testing.T, base string, headers ...string) int {
	t.Helper()
	plain := historySeqs(t, base+"/api/history", headers...)
	if len(plain) == 0 {
		return 0
	}
	seqs := slices.Clone(plain)
	for _, q := range historySeqs(t, base+"/api/history?topics=rollup", headers...) {
		if plain[0] < q && q < plain[len(plain)-1] {
			seqs = append(seqs, q)
		}
	}
	slices.Sort(seqs)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("history has a hole between sequence numbers %d and %d", seqs[i-1], seqs[i])
		}
	}
	return len(plain)
}

// historySeqs are the sequence numbers of the events url answers, in order.
func historySeqs(t *testing.T, url string, headers ...string) []uint64 {
	t.Helper()
	_, body := ssetest.Do(t, "GET", url, headers...)
	var p struct{ Events []struct{ ID string } }
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("history: %v: %s", err, body)
	}
	seqs := make([]uint64, len(p.Events))
	for i, e := range p.Events {
		seqs[i], _ = strconv.ParseUint(e.ID[strings.LastIndexByte(e.ID, '.')+1:], 10, 64)
	}
	return seqs
}

func TestBadInputIsAnsweredAndNothingIsLost(t *testing.T) {
	p := startVitals(t, t.TempDir(), "--token", procToken, "--read-token", procReadToken,
		"--cors-origins", "https://app.example", "--max-clients", "50", "--heartbeat", "1s")
	auth := "Authorization: Bearer " + procToken
	waitHistoryAuth(t, p.URL, 10, auth)

	// serves checks, after each bad input, that a well-behaved client
	// still gets a stream with live events.
	serves := func(t *testing.T) {
		t.Helper()
		s := ssetest.Open(t, p.URL+"/events?topics=cpu", auth)
		if s.Resp.StatusCode != 200 || s.NextEvent(t).Event != "hello" || s.NextEvent(t).Event != "cpu" {
			t.Fatalf("the next client was not served: %d", s.Resp.StatusCode)
		}
		s.Close()
	}
	jsonErr := func(t *testing.T, resp *http.Response, body string, status int) map[string]any {
		t.Helper()
		var m map[string]any
		if resp.StatusCode != status || json.Unmarshal([]byte(body), &m) != nil || m["error"] == nil {
			t.Fatalf("want %d with a JSON error, got %d %q", status, resp.StatusCode, body)
		}
		return m
	}

	for _, tt := range []struct {
		name  string
		check func(t *testing.T)
	}{
		{"unknown topic", func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", p.URL+"/events?topics=cpu,gpu", auth)
			if m := jsonErr(t, resp, body, 400); !strings.Contains(m["error"].(string), "gpu") || m["valid"] == nil {
				t.Fatalf("%s", body)
			}
		}},
		{"bad after", func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", p.URL+"/api/history?after=not-an-id", auth)
			jsonErr(t, resp, body, 400)
		}},
		{"bad limit", func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", p.URL+"/api/history?limit=-1", auth)
			jsonErr(t, resp, body, 400)
		}},
		{"malformed Last-Event-ID", func(t *testing.T) {
			s := ssetest.Open(t, p.URL+"/events", auth, "Last-Event-ID: <script>")
			s.NextEvent(t)
			var cs struct {
				Complete bool
				Reason   string
			}
			if b := s.NextEvent(t); b.Event != "catchup-start" || json.Unmarshal([]byte(b.Data), &cs) != nil || cs.Complete || cs.Reason != "malformed" {
				t.Fatalf("%+v", b)
			}
		}},
		{"oversized Last-Event-ID", func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", p.URL+"/events", auth, "Last-Event-ID: "+strings.Repeat("7", 100<<10))
			jsonErr(t, resp, body, 431)
		}},
		{"wrong token", func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", p.URL+"/events?token=wrong-token-0123456789")
			jsonErr(t, resp, body, 401)
		}},
		{"empty token", func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", p.URL+"/api/snapshot", "Authorization: Bearer ")
			jsonErr(t, resp, body, 401)
		}},
		{"read token on the dashboard", func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", p.URL+"/?token="+procReadToken)
			jsonErr(t, resp, body, 403)
		}},
		{"disallowed origin", func(t *testing.T) {
			resp, _ := ssetest.Do(t, "GET", p.URL+"/api/snapshot", auth, "Origin: https://evil.example")
			if resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Fatal("CORS header for a disallowed origin")
			}
			resp, _ = ssetest.Do(t, "GET", p.URL+"/api/snapshot", auth, "Origin: https://app.example")
			if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
				t.Fatal("no CORS header for the allowed origin")
			}
		}},
		{"wrong Host", func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", p.URL+"/api/snapshot", auth, "Host: rebind.evil.example")
			if resp.StatusCode != 403 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
				t.Fatalf("%d %q", resp.StatusCode, body)
			}
		}},
		{"bad method", func(t *testing.T) {
			resp, body := ssetest.Do(t, "DELETE", p.URL+"/api/history", auth)
			jsonErr(t, resp, body, 405)
			if resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
				t.Fatalf("Allow %q", resp.Header.Get("Allow"))
			}
		}},
		{"oversized request line", func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", p.URL+"/api/history?topics="+strings.Repeat("cpu,", 10<<10), auth)
			jsonErr(t, resp, body, 414)
		}},
		{"oversized header", func(t *testing.T) {
			resp, body := ssetest.Do(t, "GET", p.URL+"/api/history", auth, "X-Junk: "+strings.Repeat("j", 100<<10))
			jsonErr(t, resp, body, 431)
		}},
		{"header past the server's own limit", func(t *testing.T) {
			resp, _ := ssetest.Do(t, "GET", p.URL+"/api/history", auth, "X-Junk: "+strings.Repeat("j", 2<<20))
			if resp.StatusCode != 431 {
				t.Fatalf("status %d", resp.StatusCode)
			}
		}},
		{"thousands of connections", func(t *testing.T) { flood(t, p.URL, auth, 50) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t)
			serves(t)
			requireContiguousHistory(t, p.URL, auth)
		})
	}
}

// flood opens streams one after another until far past limit: the first
// limit get the stream, the rest a 200 with a retry and the end, and other
// requests keep being answered meanwhile. Then the slots free up again.
func flood(t *testing.T, base, auth string, limit int) {
	const tries = 1000 // bounded: loopback only, a few hundred fds at most held
	var held []*ssetest.Stream
	refused := 0
	for i := range tries {
		s := ssetest.Open(t, base+"/events", auth)
		if s.Resp.StatusCode != 200 {
			t.Fatalf("stream %d: status %d", i, s.Resp.StatusCode)
		}
		first, err := s.Read(ssetest.DefaultTimeout)
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		if first.Comment != "" { // refused: a comment, a retry, the end
			b, _ := s.Read(ssetest.DefaultTimeout)
			ms, _ := strconv.Atoi(b.Retry)
			if ms < 3000 {
				t.Fatalf("refused stream %d: retry %q", i, b.Retry)
			}
			if _, err := s.Read(ssetest.DefaultTimeout); !errors.Is(err, io.EOF) {
				t.Fatalf("refused stream %d not closed: %v", i, err)
			}
			s.Close()
			refused++
			continue
		}
		held = append(held, s)
		if i%100 == 0 {
			// The server answers other requests while flooded.
			if resp, _ := ssetest.Do(t, "GET", base+"/api/snapshot", auth); resp.StatusCode != 200 {
				t.Fatalf("snapshot during the flood: %d", resp.StatusCode)
			}
		}
	}
	// Nothing else holds a stream here (each check closes its own), so
	// exactly limit streams were admitted.
	if len(held) != limit || refused != tries-limit {
		t.Fatalf("admitted %d, refused %d; want %d and %d", len(held), refused, limit, tries-limit)
	}
	// The admitted streams are all live.
	for _, s := range held {
		if b := s.NextEvent(t); b.Event != "hello" {
			t.Fatalf("held stream: %+v", b)
		}
	}
	for _, s := range held {
		s.Close()
	}
	// Slots come back once the server sees the clients leave.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := ssetest.Open(t, base+"/events", auth)
		b, err := s.Read(ssetest.DefaultTimeout)
		s.Close()
		if err == nil && b.Comment == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no stream admitted after the flood ended")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitHistoryAuth(t *testing.T, base string, n int, auth string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for requireContiguousHistory(t, base, auth) < n {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d events after 30s", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logLines parses the JSON log lines (stderr is not a terminal, so the
// default --log-format auto writes JSON).
func logLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

func TestGracefulShutdownTellsStreamsToComeBack(t *testing.T) {
	p := startVitals(t, t.TempDir())
	var streams []*ssetest.Stream
	for _, q := range []string{"", "?topics=cpu", "?topics=memory,load"} {
		s := ssetest.Open(t, p.URL+"/events"+q)
		s.NextEvent(t)
		streams = append(streams, s)
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	for i, s := range streams {
		var last ssetest.Event
		for {
			b, err := s.Read(ssetest.DefaultTimeout)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
			last = b
		}
		ms, err := strconv.Atoi(last.Retry)
		if err != nil || ms < 500 || ms >= 1500 {
			t.Fatalf("stream %d: last block %+v, want a retry of 500..1499 ms", i, last)
		}
	}
	select {
	case <-p.Exited():
	case <-time.After(5 * time.Second): // the documented bound
		t.Fatalf("still running 5s after SIGTERM:\n%s", p.Stderr())
	}
	if code := p.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, p.Stderr())
	}
	closed := map[string]int{}
	for _, l := range logLines(t, p.Stderr()) {
		if l["msg"] == "stream closed" {
			closed[l["reason"].(string)]++
			if _, ok := l["duration_ms"]; !ok || l["topics"] == nil {
				t.Fatalf("stream closed line lacks fields: %v", l)
			}
		}
	}
	if closed["shutdown"] != 3 {
		t.Fatalf("stream closed reasons %v:\n%s", closed, p.Stderr())
	}
}

func TestSecondSignalExitsAtOnce(t *testing.T) {
	p := startVitals(t, t.TempDir())
	// A request whose headers never finish keeps the graceful shutdown
	// waiting for its grace period.
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
	time.Sleep(100 * time.Millisecond) // let the server read those bytes
	p.Cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Stderr(), "shutting down") {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown began:\n%s", p.Stderr())
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	<-p.Exited()
	// Killed by the second signal (default handling restored), not a
	// clean exit after the grace period.
	ws := p.Cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Fatalf("exit status %v, want killed by SIGTERM", p.Cmd.ProcessState)
	}
}

func TestLogsNeverHoldTokens(t *testing.T) {
	p := startVitals(t, t.TempDir(), "--token", procToken, "--read-token", procReadToken, "--log-level", "debug")
	waitHistoryAuth(t, p.URL, 5, "Authorization: Bearer "+procToken)
	ssetest.Do(t, "GET", p.URL+"/api/history?token="+procToken+"&limit=2")
	ssetest.Do(t, "GET", p.URL+"/api/snapshot?token=x"+procToken)
	resp, _ := ssetest.Do(t, "GET", p.URL+"/?token="+procToken)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("token login: %d %v", resp.StatusCode, resp.Header)
	}
	ssetest.Do(t, "GET", p.URL+"/", "Cookie: "+resp.Cookies()[0].Name+"="+resp.Cookies()[0].Value)
	s := ssetest.Open(t, p.URL+"/events?token="+procReadToken)
	s.NextEvent(t)
	s.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Stderr(), "stream closed") {
		if time.Now().After(deadline) {
			t.Fatalf("no stream closed line:\n%s", p.Stderr())
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.stop(t)
	out := p.Stderr()
	for _, secret := range []string{procToken, procReadToken} {
		if strings.Contains(out, secret) {
			t.Fatalf("a token reached the log:\n%s", out)
		}
	}
	if !strings.Contains(out, "token=REDACTED") {
		t.Fatalf("no redacted request line:\n%s", out)
	}
	logLines(t, out) // every line is JSON
}

func TestPublicAddressNeedsAToken(t *testing.T) {
	// Bounded: if the refusal ever broke, the server would otherwise listen
	// on every interface until the test binary's timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, vitalsBinary(t), "--addr", "0.0.0.0:0", "--data-dir", t.TempDir()).CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err == nil || len(lines) != 1 || !strings.Contains(lines[0], "VITALS_TOKEN") || !strings.Contains(lines[0], "--insecure") {
		t.Fatalf("err %v, output %q", err, out)
	}
}
