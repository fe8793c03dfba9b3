package history

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
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
	// shared with the window anyway).
	QueueBytes int64
	Logger     *slog.Logger
	// ObserveStoreWrite, if set, is told how long each tick's store
	// transaction took (for the /metrics histogram).
	ObserveStoreWrite func(time.Duration)
	Now               func() time.Time // default time.Now; tests pin it
	// Elapsed is the monotonic clock retention runs on (see
	// WindowOptions.Elapsed); default the process's. Tests pin it.
	Elapsed func() time.Duration
	// Redact: see [WindowOptions.Redact].
	Redact map[string]func(data []byte) ([]byte, error)
	// OptIn: see [WindowOptions.OptIn].
	OptIn []string
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
	// ErrUnavailable means a backend can't answer right now (Redis is
	// down or restarting). Streams should tell the client to retry soon.
	ErrUnavailable = errors.New("history backend unavailable")
)

// UnknownTopicError names a topic the broker doesn't publish.
type UnknownTopicError struct {
	Topic string
	Valid []string
}

func (e *UnknownTopicError) Error() string {
	return fmt.Sprintf("unknown topic %q (valid: %s)", e.Topic, strings.Join(e.Valid, ", "))
}

// UnknownHostError names a host nobody publishes, and the ones that do.
type UnknownHostError struct {
	Host  string
	Known []string
}

func (e *UnknownHostError) Error() string {
	return fmt.Sprintf("unknown host %q (known: %s)", e.Host, strings.Join(e.Known, ", "))
}

// Stats are running totals for /metrics and /healthz.
type Stats struct {
	Subscribers int
	Events      int   // retained events
	Bytes       int64 // retained encoded bytes
	Published   uint64
	Replayed    uint64
	Catchups    uint64
	Incomplete  uint64
	Dropped     uint64 // subscribers dropped for falling behind
	WriteErrors uint64 // failed writes to the Broker's history file
	// LastBackendError is why the backend behind the window is failing
	// now (the Broker's last write, a Redis feed's last read); nil once a
	// write or read succeeds again.
	LastBackendError error
	PublishedAtLast  time.Time
}

// Broker is the bounded, persistent event log and its fan-out. See doc.go
// for the contract. The in-memory window and the subscribers live in the
// embedded Window (shared with the Redis backend); Broker adds the bbolt
// store and the id counter, and is its Window's one writer.
type Broker struct {
	*Window
	log     *slog.Logger
	observe func(time.Duration)
	epoch   string

	pubMu   sync.Mutex // serialises Publish; guards following fields
	store   *store
	next    uint64 // next seq to issue
	storeOK bool   // last store write succeeded
}

// Open opens the history in opts.Dir, loads the retained window and the id
// counter back, and returns a broker ready to publish.
func Open(opts Options) (*Broker, error) {
	if opts.Dir == "" || len(opts.Topics) == 0 || opts.Retention <= 0 || opts.MaxBytes <= 0 {
		return nil, errors.New("history: Dir, Topics, Retention and MaxBytes are required")
	}
	b := &Broker{
		log:     opts.Logger,
		observe: opts.ObserveStoreWrite,
		storeOK: true,
	}
	w, _, err := NewWindow(WindowOptions{Topics: opts.Topics, Retention: opts.Retention, MaxBytes: opts.MaxBytes,
		QueueBytes: opts.QueueBytes, Now: opts.Now, Elapsed: opts.Elapsed, Position: b.position, Redact: opts.Redact, OptIn: opts.OptIn})
	if err != nil {
		return nil, err
	}
	b.Window = w
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	st, l, err := openStore(opts.Dir, w.keep, w.now(), b.log)
	if err != nil {
		return nil, err
	}
	b.store, b.epoch, b.next = st, l.epoch, l.next
	// openStore already dropped what retention doesn't keep, and the store
	// must agree with memory on the trimmed mark: load as is.
	w.load(l.events, l.trimmed)
	return b, nil
}

// Epoch names this store; it is part of every id.
func (b *Broker) Epoch() string { return b.epoch }

// DB is the history's bbolt file, for a neighbour that keeps its own
// buckets in the same file (the alert notification outbox) instead of a
// second file with its own lock and fsync. The broker owns it: callers
// must not close it, must stop using it before Close, and must leave the
// broker's buckets ("meta", "events") alone.
func (b *Broker) DB() *bolt.DB { return b.store.db }

// position reads a client's id: its seq, or why it can't be resumed here.
func (b *Broker) position(id string) (uint64, string) {
	epoch, seq, ok := parseID(id)
	switch {
	case !ok:
		return 0, ReasonMalformed
	case epoch != b.epoch:
		return 0, ReasonOtherStore
	}
	return seq, ""
}

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
	if b.store == nil {
		return ErrClosed // after Close
	}

	ms := t.UnixMilli()
	size := 0
	for _, s := range samples {
		size += len(s.Data) + len(s.Topic) + 64 // + the id and field names
	}
	wire := make([]byte, 0, size) // one allocation for the tick's wire bytes
	evs := make([]*Event, len(samples))
	for i, s := range samples {
		evs[i], wire = newEvent(b.epoch, b.next, s.Topic, ms, s.Data, wire)
		b.next++
	}

	evict, through, trimmed := b.planEvict(evs)
	start := time.Now()
	err := b.store.append(evs, through, trimmed)
	if b.observe != nil {
		b.observe(time.Since(start))
	}
	if err != nil {
		b.writeErrs.Add(1)
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

	if cerr := b.add(evs, evict, trimmed, err); cerr != nil {
		return cerr
	}
	return err
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

// Page is one answer of Range.
type Page struct {
	Head, Oldest string
	Complete     bool
	Reason       string
	Events       []*Event
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
