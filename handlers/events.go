package handlers

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"vitals/history"
)

// replayChunk is how many bytes of replay are gathered per write: big
// enough that an 18,000-event window (about 5 MB) goes out in ~80 writes,
// small enough to keep per-stream memory flat.
const replayChunk = 64 << 10

// hostDesc is how a host is described in JSON, in hello and /api/hosts.
type hostDesc struct {
	OS              string `json:"os"`
	Platform        string `json:"platform"`
	PlatformVersion string `json:"platform_version"`
	Kernel          string `json:"kernel"`
	Arch            string `json:"arch"`
	CPUs            int    `json:"cpus"`
	BootTime        int64  `json:"boot_time"` // unix seconds, 0 when unknown
	IntervalMS      int64  `json:"interval_ms"`
	RetentionMS     int64  `json:"retention_ms"`
}

func describeHost(h HostInfo) hostDesc {
	d := hostDesc{OS: h.OS, Platform: h.Platform, PlatformVersion: h.PlatformVersion, Kernel: h.Kernel,
		Arch: h.Arch, CPUs: h.CPUs, IntervalMS: h.Interval.Milliseconds(), RetentionMS: h.Retention.Milliseconds()}
	if !h.BootTime.IsZero() {
		d.BootTime = h.BootTime.Unix()
	}
	return d
}

// hello is the first event of every stream.
type hello struct {
	Host string `json:"host"`
	hostDesc
	Topics   []string `json:"topics"`
	Oldest   string   `json:"oldest"`
	Newest   string   `json:"newest"`
	Instance string   `json:"instance"`
}

type catchupStart struct {
	After    string `json:"after"`
	Count    int    `json:"count"`
	Complete bool   `json:"complete"`
	Reason   string `json:"reason"`
}

type catchupEnd struct {
	Count int    `json:"count"`
	Head  string `json:"head"`
}

// lastEventID returns the id a client resumes from: the Last-Event-ID
// header, else the lastEventId query parameter (a page load can't set the
// header). ok is false when neither is given.
func lastEventID(r *http.Request) (id string, ok bool) {
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		return v, true
	}
	if v := r.URL.Query().Get("lastEventId"); v != "" {
		return v, true
	}
	return "", false
}

// events serves GET /events: the SSE stream. See docs/events.md.
func (s *server) events(c *gin.Context) {
	topics, ok := s.parseTopics(c)
	if !ok {
		return
	}
	es, info, ok := s.streamSource(c) // ?host=; see fleet.go
	if !ok {
		return
	}
	after, resume := lastEventID(c.Request)
	w := c.Writer
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: don't buffer this response
	if c.Request.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	if !s.admitStream() {
		s.refuseStream(c)
		return
	}
	defer s.ops.streams.Add(-1)

	sub, err := es.Subscribe(history.SubscribeOptions{Topics: topics, Resume: resume, After: after})
	if errors.Is(err, history.ErrClosed) || errors.Is(err, history.ErrUnavailable) {
		// Shutting down: a 200 with a short retry, never an error status
		// (that would make the browser give up for good).
		w.WriteHeader(http.StatusOK)
		w.Write(history.AppendRetry(nil, s.jitteredRetry()))
		return
	}
	if err != nil {
		jsonError(c, http.StatusInternalServerError, "subscribe: "+err.Error())
		return
	}
	defer sub.Close()

	st := &stream{w: w, rc: http.NewResponseController(w), timeout: s.cfg.WriteTimeout}
	set := topicSet(topics)
	var sl *streamLog
	if cu := sub.Catchup(); cu != nil {
		sl = s.openStreamLog(c, set, true, after, cu.Count, cu.Complete)
	} else {
		sl = s.openStreamLog(c, set, false, "", 0, false)
	}
	s.cfg.Observer.StreamOpened(set)
	reason := "" // set where the loop ends for a reason of its own
	defer func() {
		var err error
		if reason == "" {
			reason, err = writeFailure(c.Request.Context(), st.err)
		}
		sl.closed(reason, err)
		s.cfg.Observer.StreamClosed(set, reason)
	}()
	// Streams live far longer than any server-wide deadline.
	st.rc.SetReadDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)

	buf := history.AppendRetry(make([]byte, 0, 1024), s.cfg.Retry.Milliseconds())
	buf = s.appendHello(buf, es, info)
	if cu := sub.Catchup(); cu != nil {
		buf = appendJSON(buf, "catchup-start", catchupStart{After: cu.After, Count: cu.Count, Complete: cu.Complete, Reason: cu.Reason})
		for e := range sub.Replay() {
			if len(buf)+len(e.Wire) > replayChunk && len(buf) > 0 {
				if st.write(buf) != nil {
					return
				}
				buf = buf[:0]
			}
			buf = append(buf, e.Wire...)
		}
		buf = appendJSON(buf, "catchup-end", catchupEnd{Count: cu.Count, Head: cu.Head})
	}
	if st.write(buf) != nil || st.flush() != nil {
		return
	}
	buf = nil // the replay buffer may be large; don't keep it for hours

	heartbeat := time.NewTicker(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	ping := history.AppendComment(nil, "ping")
	var pending []*history.Event
	ctx := c.Request.Context()
	for {
		select {
		case <-ctx.Done():
			reason = CloseClientGone
			return
		case <-sub.Done():
			reason = CloseSlow
			if errors.Is(sub.Err(), history.ErrClosed) {
				reason = CloseShutdown
				// Shutdown: tell the browser to come back soon, with
				// jitter so a restart isn't met by every client at once.
				st.write(history.AppendRetry(nil, s.jitteredRetry()))
				st.flush()
			}
			return
		case <-sub.Ready():
			pending = sub.Next(pending[:0])
			// One tick's events: several small writes into the response
			// buffer, then one flush, so one syscall per tick.
			for _, e := range pending {
				if st.write(e.Wire) != nil {
					return
				}
			}
			clear(pending)
			if st.flush() != nil {
				return
			}
		case <-heartbeat.C:
			if time.Since(st.last) < s.cfg.Heartbeat/2 {
				continue // data went out recently; the connection is alive
			}
			if st.write(ping) != nil || st.flush() != nil {
				return
			}
		}
	}
}

// stream writes to one client with a deadline on every write, so a client
// that stops reading is dropped instead of holding its goroutine forever.
type stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	last    time.Time
	err     error // the first write or flush error
}

func (st *stream) write(p []byte) error {
	st.last = time.Now()
	if err := st.rc.SetWriteDeadline(st.last.Add(st.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	_, err := st.w.Write(p)
	if err != nil && st.err == nil {
		st.err = err
	}
	return err
}

func (st *stream) flush() error {
	err := st.rc.Flush()
	if err != nil && st.err == nil {
		st.err = err
	}
	return err
}

func (s *server) appendHello(buf []byte, es EventSource, h HostInfo) []byte {
	oldest, newest := es.Bounds()
	return appendJSON(buf, "hello", hello{
		Host: h.Hostname, hostDesc: describeHost(h),
		Topics: s.topics, Oldest: oldest, Newest: newest, Instance: s.cfg.Instance,
	})
}

// jitteredRetry is a reconnect delay between half and one and a half times
// a second, so clients of a server that is going away spread their
// reconnects instead of arriving together.
func (s *server) jitteredRetry() int64 {
	return 500 + rand.Int64N(1000)
}

// appendJSON appends an id-less event (hello, catchup-*): without an id the
// browser keeps its Last-Event-ID pointing at the last metric event.
func appendJSON(buf []byte, event string, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic("handlers: marshal " + event + ": " + err.Error()) // only our own structs get here
	}
	buf, _ = history.AppendEvent(buf, "", event, data)
	return buf
}
