package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"vitals/internal/ssetest"
)

// processRows is the rows of a processes payload, both lists.
func processRows(t *testing.T, data string) []map[string]any {
	t.Helper()
	var p struct {
		TopCPU []map[string]any `json:"top_cpu"`
		TopRSS []map[string]any `json:"top_rss"`
	}
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		t.Fatalf("processes payload %q: %v", data, err)
	}
	rows := append(p.TopCPU, p.TopRSS...)
	if len(rows) == 0 {
		t.Fatalf("processes payload without rows: %s", data)
	}
	return rows
}

// hasField says whether any row has a non-empty key.
func hasField(rows []map[string]any, key string) bool {
	return slices.ContainsFunc(rows, func(r map[string]any) bool { s, _ := r[key].(string); return s != "" })
}

// nextProcesses reads a stream up to its next processes event.
func nextProcesses(t *testing.T, s *ssetest.Stream) ssetest.Event {
	t.Helper()
	for {
		if ev := s.NextEvent(t); ev.Event == "processes" {
			return ev
		}
	}
}

// The read-only token never sees command lines or user names, live, in a
// replay or from the API, while the full token sees both with
// --process-cmdline; the same event keeps its id for both.
func TestProcessesRedactedForTheReadToken(t *testing.T) {
	p := startVitals(t, t.TempDir(), "--token", procToken, "--read-token", procReadToken, "--process-cmdline")
	full := "Authorization: Bearer " + procToken
	read := "Authorization: Bearer " + procReadToken

	fs := ssetest.Open(t, p.URL+"/events?topics=processes", full)
	defer fs.Close()
	hello := fs.NextEvent(t)
	var h struct{ Topics []string }
	if err := json.Unmarshal([]byte(hello.Data), &h); hello.Event != "hello" || err != nil || !slices.Contains(h.Topics, "processes") {
		t.Fatalf("hello %+v (%v): want processes among the topics", hello, err)
	}
	fev := nextProcesses(t, fs)
	if rows := processRows(t, fev.Data); !hasField(rows, "cmdline") || !hasField(rows, "user") {
		t.Fatalf("full token: no command lines or users in %s", fev.Data)
	}

	rs := ssetest.Open(t, p.URL+"/events?topics=processes", read, "Last-Event-ID: "+fev.ID)
	defer rs.Close()
	for i := 0; i < 3; i++ {
		ev := nextProcesses(t, rs)
		if rows := processRows(t, ev.Data); hasField(rows, "cmdline") || hasField(rows, "user") {
			t.Fatalf("read token, event %s: command line or user in %s", ev.ID, ev.Data)
		}
	}
	for _, path := range []string{"/api/history?topics=processes&limit=5", "/api/snapshot"} {
		resp, body := ssetest.Do(t, "GET", p.URL+path, read)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"processes"`) {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		// cpu has a numeric "user"; a process's user is a string.
		if strings.Contains(body, `"cmdline"`) || strings.Contains(body, `"user":"`) {
			t.Fatalf("read token, %s: command line or user in %s", path, body)
		}
		if _, body := ssetest.Do(t, "GET", p.URL+path, full); !strings.Contains(body, `"cmdline"`) {
			t.Fatalf("full token, %s: no command line in %s", path, body)
		}
	}

	// A topic this host can't provide is absent from hello and refused
	// like any unknown topic, with the valid list.
	for _, topic := range []string{"processes", "containers", "sensors", "gpu"} {
		if slices.Contains(h.Topics, topic) {
			continue
		}
		resp, body := ssetest.Do(t, "GET", p.URL+"/api/history?topics="+topic, full)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"valid"`) || !strings.Contains(body, `"processes"`) {
			t.Fatalf("absent topic %s: %d %s", topic, resp.StatusCode, body)
		}
	}
}
