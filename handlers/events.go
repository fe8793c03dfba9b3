package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"vitals/history"
	"vitals/hostinfo"
)

// replayChunk is how many bytes of replay are gathered per write: big
// enough that an 18,000-event window (about 5 MB) goes out in ~80 writes,
// small enough to keep per-stream memory flat.
const replayChunk = 64 << 10

// hello is the first event of every stream.
type hello struct {
	Host string `json:"host"`
	hostinfo.Desc
	Topics   []string `json:"topics"`
	Oldest   string   `json:"oldest"`
	Newest   string   `json:"newest"`
	Instance string   `json:"instance"`
	Version  string   `json:"version"`
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
	fleet, ok := parseFleet(c) // ?fleet=true; see fleet_stream.go
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
	// The slot taken by admitStream is released by streamRun.finish, or
	// here on the way out before a stream starts.

	sub, err := es.Subscribe(history.SubscribeOptions{Topics: topics, Resume: resume, After: after})
	if errors.Is(err, history.ErrClosed) || errors.Is(err, history.ErrUnavailable) {
		s.ops.streams.Add(-1)
		answerRetry(c, "", soonRetry, soonJitter) // shutting down, or the backend is away
		return
	}
	if err != nil {
		s.ops.streams.Add(-1)
		jsonError(c, http.StatusInternalServerError, "subscribe: "+err.Error())
		return
	}

	r := &streamRun{s: s, sub: sub, set: topicSet(topics), ctx: c.Request.Context(),
		st:    &stream{w: w, rc: http.NewResponseController(w), timeout: s.cfg.WriteTimeout, restricted: isRestricted(c)},
		watch: s.newHostWatch(es, info), fleet: fleet}
	if cu := sub.Catchup(); cu != nil {
		r.log = s.openStreamLog(c, r.set, true, after, cu.Count, cu.Complete)
	} else {
		r.log = s.openStreamLog(c, r.set, false, "", 0, false)
	}
	s.cfg.Observer.StreamOpened(r.set)
	s.streams.Add(1)
	if err := r.st.start(c.Request); err != nil || !r.begin(es, info) {
		defer s.streams.Done()
		r.finish("")
		return
	}
	if r.st.conn == nil {
		// Written through net/http: the stream lives in this handler.
		defer s.streams.Done()
		r.finish(r.live())
		return
	}
	// The connection is ours: hand the live stream over and return, so
	// net/http lets go of this connection's buffers, its request and its
	// goroutine. On plain TCP s.writers serve it with the other idle
	// streams (see writers); otherwise (TLS) a goroutine of its own,
	// which starts with a small stack and keeps it (hello and the
	// catch-up, which need a deep one, were written above). Either is
	// counted in s.streams and waited for by Handler.Wait; the stream ends
	// when the subscription does (a shutdown ends them all) or a write
	// fails.
	r.st.w, r.st.rc, r.ctx = nil, nil, context.Background()
	// A stream that also follows another host's status or the fleet's
	// rows has timers of its own (live below): it keeps its goroutine.
	if r.st.tcp && r.watch == nil && r.fleet == nil && s.writers.add(r) == nil {
		return
	}
	go func() {
		defer s.streams.Done()
		r.finish(r.live())
	}()
}

// streamRun is one admitted /events stream after its response head.
type streamRun struct {
	s   *server
	sub *history.Subscription
	st  *stream
	set string // the topic set, for logs and metrics
	log *streamLog
	// ctx ends when net/http sees the client leave; only for streams
	// written through net/http. A hijacked stream learns it at its next
	// write (within one tick, or one heartbeat when idle).
	ctx context.Context
	// watch tells the stream of another host when that host stops
	// publishing or comes back (hoststatus.go); nil for the own host.
	watch *hostWatch
	// fleet follows every host's row for a stream that asked for them
	// (fleet_stream.go); nil otherwise.
	fleet *fleetWatch

	// While the writers serve the stream (guarded by ws.mu):
	ws     *writers
	pooled bool // in ws.streams, at idx
	due    bool // marked: in ws.due, or joins it when released
	busy   bool // a worker is serving it
	idx    int
}

// finish releases everything the stream held and logs why it ended
// (reason "": a write failed; writeFailure says how).
func (r *streamRun) finish(reason string) {
	r.st.close()
	r.sub.Close()
	r.s.ops.streams.Add(-1)
	var err error
	if reason == "" {
		reason, err = writeFailure(r.ctx, r.st.err)
	}
	r.log.closed(reason, err)
	r.s.cfg.Observer.StreamClosed(r.set, reason)
}

// begin writes retry, hello (of es, describing info) and the catch-up. It
// reports false when a write failed.
func (r *streamRun) begin(es history.Source, info hostinfo.Info) bool {
	s, st, sub := r.s, r.st, r.sub
	buf := history.AppendRetry(make([]byte, 0, 1024), s.cfg.Retry.Milliseconds())
	buf = s.appendHello(buf, es, info)
	if cu := sub.Catchup(); cu != nil {
		buf = appendJSON(buf, "catchup-start", catchupStart{After: cu.After, Count: cu.Count, Complete: cu.Complete, Reason: cu.Reason})
		for e := range sub.Replay() {
			if len(buf)+len(e.For(st.restricted).Wire) > replayChunk && len(buf) > 0 {
				if st.write(buf) != nil {
					return false
				}
				buf = buf[:0]
			}
			buf = append(buf, e.For(st.restricted).Wire...)
		}
		buf = appendJSON(buf, "catchup-end", catchupEnd{Count: cu.Count, Head: cu.Head})
	}
	if r.watch != nil {
		buf = r.watch.check(buf, time.Now()) // a host already silent is offline from the start
	}
	if r.fleet != nil {
		buf = s.appendFleet(buf, r.fleet)
	}
	return st.write(buf) == nil
}

// live writes the live events until the stream ends, and returns why it
// ended ("" when a write failed).
func (r *streamRun) live() string {
	s, st, sub := r.s, r.st, r.sub
	heartbeat := time.NewTicker(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	var watchC, fleetC <-chan time.Time // nil: never fires
	if r.watch != nil {
		wt := time.NewTicker(r.watch.period())
		defer wt.Stop()
		watchC = wt.C
	}
	// The fleet's rows are checked with each tick and go out in its write,
	// so a browser gets one chunk a tick and draws one frame, not a second
	// one at the fleet timer's own phase. The timer covers a stream with
	// no ticks (its host silent), whose other rows still move.
	var tickAt time.Time // the last tick written, or the stream's start
	if r.fleet != nil {
		ft := time.NewTicker(s.fleetPeriod())
		defer ft.Stop()
		fleetC = ft.C
		tickAt = time.Now()
	}
	var pending []*history.Event
	for {
		select {
		case <-r.ctx.Done():
			return CloseClientGone
		case <-sub.Done():
			if !errors.Is(sub.Err(), history.ErrClosed) {
				return CloseSlow
			}
			// Shutdown: tell the browser to come back soon, with jitter
			// so a restart isn't met by every client at once.
			st.write(appendRetry(nil, soonRetry, soonJitter))
			st.end()
			return CloseShutdown
		case <-sub.Ready():
			pending = sub.Next(pending[:0])
			if r.watch != nil {
				if b := r.watch.seen(nil, pending, time.Now()); len(b) > 0 && st.write(b) != nil {
					return ""
				}
			}
			var fleet []byte
			if r.fleet != nil {
				fleet = s.appendFleet(nil, r.fleet)
				tickAt = time.Now()
			}
			// One tick's events: one deadline, one syscall (writev).
			err := st.writeEvents(pending, fleet)
			clear(pending)
			if err != nil {
				return ""
			}
		case now := <-watchC:
			if b := r.watch.check(nil, now); len(b) > 0 && st.write(b) != nil {
				return ""
			}
		case now := <-fleetC:
			// Ticks are coming (half a period of slack: a tick a little
			// late is still a tick): they carry the rows.
			if now.Sub(tickAt) < s.fleetPeriod()*3/2 {
				continue
			}
			if b := s.appendFleet(nil, r.fleet); len(b) > 0 && st.write(b) != nil {
				return ""
			}
		case <-heartbeat.C:
			if time.Since(st.last) < s.cfg.Heartbeat/2 {
				continue // data went out recently; the connection is alive
			}
			beat := ping
			if r.watch != nil && !r.watch.live {
				// A browser can't see a comment: while the host is silent it
				// gets the status again, or it would take the quiet stream
				// for a dead one and reconnect.
				beat = r.watch.append(nil, time.Now())
			}
			if st.write(beat) != nil {
				return ""
			}
		}
	}
}

// ping is the heartbeat comment, encoded once for every stream.
var ping = history.AppendComment(nil, "ping")

func (s *server) appendHello(buf []byte, es history.Source, h hostinfo.Info) []byte {
	oldest, newest := es.Bounds()
	return appendJSON(buf, "hello", hello{
		Host: h.Hostname, Desc: h.Desc(),
		Topics: es.Topics(), Oldest: oldest, Newest: newest, Instance: s.cfg.Instance,
		Version: s.cfg.Version,
	})
}

// Reconnect delays for a stream the server ends or can't start now
// (shutdown, backend away): 0.5 to 1.5 s, so clients of a server going
// away come back soon but not all in the same instant.
const (
	soonRetry  = 500 * time.Millisecond
	soonJitter = time.Second
)

// appendRetry appends a retry field of base plus up to jitter.
func appendRetry(buf []byte, base, jitter time.Duration) []byte {
	return history.AppendRetry(buf, (base + rand.N(jitter)).Milliseconds())
}

// answerRetry answers an /events request that gets no stream: 200, an
// optional comment saying why, and a jittered retry. Never an error
// status, which would make a browser's EventSource give up for good.
func answerRetry(c *gin.Context, comment string, base, jitter time.Duration) {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	c.Writer.WriteHeader(http.StatusOK)
	var buf []byte
	if comment != "" {
		buf = history.AppendComment(buf, comment)
	}
	c.Writer.Write(appendRetry(buf, base, jitter))
	c.Abort()
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
