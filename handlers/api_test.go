package handlers

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestHistoryAPI(t *testing.T) {
	f := newFixture(t, nil)
	first := f.tick(t, 0)
	second := f.tick(t, 0)
	type page struct {
		Head, Oldest string
		Complete     bool
		Reason       string
		Events       []struct {
			ID, Event string
			Data      map[string]any
		}
	}
	get := func(t *testing.T, q string) (int, string) { return getJSON(t, f.srv.URL+"/api/history"+q) }

	t.Run("whole window", func(t *testing.T) {
		code, body := get(t, "")
		p := decode[page](t, body)
		if code != 200 || len(p.Events) != 10 || p.Head != second[4] || p.Oldest != first[0] || !p.Complete {
			t.Fatalf("%d %s", code, body)
		}
		if p.Events[0].Event != "cpu" || p.Events[0].Data["t"] == nil {
			t.Fatalf("event = %+v", p.Events[0])
		}
	})
	t.Run("newest of a topic", func(t *testing.T) {
		_, body := get(t, "?topics=memory&limit=1")
		if p := decode[page](t, body); len(p.Events) != 1 || p.Events[0].ID != second[1] {
			t.Fatalf("%s", body)
		}
	})
	t.Run("after", func(t *testing.T) {
		_, body := get(t, "?after="+first[4]+"&limit=2")
		if p := decode[page](t, body); len(p.Events) != 2 || p.Events[0].ID != second[0] {
			t.Fatalf("%s", body)
		}
	})
	t.Run("expired after is incomplete, not an error", func(t *testing.T) {
		_, body := get(t, "?after=zzzzzzzz.1")
		if p := decode[page](t, body); p.Complete || p.Reason != "other-store" || len(p.Events) != 10 {
			t.Fatalf("%s", body)
		}
	})
	for _, tt := range []struct{ name, q, want string }{
		{"unknown topic", "?topics=gpu", "unknown topic"},
		{"limit zero", "?limit=0", "limit"},
		{"limit not a number", "?limit=ten", "limit"},
		{"limit too big", "?limit=100000000", "limit"},
		{"after malformed", "?after=nope", "after"},
		{"after empty", "?after=", "after"},
	} {
		t.Run("bad "+tt.name, func(t *testing.T) {
			code, body := get(t, tt.q)
			if code != 400 || !strings.Contains(decode[map[string]any](t, body)["error"].(string), tt.want) {
				t.Fatalf("%d %s", code, body)
			}
		})
	}
	// No bad request lost anything.
	if _, body := get(t, ""); len(decode[page](t, body).Events) != 10 {
		t.Fatalf("history changed: %s", body)
	}
}

func TestHealthz(t *testing.T) {
	var failing error
	f := newFixture(t, func(c *Options) { c.Health = func() error { return failing } })
	resp, _ := http.Get(f.srv.URL + "/healthz")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"status":"ok","version":"v1.2.3-test"}` {
		t.Fatalf("healthy: %d %s", resp.StatusCode, b)
	}
	failing = io.ErrUnexpectedEOF
	resp, _ = http.Get(f.srv.URL + "/healthz")
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(b), "unexpected EOF") || !strings.Contains(string(b), `"version":"v1.2.3-test"`) {
		t.Fatalf("unhealthy: %d %s", resp.StatusCode, b)
	}
}
