package ssetest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultTimeout bounds Next and NextEvent: long enough for a race-built
// server on a busy machine, short enough to fail a stuck test before the
// test binary's own timeout hides which stream hung.
const DefaultTimeout = 30 * time.Second

// ErrTimeout is Read's error when no block came in time.
var ErrTimeout = errors.New("ssetest: no block within the timeout")

// Event is one block of the stream: the lines up to a blank line. A block
// with only comments or only a retry is returned too (Event and Data
// empty); tests look at heartbeats and reconnection delays.
type Event struct {
	ID      string // the id field, if the block had one
	Event   string // the event name ("" for the default "message")
	Data    string // data lines joined by "\n"
	Retry   string // the retry field, if it was all digits
	Comment string // comment lines without the colon, joined by "\n"
}

// Do sends one request with headers ("Key: value"; "Host: x" sets the
// request's Host) and returns the response with its body read. Redirects
// are returned, not followed: tests check them.
func Do(t testing.TB, method, url string, headers ...string) (*http.Response, string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(newRequest(t, method, url, headers))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp, string(body)
}

func newRequest(t testing.TB, method, url string, headers []string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Add(k, v)
	}
	return req
}

// Stream is one open SSE response.
type Stream struct {
	Resp *http.Response

	blocks chan Event
	err    error         // why the stream ended; written before blocks is closed
	done   chan struct{} // closed by Close: the reader stops sending
	exited chan struct{} // closed when the reader has returned
	once   sync.Once
}

// Open sends GET url with headers (as Do) and starts reading the response
// as a stream, whatever its status: tests check Resp.StatusCode. The
// stream is closed at the test's cleanup.
func Open(t testing.TB, url string, headers ...string) *Stream {
	t.Helper()
	return OpenWith(t, http.DefaultClient, url, headers...)
}

// OpenWith is Open through client: one made for a TLS test server, or one
// that speaks HTTP/2.
func OpenWith(t testing.TB, client *http.Client, url string, headers ...string) *Stream {
	t.Helper()
	resp, err := client.Do(newRequest(t, http.MethodGet, url, headers))
	if err != nil {
		t.Fatal(err)
	}
	// 256 blocks: room for a burst a test reads later, small enough that a
	// test holding a thousand streams stays cheap. When it is full the
	// reader stops reading, and the server sees a slow client, as it would
	// without the buffer.
	s := &Stream{Resp: resp, blocks: make(chan Event, 256), done: make(chan struct{}), exited: make(chan struct{})}
	go s.read()
	t.Cleanup(s.Close)
	return s
}

// Close closes the body and waits for the reader. Safe to call twice.
func (s *Stream) Close() {
	s.once.Do(func() {
		close(s.done)
		s.Resp.Body.Close()
		<-s.exited
	})
}

// Read returns the next block, or the reason the stream ended: io.EOF
// after the last complete block, io.ErrUnexpectedEOF if it ended inside a
// block, else the read error. ErrTimeout if nothing came within timeout;
// with timeout <= 0 it only takes a block already read.
func (s *Stream) Read(timeout time.Duration) (Event, error) {
	if timeout <= 0 {
		select {
		case ev, ok := <-s.blocks:
			return s.got(ev, ok)
		default:
			return Event{}, ErrTimeout
		}
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case ev, ok := <-s.blocks:
		return s.got(ev, ok)
	case <-timer.C:
		return Event{}, ErrTimeout
	}
}

func (s *Stream) got(ev Event, ok bool) (Event, error) {
	if !ok {
		return Event{}, s.err
	}
	return ev, nil
}

// Next returns the next block, failing the test if the stream ends or
// nothing comes within DefaultTimeout.
func (s *Stream) Next(t testing.TB) Event {
	t.Helper()
	ev, err := s.Read(DefaultTimeout)
	if err != nil {
		t.Fatalf("stream %s ended: %v", s.Resp.Request.URL, err)
	}
	return ev
}

// NextEvent is Next, skipping blocks with neither an event name nor data
// (heartbeat comments, retry-only blocks).
func (s *Stream) NextEvent(t testing.TB) Event {
	t.Helper()
	return s.NextEventWithin(t, DefaultTimeout)
}

// NextEventWithin is NextEvent failing after timeout rather than
// DefaultTimeout.
func (s *Stream) NextEventWithin(t testing.TB, timeout time.Duration) Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ev, err := s.Read(time.Until(deadline))
		if err == ErrTimeout {
			t.Fatalf("stream %s: no event within %v", s.Resp.Request.URL, timeout)
		}
		if err != nil {
			t.Fatalf("stream %s ended: %v", s.Resp.Request.URL, err)
		}
		if ev.Event != "" || ev.Data != "" {
			return ev
		}
	}
}

// read parses the body into blocks until it ends or Close is called.
func (s *Stream) read() {
	defer close(s.exited)
	sc := bufio.NewScanner(s.Resp.Body)
	sc.Buffer(make([]byte, 4<<10), 16<<20) // payloads and ids tests send are far below 16 MiB
	sc.Split(scanLines)
	var (
		ev      Event
		data    []string
		comment []string
		pending bool // a line of the current block was read
		first   = true
	)
	for sc.Scan() {
		line := sc.Text()
		if first {
			line = strings.TrimPrefix(line, "\uFEFF")
			first = false
		}
		if line == "" {
			if !pending {
				continue
			}
			ev.Data = strings.Join(data, "\n")
			ev.Comment = strings.Join(comment, "\n")
			select {
			case s.blocks <- ev:
			case <-s.done:
				s.err = errors.New("stream closed")
				close(s.blocks)
				return
			}
			ev, data, comment, pending = Event{}, nil, nil, false
			continue
		}
		pending = true
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			comment = append(comment, value)
		case "event":
			ev.Event = value
		case "data":
			data = append(data, value)
		case "id":
			if !strings.ContainsRune(value, 0) {
				ev.ID = value
			}
		case "retry":
			if value != "" && strings.Trim(value, "0123456789") == "" {
				ev.Retry = value
			}
		}
	}
	switch err := sc.Err(); {
	case err != nil:
		s.err = err
	case pending:
		s.err = io.ErrUnexpectedEOF
	default:
		s.err = io.EOF
	}
	close(s.blocks)
}

// scanLines splits at CRLF, LF or CR, the three line ends the
// specification allows. A line left unterminated at EOF is an error: the
// server was cut off mid-line.
func scanLines(data []byte, atEOF bool) (int, []byte, error) {
	i := bytes.IndexAny(data, "\r\n")
	switch {
	case i < 0 && atEOF && len(data) > 0:
		return 0, nil, fmt.Errorf("stream ended inside a line: %w", io.ErrUnexpectedEOF)
	case i < 0:
		return 0, nil, nil
	case data[i] == '\n':
		return i + 1, data[:i], nil
	case i+1 < len(data):
		if data[i+1] == '\n' {
			return i + 2, data[:i], nil
		}
		return i + 1, data[:i], nil
	case atEOF:
		return i + 1, data[:i], nil
	default:
		return 0, nil, nil // a CR at the end: wait to see whether LF follows
	}
}
