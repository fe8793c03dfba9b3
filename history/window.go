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

// window is the in-memory retained window of one event log and its fan-out
// to subscribers. Both backends use it: the bbolt [Broker] appends what its
// publisher just committed, and a Redis [Feed] appends what its stream
// reader just read. Everything about subscribing (the replay cut, the topic
// filter, the byte budget that drops a slow subscriber) lives here, so the
// two behave the same.
//
// Only the backend's single writer calls add, and only it mutates w.kept;
// it may therefore read w.kept without w.mu to plan an eviction. Readers
// take w.mu.
type window struct {
	topics     []string
	topicBit   map[string]uint64
	queueBytes int64
	now        func() time.Time
	// position maps a client's id to its sequence in w.kept's order, or
	// says why it can't (ReasonMalformed, ReasonOtherStore).
	position func(id string) (seq uint64, reason string)

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

func newWindow(topics []string, queueBytes int64, now func() time.Time, position func(string) (uint64, string)) (*window, error) {
	w := &window{
		topics:     slices.Clone(topics),
		topicBit:   make(map[string]uint64, len(topics)),
		queueBytes: queueBytes,
		now:        now,
		position:   position,
		latest:     make([]*Event, len(topics)),
	}
	if len(topics) > 64 {
		return nil, errors.New("history: at most 64 topics") // one bit each in a mask
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
	for i, t := range w.topics {
		if !fieldOK(t) || t == "" {
			return nil, fmt.Errorf("history: bad topic name %q", t)
		}
		w.topicBit[t] = 1 << i
	}
	return w, nil
}

// load seeds the window before anyone subscribes: the retained events,
// oldest first, and the newest seq ever evicted.
func (w *window) load(evs []*Event, trimmed uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.kept.append(evs)
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

// planEvict says what adding evs under keep will evict: how many of the
// oldest events go, the newest evicted seq (0: none), and the trimmed mark
// afterwards. Only the writer calls it (it reads w.kept without w.mu);
// a backend that persists uses through to trim its store in the same
// write, then hands the plan to add.
func (w *window) planEvict(evs []*Event, keep retention) (evict int, through, trimmed uint64) {
	var in int64
	for _, e := range evs {
		in += e.size()
	}
	evict = w.kept.evictCount(w.now().Add(-keep.Age).UnixMilli(), in, keep.MaxBytes)
	trimmed = w.trimmed
	if evict > 0 {
		through = w.kept.evs[evict-1].Seq
		trimmed = max(trimmed, through)
	}
	return evict, through, trimmed
}

// add appends evs (newer than everything held), evicts the oldest evict
// events, raises the trimmed mark, records the backend's current error (nil:
// healthy) and hands evs to every subscriber. Called by the one writer.
func (w *window) add(evs []*Event, evict int, trimmed uint64, backendErr error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.backendErr = backendErr
	for _, e := range evs {
		e.bit = w.topicBit[e.Topic]
	}
	w.kept.append(evs)
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

// setBackendErr records the backend's health without appending anything.
func (w *window) setBackendErr(err error) {
	w.mu.Lock()
	w.backendErr = err
	w.mu.Unlock()
}

// fanOut queues evs on every subscriber, dropping those past their budget.
// Called with w.mu held.
func (w *window) fanOut(evs []*Event) {
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

// Topics lists the topics in display order.
func (w *window) Topics() []string { return slices.Clone(w.topics) }

// Subscribe registers a subscriber. Its replay (if Resume) and its live
// queue are cut at the same instant under the window's lock, so together
// they hold every event after After exactly once.
func (w *window) Subscribe(o SubscribeOptions) (*Subscription, error) {
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
func (w *window) resumePoint(after string) (int, string) {
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
func (w *window) Range(after string, topics []string, limit int) (Page, error) {
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
func (w *window) Latest() []*Event {
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
func (w *window) Bounds() (oldest, newest string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.oldestLocked(), w.headLocked()
}

// Stats returns the running totals.
func (w *window) Stats() Stats {
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
func (w *window) Shutdown() {
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

func (w *window) subscribers() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.subs)
}

func (w *window) unsubscribe(s *Subscription) {
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

func (w *window) mask(topics []string) (uint64, error) {
	if len(topics) == 0 {
		return w.allMask(), nil
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

func (w *window) allMask() uint64 { return 1<<len(w.topics) - 1 }

func (w *window) headLocked() string {
	if n := len(w.kept.evs); n > 0 {
		return w.kept.evs[n-1].ID
	}
	return ""
}

func (w *window) oldestLocked() string {
	if len(w.kept.evs) > 0 {
		return w.kept.evs[0].ID
	}
	return ""
}

func bitIndex(bit uint64) int { return bits.TrailingZeros64(bit) }
