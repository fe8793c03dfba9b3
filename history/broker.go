package history

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Broker. Zero values get the defaults noted.
type Options struct {
	Dir       string        // data dir holding the history file (required)
	Topics    []string      // every topic that may be published, in display order (required)
	Retention time.Duration // keep events newer than this (required)
	MaxBytes  int64         // and at most this many bytes of them (required)
	// QueueBytes is how far (in encoded bytes) a subscriber may fall behind
	// before it is dropped. Default 256 KiB: about two minutes of five
	// topics at 1 Hz, far beyond a healthy client's lag, yet small enough
	// that 10,000 stuck clients can't pin much memory (queued events are
	// shared with the ring anyway).
	QueueBytes int64
	Logger     *slog.Logger
	// ObserveStoreWrite, if set, is told how long each tick's store
	// transaction took (for the /metrics histogram).
	ObserveStoreWrite func(time.Duration)
	Now               func() time.Time // default time.Now; tests pin it
}

// Reasons a catch-up is incomplete, as sent in catchup-start.
const (
	ReasonMalformed  = "malformed"   // not an id this server could have issued
	ReasonOtherStore = "other-store" // from another (wiped or replaced) history
	ReasonExpired    = "expired"     // events after it are no longer retained
	ReasonFuture     = "future"      // newer than anything published here
	ReasonUnknown    = "unknown"     // in range, but no such event was published
)

// Errors returned to subscribers and callers.
var (
	ErrClosed   = errors.New("history is shut down")
	ErrSlow     = errors.New("subscriber fell too far behind")
	ErrBadAfter = errors.New("after is not a valid event id")
)

// UnknownTopicError names a topic the broker doesn't publish.
type UnknownTopicError struct {
	Topic string
	Valid []string
}

func (e *UnknownTopicError) Error() string {
	return fmt.Sprintf("unknown topic %q (valid: %s)", e.Topic, strings.Join(e.Valid, ", "))
}

// Stats are running totals for /metrics and /healthz.
type Stats struct {
	Subscribers     int
	Events          int   // retained events
	Bytes           int64 // retained encoded bytes
	Published       uint64
	Replayed        uint64
	Catchups        uint64
	Incomplete      uint64
	Dropped         uint64 // subscribers dropped for falling behind
	StoreErrors     uint64
	LastStoreError  error // nil once a write succeeds again
	PublishedAtLast time.Time
}

// Broker is the bounded, persistent event log and its fan-out. See doc.go
// for the contract.
type Broker struct {
	topics     []string
	topicBit   map[string]uint64
	queueBytes int64
	keep       retention
	log        *slog.Logger
	now        func() time.Time
	observe    func(time.Duration)
	epoch      string

	pubMu   sync.Mutex // serialises Publish; guards following fields
	store   *store
	next    uint64 // next seq to issue
	storeOK bool   // last store write succeeded

	mu         sync.Mutex // guards following fields
	ring       ring
	trimmed    uint64 // newest seq ever evicted (0: none)
	last       uint64 // newest seq published (0: none)
	latest     []*Event
	subs       []*Subscription
	closed     bool
	storeErr   error
	lastPubAt  time.Time
	published  atomic.Uint64
	replayed   atomic.Uint64
	catchups   atomic.Uint64
	incomplete atomic.Uint64
	dropped    atomic.Uint64
	storeErrs  atomic.Uint64
}

// Open opens the history in opts.Dir, loads the retained window and the id
// counter back, and returns a broker ready to publish.
func Open(opts Options) (*Broker, error) {
	if opts.Dir == "" || len(opts.Topics) == 0 || opts.Retention <= 0 || opts.MaxBytes <= 0 {
		return nil, errors.New("history: Dir, Topics, Retention and MaxBytes are required")
	}
	if len(opts.Topics) > 64 {
		return nil, errors.New("history: at most 64 topics") // one bit each in a mask
	}
	b := &Broker{
		topics:     slices.Clone(opts.Topics),
		topicBit:   make(map[string]uint64, len(opts.Topics)),
		queueBytes: opts.QueueBytes,
		keep:       retention{Age: opts.Retention, MaxBytes: opts.MaxBytes},
		log:        opts.Logger,
		now:        opts.Now,
		observe:    opts.ObserveStoreWrite,
		latest:     make([]*Event, len(opts.Topics)),
		storeOK:    true,
	}
	if b.queueBytes <= 0 {
		b.queueBytes = 256 << 10
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.now == nil {
		b.now = time.Now
	}
	for i, t := range b.topics {
		if !fieldOK(t) || t == "" {
			return nil, fmt.Errorf("history: bad topic name %q", t)
		}
		b.topicBit[t] = 1 << i
	}
	st, l, err := openStore(opts.Dir, b.keep, b.now(), b.log)
	if err != nil {
		return nil, err
	}
	b.store, b.epoch, b.next, b.trimmed = st, l.epoch, l.next, l.trimmed
	b.ring.append(l.events)
	b.last = l.trimmed
	if n := len(l.events); n > 0 {
		b.last = l.events[n-1].Seq
	}
	for _, e := range l.events {
		// A topic this build no longer publishes (the file outlived a
		// collector) stays replayable; only known topics have a latest.
		e.bit = b.topicBit[e.Topic]
		if e.bit != 0 {
			b.latest[bitIndex(e.bit)] = e
		}
	}
	return b, nil
}

// Topics lists the topics in display order.
func (b *Broker) Topics() []string { return slices.Clone(b.topics) }

// Epoch names this store; it is part of every id.
func (b *Broker) Epoch() string { return b.epoch }

// Publish assigns ids to one tick's samples, commits them to the store, and
// hands them to every subscriber. It never waits on a subscriber. Samples of
// an unknown topic are refused as a whole. Publish is safe to call from
// several goroutines, but there is normally one: the sampler.
//
// A store failure (a full disk) is logged and returned, yet the events are
// still published from memory: viewers keep their live stream.
func (b *Broker) Publish(t time.Time, samples []Sample) error {
	if len(samples) == 0 {
		return nil
	}
	for _, s := range samples {
		if _, ok := b.topicBit[s.Topic]; !ok {
			return &UnknownTopicError{Topic: s.Topic, Valid: b.topics}
		}
	}
	b.pubMu.Lock()
	defer b.pubMu.Unlock()

	ms := t.UnixMilli()
	size := 0
	for _, s := range samples {
		size += len(s.Data) + len(s.Topic) + 64 // + the id and field names
	}
	wire := make([]byte, 0, size) // one allocation for the tick's wire bytes
	evs := make([]*Event, len(samples))
	for i, s := range samples {
		evs[i], wire = newEvent(b.epoch, b.next, s.Topic, ms, s.Data, wire)
		evs[i].bit = b.topicBit[s.Topic]
		b.next++
	}

	// Only this goroutine mutates the ring, so reading it here without
	// b.mu is safe; readers take b.mu.
	var in int64
	for _, e := range evs {
		in += e.size()
	}
	evict := b.ring.evictCount(b.now().Add(-b.keep.Age).UnixMilli(), in, b.keep.MaxBytes)
	trimmed := b.trimmed
	var through uint64
	if evict > 0 {
		through = b.ring.evs[evict-1].Seq
		trimmed = max(trimmed, through)
	}

	start := time.Now()
	err := b.store.append(evs, through, trimmed)
	if b.observe != nil {
		b.observe(time.Since(start))
	}
	if err != nil {
		b.storeErrs.Add(1)
		if b.storeOK {
			b.log.Error("history write failed; serving from memory until it recovers",
				"path", b.store.path, "err", err)
		}
		if b.next >= b.store.reservedMark() {
			b.log.Error("history write still failing and the reserved id range is used up; a restart now could reuse ids",
				"path", b.store.path)
		}
		err = fmt.Errorf("write history: %w", err)
	} else if !b.storeOK {
		b.log.Info("history writes recovered", "path", b.store.path)
	}
	b.storeOK = err == nil

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.storeErr = err
	b.ring.append(evs)
	b.ring.evict(evict)
	b.trimmed = trimmed
	b.last = evs[len(evs)-1].Seq
	b.lastPubAt = b.now()
	for _, e := range evs {
		b.latest[bitIndex(e.bit)] = e
	}
	b.published.Add(uint64(len(evs)))
	b.fanOut(evs)
	return err
}

// fanOut queues evs on every subscriber, dropping those past their budget.
// Called with b.mu held.
func (b *Broker) fanOut(evs []*Event) {
	kept := b.subs[:0]
	for _, s := range b.subs {
		if s.enqueue(evs, b.queueBytes) {
			s.idx = len(kept)
			kept = append(kept, s)
			continue
		}
		b.dropped.Add(1)
		s.idx = -1
		s.finish(ErrSlow)
	}
	clear(b.subs[len(kept):]) // let dropped subscribers be collected
	b.subs = kept
}

// Catchup describes the replay a subscriber gets for its Last-Event-ID.
type Catchup struct {
	After    string // the id the client sent
	Count    int    // events replayed (after the topic filter)
	Complete bool   // false: events after After were lost, see Reason
	Reason   string // one of the Reason* constants when !Complete
	Head     string // id of the newest event at subscribe time ("" if none)
}

// SubscribeOptions says what a subscriber wants.
type SubscribeOptions struct {
	Topics []string // empty: every topic
	// Resume asks for a catch-up from After (the client's Last-Event-ID).
	// Without it the subscriber gets live events only.
	Resume bool
	After  string
}

// Subscribe registers a subscriber. Its replay (if Resume) and its live
// queue are cut at the same instant under the broker's lock, so together
// they hold every event after After exactly once.
func (b *Broker) Subscribe(o SubscribeOptions) (*Subscription, error) {
	mask, err := b.mask(o.Topics)
	if err != nil {
		return nil, err
	}
	s := &Subscription{
		b:     b,
		mask:  mask,
		ready: make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	if o.Resume {
		c := Catchup{After: o.After, Head: b.headLocked()}
		start, reason := b.resumePoint(o.After)
		c.Complete, c.Reason = reason == "", reason
		s.replay = b.ring.evs[start:]
		if mask != b.allMask() {
			for _, e := range s.replay {
				if s.wants(e) {
					c.Count++
				}
			}
		} else {
			c.Count = len(s.replay)
		}
		s.catchup = &c
		b.catchups.Add(1)
		if !c.Complete {
			b.incomplete.Add(1)
		}
		b.replayed.Add(uint64(c.Count))
	}
	s.idx = len(b.subs)
	b.subs = append(b.subs, s)
	return s, nil
}

// resumePoint returns the ring index to replay from for a client's last id,
// and a reason when that replay is not exactly what the client missed (then
// the whole window is replayed so the client can rebuild).
func (b *Broker) resumePoint(after string) (int, string) {
	epoch, seq, ok := parseID(after)
	switch {
	case !ok:
		return 0, ReasonMalformed
	case epoch != b.epoch:
		return 0, ReasonOtherStore
	case seq > b.last:
		return 0, ReasonFuture
	case seq < b.trimmed:
		return 0, ReasonExpired
	case seq == b.trimmed:
		// The client saw the newest evicted event: all after it is kept.
		return 0, ""
	}
	i, found := b.ring.find(seq)
	if !found {
		return 0, ReasonUnknown
	}
	return i + 1, ""
}

// Page is one answer of Range.
type Page struct {
	Head, Oldest string
	Complete     bool
	Reason       string
	Events       []*Event
}

// Range returns retained events for /api/history. With after (not ""), it
// returns up to limit events after it, oldest first; an after that is well
// formed but not resumable gives the window from its start with Complete
// false. Without after, it returns the newest limit events, oldest first.
// limit <= 0 means no limit. A malformed after is ErrBadAfter.
func (b *Broker) Range(after string, topics []string, limit int) (Page, error) {
	mask, err := b.mask(topics)
	if err != nil {
		return Page{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	p := Page{Head: b.headLocked(), Oldest: b.oldestLocked(), Complete: true}
	evs := b.ring.evs
	if after != "" {
		start, reason := b.resumePoint(after)
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
func (b *Broker) Latest() []*Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*Event, 0, len(b.latest))
	for _, e := range b.latest {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// Bounds returns the ids of the oldest and newest retained events ("" when
// there are none).
func (b *Broker) Bounds() (oldest, newest string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.oldestLocked(), b.headLocked()
}

// Stats returns the running totals.
func (b *Broker) Stats() Stats {
	b.mu.Lock()
	st := Stats{
		Subscribers:     len(b.subs),
		Events:          len(b.ring.evs),
		Bytes:           b.ring.bytes,
		LastStoreError:  b.storeErr,
		PublishedAtLast: b.lastPubAt,
	}
	b.mu.Unlock()
	st.Published = b.published.Load()
	st.Replayed = b.replayed.Load()
	st.Catchups = b.catchups.Load()
	st.Incomplete = b.incomplete.Load()
	st.Dropped = b.dropped.Load()
	st.StoreErrors = b.storeErrs.Load()
	return st
}

// Shutdown ends every subscription with ErrClosed and refuses new ones;
// handlers then tell their clients to reconnect. Publish returns ErrClosed
// from now on. Safe to call more than once.
func (b *Broker) Shutdown() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for _, s := range b.subs {
		s.idx = -1
		s.finish(ErrClosed)
	}
	b.subs = nil
}

// Close shuts the broker down (see Shutdown) and closes the history file.
// Every bbolt transaction is committed when Publish returns, so there is
// nothing left to flush.
func (b *Broker) Close() error {
	b.Shutdown()
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	if b.store == nil {
		return nil
	}
	err := b.store.close()
	b.store = nil
	return err
}

func (b *Broker) unsubscribe(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.idx < 0 {
		return
	}
	last := len(b.subs) - 1
	b.subs[s.idx] = b.subs[last]
	b.subs[s.idx].idx = s.idx
	b.subs[last] = nil
	b.subs = b.subs[:last]
	s.idx = -1
}

func (b *Broker) mask(topics []string) (uint64, error) {
	if len(topics) == 0 {
		return b.allMask(), nil
	}
	var m uint64
	for _, t := range topics {
		bit, ok := b.topicBit[t]
		if !ok {
			return 0, &UnknownTopicError{Topic: t, Valid: slices.Clone(b.topics)}
		}
		m |= bit
	}
	return m, nil
}

func (b *Broker) allMask() uint64 { return 1<<len(b.topics) - 1 }

func (b *Broker) headLocked() string {
	if n := len(b.ring.evs); n > 0 {
		return b.ring.evs[n-1].ID
	}
	return ""
}

func (b *Broker) oldestLocked() string {
	if len(b.ring.evs) > 0 {
		return b.ring.evs[0].ID
	}
	return ""
}

func bitIndex(bit uint64) int {
	i := 0
	for bit > 1 {
		bit >>= 1
		i++
	}
	return i
}
