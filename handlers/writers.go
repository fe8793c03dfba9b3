package handlers

// The writers: a few goroutines that write the live ticks of every idle
// HTTP/1.1 stream on plain TCP, instead of one goroutine per stream.

import (
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"vitals/history"
)

// batch is how many due streams a worker takes at a time: small enough
// that the workers share a tick evenly (a worker whose thread the kernel
// pauses holds back at most this many streams, not a fixed half of them),
// large enough that the queue's lock is taken rarely.
const batch = 64

// writers serve the live ticks and heartbeats of the pooled streams. At
// 10,000 streams a goroutine per stream costs its stack (4 KiB at least)
// and a wake-up per tick; here one worker per core does the writing.
//
// Each tick the window marks every pooled stream it queued events on as
// due (the stream's wake function). The workers take due streams in
// batches, collect each one's events, frame them as one chunk (built once
// per distinct set of events, so streams with the same topics share the
// bytes) and write it with one non-blocking write. A stream whose socket
// can't take the whole chunk leaves for the slow path: a goroutine of its
// own that writes the rest under the write deadline and goes on as an
// unpooled stream does, with the same queue, byte budget and deadline.
// Every half heartbeat every pooled stream is marked due, and a worker
// pings those that have been silent that long.
//
// A stream is in the due queue at most once, so only one worker touches
// it at a time. The workers run while there are pooled streams; each is
// counted in s.streams, so Handler.Wait waits for them as for any stream.
//
// Lock order: the window's lock, then a subscription's, then mu (the wake
// function runs under the first two). No worker calls into a subscription
// or the window while holding mu.
type writers struct {
	s       *server
	workers int           // how many run while there are streams
	wake    chan struct{} // one token per worker to wake

	mu      sync.Mutex // guards following fields and pooled, due and idx of every stream
	streams []*streamRun
	due     []*streamRun // from head on
	head    int
	running int
	hb      *time.Ticker // while running > 0
}

func newWriters(s *server) *writers {
	n := runtime.GOMAXPROCS(0)
	return &writers{s: s, workers: n, wake: make(chan struct{}, n)}
}

// add takes over r's live stream. r's connection is plain TCP and was
// taken from net/http; its caller's count in s.streams passes to the
// writers, which call Done when the stream ends.
func (ws *writers) add(r *streamRun) error {
	raw, err := r.st.rawConn()
	if err != nil {
		return err
	}
	r.st.raw = raw
	// The workers frame the ticks; the stream's own gather buffers are
	// needed again only if it leaves for the slow path.
	r.st.bufs, r.st.nb, r.st.flat = nil, nil, nil
	ws.mu.Lock()
	r.ws, r.pooled, r.idx = ws, true, len(ws.streams)
	ws.streams = append(ws.streams, r)
	if ws.running == 0 {
		// Each stream hears something at least every Heartbeat: every
		// half heartbeat, those silent for half of one are pinged.
		ws.hb = time.NewTicker(max(ws.s.cfg.Heartbeat/2, time.Millisecond))
	}
	for ; ws.running < ws.workers; ws.running++ {
		ws.s.streams.Add(1) // the stream's own count is held: never from zero
		w := &worker{ws: ws, hb: ws.hb.C}
		go w.run()
	}
	ws.mu.Unlock()
	r.sub.SetWake(r.markDue)
	return nil
}

// markDue queues r for the workers. It is r's subscription's wake
// function: it runs under the window's lock, so it only appends.
func (r *streamRun) markDue() {
	ws := r.ws
	ws.mu.Lock()
	queued := ws.markLocked(r)
	ws.mu.Unlock()
	if queued {
		select {
		case ws.wake <- struct{}{}:
		default: // every worker is awake already
		}
	}
}

// markLocked marks r due and reports whether it joined the queue. A
// stream a worker is serving joins it when that worker releases it, so no
// two workers ever write to one stream. Called with ws.mu held.
func (ws *writers) markLocked(r *streamRun) bool {
	if !r.pooled || r.due {
		return false
	}
	r.due = true
	if r.busy {
		return false
	}
	ws.due = append(ws.due, r)
	return true
}

// take moves up to len(dst) due streams to dst, oldest first.
func (ws *writers) take(dst []*streamRun) int {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	n := copy(dst, ws.due[ws.head:])
	for _, r := range dst[:n] {
		r.due, r.busy = false, true
	}
	clear(ws.due[ws.head : ws.head+n])
	ws.head += n
	if ws.head == len(ws.due) {
		ws.due, ws.head = ws.due[:0], 0
	}
	return n
}

// release hands back streams a worker has served; those marked due
// meanwhile join the queue (the worker that released them takes them
// next, at the latest).
func (ws *writers) release(rs []*streamRun) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, r := range rs {
		r.busy = false
		if r.due && r.pooled {
			ws.due = append(ws.due, r)
		}
	}
}

// markAll marks every pooled stream due, for the heartbeat.
func (ws *writers) markAll() {
	ws.mu.Lock()
	for _, r := range ws.streams {
		ws.markLocked(r)
	}
	ws.mu.Unlock()
	ws.wakeAll()
}

// worker is one writing goroutine and its reused buffers.
type worker struct {
	ws     *writers
	hb     <-chan time.Time
	batch  [batch]*streamRun
	evs    []*history.Event
	frames []frame
}

// frame is one tick's chunk for one set of events and one form of them
// (redacted or not), shared by every stream that gets exactly those.
type frame struct {
	evs        []*history.Event
	restricted bool
	b          []byte
}

func (w *worker) run() {
	ws := w.ws
	for {
		select {
		case <-ws.wake:
			w.drain()
		case <-w.hb:
			ws.markAll()
		}
		ws.mu.Lock()
		if len(ws.streams) == 0 && ws.head == len(ws.due) {
			ws.running--
			if ws.running == 0 {
				ws.hb.Stop()
			}
			ws.mu.Unlock()
			ws.s.streams.Done()
			return
		}
		ws.mu.Unlock()
	}
}

// drain serves due streams until none is left.
func (w *worker) drain() {
	for {
		n := w.ws.take(w.batch[:])
		if n == 0 {
			break
		}
		now := time.Now()
		for _, r := range w.batch[:n] {
			w.serve(r, now)
		}
		w.ws.release(w.batch[:n])
		clear(w.batch[:n])
	}
	for i := range w.frames {
		w.frames[i] = frame{} // don't pin this tick's events
	}
	w.frames = w.frames[:0]
}

func (w *worker) serve(r *streamRun, now time.Time) {
	select {
	case <-r.sub.Done():
		// Dropped as too slow, or shutdown: the slow path says why
		// and, on shutdown, tells the client to come back.
		w.ws.toSlow(r, nil)
		return
	default:
	}
	w.evs = r.sub.Next(w.evs[:0])
	defer clear(w.evs)
	switch {
	case len(w.evs) > 0:
		w.write(r, w.frame(w.evs, r.st.restricted), now)
	case now.Sub(r.st.last) >= w.ws.s.cfg.Heartbeat/2:
		w.write(r, pingChunk, now)
	}
}

// frame returns the chunk for evs in the form restricted streams (or the
// others) get, building it once per drain.
func (w *worker) frame(evs []*history.Event, restricted bool) []byte {
	for _, f := range w.frames {
		if f.restricted == restricted && slices.Equal(f.evs, evs) {
			return f.b
		}
	}
	n := 0
	for _, e := range evs {
		n += len(e.For(restricted).Wire)
	}
	// A fresh buffer each time: a stream that moves to the slow path
	// keeps the rest of it.
	b := make([]byte, 0, n+len("ffffffff\r\n\r\n"))
	b = append(strconv.AppendInt(b, int64(n), 16), '\r', '\n')
	for _, e := range evs {
		b = append(b, e.For(restricted).Wire...)
	}
	b = append(b, crlf...)
	w.frames = append(w.frames, frame{evs: slices.Clone(evs), restricted: restricted, b: b})
	return b
}

// write writes b to r without blocking; what the socket can't take goes
// on through the slow path.
func (w *worker) write(r *streamRun, b []byte, now time.Time) {
	n, err := r.st.tryWrite(b)
	switch {
	case err != nil:
		w.ws.remove(r)
		r.sub.SetWake(nil)
		r.finish("")
		w.ws.s.streams.Done()
	case n < len(b):
		w.ws.toSlow(r, b[n:])
	default:
		r.st.last = now
	}
}

// remove takes r out of the pool; from then on its wake function does
// nothing.
func (ws *writers) remove(r *streamRun) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if !r.pooled {
		return
	}
	last := len(ws.streams) - 1
	ws.streams[r.idx] = ws.streams[last]
	ws.streams[r.idx].idx = r.idx
	ws.streams[last] = nil
	ws.streams = ws.streams[:last]
	r.pooled, r.idx = false, -1
	if last == 0 {
		ws.wakeAll() // so that idle workers see there is nothing left and end
	}
}

// wakeAll wakes every worker that is waiting.
func (ws *writers) wakeAll() {
	for range ws.workers {
		select {
		case ws.wake <- struct{}{}:
		default:
		}
	}
}

// toSlow moves r to a goroutine of its own, which writes rest (the part of
// a chunk the socket did not take) and then runs the live loop. The
// stream's count in s.streams passes to that goroutine.
func (ws *writers) toSlow(r *streamRun, rest []byte) {
	ws.remove(r)
	r.sub.SetWake(nil) // events queued from here on signal Ready
	go func() {
		defer ws.s.streams.Done()
		if len(rest) > 0 && r.st.sendRaw(rest) != nil {
			r.finish("")
			return
		}
		r.finish(r.live())
	}()
}

// pingChunk is the heartbeat framed as one chunk, for every pooled stream.
var pingChunk = chunk(nil, ping)

// chunk appends p framed as one chunk of a chunked body.
func chunk(dst, p []byte) []byte {
	dst = append(strconv.AppendInt(dst, int64(len(p)), 16), '\r', '\n')
	return append(append(dst, p...), crlf...)
}
