package ssetest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func serve(t *testing.T, body string, hold bool) string {
	t.Helper()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
		w.(http.Flusher).Flush()
		if hold {
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	return srv.URL
}

func TestBlocks(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       []Event
		end        error
	}{
		{"one event", "id: 1\nevent: cpu\ndata: {}\n\n", []Event{{ID: "1", Event: "cpu", Data: "{}"}}, io.EOF},
		{"CR and CRLF line ends", "event: a\rdata: x\r\n\r\n", []Event{{Event: "a", Data: "x"}}, io.EOF},
		{"data lines joined by LF", "data: a\ndata:b\ndata\n\n", []Event{{Data: "a\nb\n"}}, io.EOF},
		{"comment and retry blocks", ": hi\n\nretry: 3000\n\n", []Event{{Comment: "hi"}, {Retry: "3000"}}, io.EOF},
		{"bad retry and NUL id ignored", "retry: 3s\nid: a\x00b\ndata: x\n\n", []Event{{Data: "x"}}, io.EOF},
		{"blank lines between blocks", "\n\ndata: x\n\n\n", []Event{{Data: "x"}}, io.EOF},
		{"byte order mark", "\uFEFFdata: x\n\n", []Event{{Data: "x"}}, io.EOF},
		{"cut inside a block", "data: x\n\nevent: y\n", []Event{{Data: "x"}}, io.ErrUnexpectedEOF},
		{"cut inside a line", "data: x", nil, io.ErrUnexpectedEOF},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := Open(t, serve(t, tt.body, false))
			for _, want := range tt.want {
				if got := s.Next(t); got != want {
					t.Fatalf("got %+v, want %+v", got, want)
				}
			}
			if _, err := s.Read(5 * time.Second); !errors.Is(err, tt.end) {
				t.Fatalf("end: %v, want %v", err, tt.end)
			}
		})
	}
}

func TestReadTimesOutAndCloseStopsTheReader(t *testing.T) {
	s := Open(t, serve(t, ": open\n\n", true))
	if ev := s.Next(t); ev.Comment != "open" {
		t.Fatalf("got %+v", ev)
	}
	if _, err := s.Read(0); err != ErrTimeout {
		t.Fatalf("Read(0) on an idle stream: %v", err)
	}
	if _, err := s.Read(50 * time.Millisecond); err != ErrTimeout {
		t.Fatalf("Read(50ms) on an idle stream: %v", err)
	}
	s.Close()
	if _, err := s.Read(time.Second); err == nil || err == ErrTimeout {
		t.Fatalf("Read after Close: %v", err)
	}
}

func TestDoSetsHostAndKeepsRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Host", r.Host)
		w.Header().Set("X-Auth", r.Header.Get("Authorization"))
		http.Redirect(w, r, "/elsewhere", http.StatusSeeOther)
	}))
	t.Cleanup(srv.Close)
	resp, _ := Do(t, "GET", srv.URL, "Host: example.test", "Authorization: Bearer x")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("X-Host") != "example.test" || resp.Header.Get("X-Auth") != "Bearer x" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
}
