package history

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Window is the in-memory retained window of one event log and its fan-out
// to subscribers. Every backend uses it: the bbolt [Broker] appends what its
// publisher just committed, and the Redis backend appends what its stream
// reader just read. Everything about subscribing (the replay cut, the topic
// filter, the byte budget that drops a slow subscriber) lives here, so the
// backends behave the same.
//
// A Window's methods are its read side, safe for concurrent use. Appending
// goes through the [Writer] that [NewWindow] hands to the backend's one
// writer; a type that embeds the Window to serve reads (Broker, a Redis feed)
// therefore exposes no way to append behind its backend's back.
//
// Only the one writer appends, and only it mutates w.kept; it may therefore
// read w.kept without w.mu to plan an eviction. Readers take w.mu.
type Window struct {
	topics     []string
	topicBit   map[string]uint64
	optIn      uint64 // bits of the topics sent only to those who name them
	queueBytes int64
	keep       retention
	now        func() time.Time
	elapsed    func() time.Duration
	// position maps a client's id to its sequence in w.kept's order, or
	// says why it can't (ReasonMalformed, ReasonOtherStore).
	position func(id string) (seq uint64, reason string)
	redact   map[string]func([]byte) ([]byte, error)

	mu         sync.Mutex // guards following fields
	kept       retained
	trimmed    uint64 // newest seq ever evicted (0: none)
	last       uint64 // newest seq appended (0: none)
	latest     []*Event
	subs       []*Subscription
	closed     bool
	backendErr error // the backend's current failure; nil while healthy
	lastPubAt  time.Time

	published  atomic.Uint64
	replayed   atomic.Uint64
	catchups   atomic.Uint64
	incomplete atomic.Uint64
	dropped    atomic.Uint64
	writeErrs  atomic.Uint64
}

// WindowOptions configures a Window. Zero values get the defaults noted.
type WindowOptions struct {
	Topics    []string      // every topic that may be published, in display order (required)
	Retention time.Duration // keep events newer than this (required)
	MaxBytes  int64         // and at most this many bytes of them (required)
	// QueueBytes is how far (in encoded bytes) a subscriber may fall behind
	// before it is dropped. Default 256 KiB.
	QueueBytes int64
	Now        func() time.Time // default time.Now
	// Elapsed is a monotonic clock: time since any fixed origin. Events are
	// evicted when it says their age passed Retention, so a step of the
	// wall clock (Now) never evicts early. Default: the process's monotonic
	// clock.
	Elapsed func() time.Duration
	// Position maps a client's id to its sequence in the log's order, or
	// gives the reason (ReasonMalformed, ReasonOtherStore) it can't be
	// resumed here (required). It is how a backend's ids enter the window.
	Position func(id string) (seq uint64, reason string)
	// Redact maps a topic to the function that strips from its payload
	// what a restricted viewer must not see (processes: command lines and
	// user names). Each event of such a topic gets its redacted form
	// ([Event.Redacted]) once, as it enters the window, so streams and
	// replays write ready-made bytes either way.
	Redact map[string]func(data []byte) ([]byte, error)
	// OptIn lists topics (among Topics) that a subscriber or a Range
	// gets only when it names them: the minute rollups, which a page
	// showing the live view has no use for.
	OptIn []string
}

// NewWindow returns an empty window and the Writer through which its one
// writer fills it.
func NewWindow(o WindowOptions) (*Window, *Writer, error) {
	if len(o.Topics) == 0 || o.Retention <= 0 || o.MaxBytes <= 0 || o.Position == nil {
		return nil, nil, errors.New("history: Topics, Retention, MaxBytes and Position are required")
	}
	if len(o.Topics) > 64 {
		return nil, nil, errors.New("history: at most 64 topics") // one bit each in a mask
	}
	w := &Window{
		topics:     slices.Clone(o.Topics),
		topicBit:   make(map[string]uint64, len(o.Topics)),
		queueBytes: o.QueueBytes,
		keep:       retention{Age: o.Retention, MaxBytes: o.MaxBytes},
		now:        o.Now,
		elapsed:    o.Elapsed,
		position:   o.Position,
		redact:     o.Redact,
		latest:     make([]*Event, len(o.Topics)),
	}
	if w.queueBytes <= 0 {
		// About two minutes of five topics at 1 Hz, far beyond a healthy
		// client's lag, yet small enough that 10,000 stuck clients can't
		// pin much memory (queued events are shared with the window anyway).
		w.queueBytes = 256 << 10
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.elapsed == nil {
		origin := time.Now()
		w.elapsed = func() time.Duration { return time.Since(origin) }
	}
	for i, t := range w.topics {
		if !fieldOK(t) || t == "" {
			return nil, nil, fmt.Errorf("history: bad topic name %q", t)
		}
		w.topicBit[t] = 1 << i
	}
	for _, t := range o.OptIn {
		bit, ok := w.topicBit[t]
		if !ok {
			return nil, nil, fmt.Errorf("history: opt-in topic %q is not among the topics", t)
		}
		w.optIn |= bit
	}
	return w, &Writer{w: w}, nil
}

// Writer appends to one Window. It belongs to the backend's one writer
// goroutine (or to calls the backend serialises): its methods must not run
// concurrently with each other.
type Writer struct{ w *Window }

// Load seeds the window before anyone subscribes: evs, oldest first and
// all newer than trimmed, the newest seq ever evicted from the log. What
// the window's retention doesn't keep of evs is evicted on the way in.
func (wr *Writer) Load(evs []*Event, trimmed uint64) {
	w := wr.w
	var r retained
	r.append(evs)
	// No monotonic clock survives a restart: what was stored is judged by
	// the wall clock once, here; from then on each event's age runs on the
	// monotonic clock.
	if n := r.evictCount(r.olderThan(w.now().Add(-w.keep.Age).UnixMilli()), 0, w.keep.MaxBytes); n > 0 {
		trimmed = max(trimmed, r.evs[n-1].Seq)
		r.evict(n)
	}
	w.load(r.evs, trimmed)
}

// Append adds events just read from the backend (newer than everything
// held, oldest first), evicts what retention no longer keeps, clears the
// backend's error (events arriving prove it healthy) and hands evs to
// every subscriber. After Shutdown it is ErrClosed.
func (wr *Writer) Append(evs []*Event) error {
	if len(evs) == 0 {
		return nil
	}
	evict, _, trimmed := wr.w.planEvict(evs)
	return wr.w.add(evs, evict, trimmed, nil)
}

// SetErr records the backend's health without appending anything: why it
// fails now, or nil once it works again. Stats reports it.
func (wr *Writer) SetErr(err error) {
	w := wr.w
	w.mu.Lock()
	w.backendErr = err
	w.mu.Unlock()
}

// load seeds the window before anyone subscribes: the retained events,
// oldest first, and the newest seq ever evicted.
func (w *Window) load(evs []*Event, trimmed uint64) {
	w.addRedacted(evs)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.kept.appendExpiring(evs, w.expiry())
	w.trimmed = trimmed
	w.last = trimmed
	if n := len(evs); n > 0 {
		w.last = evs[n-1].Seq
	}
	for _, e := range evs {
		// A topic this build no longer publishes (the log outlived a
		// collector) stays replayable; only known topics have a latest.
		e.bit = w.topicBit[e.Topic]
		if e.bit != 0 {
			w.latest[bitIndex(e.bit)] = e
		}
	}
}

// planEvict says what adding evs will evict under the window's retention:
// how many of the oldest events go, the newest evicted seq (0: none), and
// the trimmed mark afterwards. Only the writer calls it (it reads w.kept
// without w.mu); a backend that persists uses through to trim its store in
// the same write, then hands the plan to add.
func (w *Window) planEvict(evs []*Event) (evict int, through, trimmed uint64) {
	// Every appended event passes here before it is counted and shared:
	// the place to give it its redacted form.
	w.addRedacted(evs)
	var in int64
	for _, e := range evs {
		in += e.size()
	}
	now := w.elapsed()
	evict = w.kept.evictCount(func(i int) bool { return w.kept.expire[i] <= now }, in, w.keep.MaxBytes)
	trimmed = w.trimmed
	if evict > 0 {
		through = w.kept.evs[evict-1].Seq
		trimmed = max(trimmed, through)
	}
	return evict, through, trimmed
}

// expiry returns when, on the monotonic clock, an event's age passes the
// retention: its age now by the wall clock (the only age a sample time
// gives), then real time. A wall clock step after this moves nothing.
func (w *Window) expiry() func(*Event) time.Duration {
	nowMS, elapsed := w.now().UnixMilli(), w.elapsed()
	return func(e *Event) time.Duration {
		return elapsed + w.keep.Age - time.Duration(nowMS-e.T)*time.Millisecond
	}
}

// add appends evs (newer than everything held), evicts the oldest evict
// events, raises the trimmed mark, records the backend's current error (nil:
// healthy) and hands evs to every subscriber. Called by the one writer.
func (w *Window) add(evs []*Event, evict int, trimmed uint64, backendErr error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.backendErr = backendErr
	for _, e := range evs {
		e.bit = w.topicBit[e.Topic]
	}
	w.kept.appendExpiring(evs, w.expiry())
	w.kept.evict(evict)
	w.trimmed = max(w.trimmed, trimmed)
	if len(evs) > 0 {
		w.last = evs[len(evs)-1].Seq
		w.lastPubAt = w.now()
	}
	for _, e := range evs {
		if e.bit != 0 {
			w.latest[bitIndex(e.bit)] = e
		}
	}
	w.published.Add(uint64(len(evs)))
	w.fanOut(evs)
	return nil
}

// fanOut queues evs on every subscriber, dropping those past their budget.
// Called with w.mu held.
func (w *Window) fanOut(evs []*Event) {
	kept := w.subs[:0]
	for _, s := range w.subs {
		if s.enqueue(evs, w.queueBytes) {
			s.idx = len(kept)
			kept = append(kept, s)
			continue
		}
		w.dropped.Add(1)
		s.idx = -1
		s.finish(ErrSlow)
	}
	clear(w.subs[len(kept):]) // let dropped subscribers be collected
	w.subs = kept
}

// addRedacted gives each event of a topic with a redactor its redacted
// form. Called by the one writer before the events are shared. A payload
// the redactor can't read is replaced, for restricted viewers, by one that
// holds only its time: better a blank row than a leaked secret.
func (w *Window) addRedacted(evs []*Event) {
	for _, e := range evs {
		f := w.redact[e.Topic]
		if f == nil || e.Redacted != nil {
			continue
		}
		data, err := f(e.Data)
		if err != nil {
			data = fmt.Appendf(nil, `{"t":%d}`, e.T)
		}
		r, _ := encodeEvent(e.ID, e.Seq, e.Topic, e.T, data, nil)
		e.Redacted = r
	}
}

// Topics lists the topics in display order.
func (w *Window) Topics() []string { return slices.Clone(w.topics) }

// Subscribe registers a subscriber. Its replay (if Resume) and its live
// queue are cut at the same instant under the window's lock, so together
// they hold every event after After exactly once.
func (w *Window) Subscribe(o SubscribeOptions) (*Subscription, error) {
	mask, err := w.mask(o.Topics)
	if err != nil {
		return nil, err
	}
	s := &Subscription{
		w:     w,
		mask:  mask,
		ready: make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, ErrClosed
	}
	if o.Resume {
		c := Catchup{After: o.After, Head: w.headLocked()}
		start, reason := w.resumePoint(o.After)
		c.Complete, c.Reason = reason == "", reason
		s.replay = w.kept.evs[start:]
		if mask != w.allMask() {
			for _, e := range s.replay {
				if s.wants(e) {
					c.Count++
				}
			}
		} else {
			c.Count = len(s.replay)
		}
		s.catchup = &c
		w.catchups.Add(1)
		if !c.Complete {
			w.incomplete.Add(1)
		}
		w.replayed.Add(uint64(c.Count))
	}
	s.idx = len(w.subs)
	w.subs = append(w.subs, s)
	return s, nil
}

// resumePoint returns the index in w.kept to replay from for a client's last id,
// and a reason when that replay is not exactly what the client missed (then
// the whole window is replayed so the client can rebuild). Called with w.mu
// held.
func (w *Window) resumePoint(after string) (int, string) {
	seq, reason := w.position(after)
	switch {
	case reason != "":
		return 0, reason
	case seq > w.last:
		return 0, ReasonFuture
	case seq < w.trimmed:
		return 0, ReasonExpired
	case seq == w.trimmed:
		// The client saw the newest evicted event: all after it is kept.
		return 0, ""
	}
	i, found := w.kept.find(seq)
	if !found {
		return 0, ReasonUnknown
	}
	return i + 1, ""
}

// Range returns retained events for /api/history. With after (not ""), it
// returns up to limit events after it, oldest first; an after that is well
// formed but not resumable gives the window from its start with Complete
// false. Without after, it returns the newest limit events, oldest first.
// limit <= 0 means no limit. A malformed after is ErrBadAfter.
func (w *Window) Range(after string, topics []string, limit int) (Page, error) {
	mask, err := w.mask(topics)
	if err != nil {
		return Page{}, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	p := Page{Head: w.headLocked(), Oldest: w.oldestLocked(), Complete: true}
	evs := w.kept.evs
	if after != "" {
		start, reason := w.resumePoint(after)
		if reason == ReasonMalformed {
			return Page{}, ErrBadAfter
		}
		p.Complete, p.Reason = reason == "", reason
		for _, e := range evs[start:] {
			if limit > 0 && len(p.Events) == limit {
				break
			}
			if mask&e.bit != 0 {
				p.Events = append(p.Events, e)
			}
		}
		return p, nil
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if limit > 0 && len(p.Events) == limit {
			break
		}
		if mask&evs[i].bit != 0 {
			p.Events = append(p.Events, evs[i])
		}
	}
	slices.Reverse(p.Events)
	return p, nil
}

// Latest returns the newest event of each topic that has one, in topic order.
func (w *Window) Latest() []*Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]*Event, 0, len(w.latest))
	for _, e := range w.latest {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// Bounds returns the ids of the oldest and newest retained events ("" when
// there are none).
func (w *Window) Bounds() (oldest, newest string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.oldestLocked(), w.headLocked()
}

// Stats returns the running totals.
func (w *Window) Stats() Stats {
	w.mu.Lock()
	st := Stats{
		Subscribers:      len(w.subs),
		Events:           len(w.kept.evs),
		Bytes:            w.kept.bytes,
		LastBackendError: w.backendErr,
		PublishedAtLast:  w.lastPubAt,
	}
	w.mu.Unlock()
	st.Published = w.published.Load()
	st.Replayed = w.replayed.Load()
	st.Catchups = w.catchups.Load()
	st.Incomplete = w.incomplete.Load()
	st.Dropped = w.dropped.Load()
	st.WriteErrors = w.writeErrs.Load()
	return st
}

// Shutdown ends every subscription with ErrClosed and refuses new ones;
// handlers then tell their clients to reconnect. Safe to call more than
// once.
func (w *Window) Shutdown() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.closed = true
	for _, s := range w.subs {
		s.idx = -1
		s.finish(ErrClosed)
	}
	w.subs = nil
}

func (w *Window) unsubscribe(s *Subscription) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s.idx < 0 {
		return
	}
	last := len(w.subs) - 1
	w.subs[s.idx] = w.subs[last]
	w.subs[s.idx].idx = s.idx
	w.subs[last] = nil
	w.subs = w.subs[:last]
	s.idx = -1
}

func (w *Window) mask(topics []string) (uint64, error) {
	if len(topics) == 0 {
		return w.allMask() &^ w.optIn, nil
	}
	var m uint64
	for _, t := range topics {
		bit, ok := w.topicBit[t]
		if !ok {
			return 0, &UnknownTopicError{Topic: t, Valid: slices.Clone(w.topics)}
		}
		m |= bit
	}
	return m, nil
}

func (w *Window) allMask() uint64 { return 1<<len(w.topics) - 1 }

func (w *Window) headLocked() string {
	if n := len(w.kept.evs); n > 0 {
		return w.kept.evs[n-1].ID
	}
	return ""
}

func (w *Window) oldestLocked() string {
	if len(w.kept.evs) > 0 {
		return w.kept.evs[0].ID
	}
	return ""
}

func bitIndex(bit uint64) int { return bits.TrailingZeros64(bit) }
