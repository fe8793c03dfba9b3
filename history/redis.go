package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable means the Redis backend can't answer right now (Redis is
// down or restarting). Streams should tell the client to retry soon.
var ErrUnavailable = errors.New("history backend unavailable")

// UnknownHostError names a host nobody publishes, and the ones that do.
type UnknownHostError struct {
	Host  string
	Known []string
}

func (e *UnknownHostError) Error() string {
	return fmt.Sprintf("unknown host %q (known: %s)", e.Host, strings.Join(e.Known, ", "))
}

// HubOptions configures a Hub.
type HubOptions struct {
	Client *redis.Client
	Topics []string // every topic a host may publish, in display order
	// Retention is how much of a host's stream a feed keeps in memory when
	// the host's record doesn't say (it normally does: its --history).
	Retention time.Duration
	MaxBytes  int64 // and at most this many bytes per host
	// QueueBytes is a subscriber's budget before it is dropped (see
	// Options.QueueBytes).
	QueueBytes int64
	// Block is how long one XREAD waits for new entries. go-redis can't
	// interrupt a blocking read, so this bounds how long stopping a reader
	// (and so shutdown) takes. Default 1s.
	Block time.Duration
	// Idle is how long a host's reader keeps running after its last
	// subscriber left and nothing read it. Default 30s: a page reload or a
	// reconnect reuses the warm window instead of reloading the stream.
	Idle   time.Duration
	Logger *slog.Logger
}

// Hub serves any host's history from Redis: for each host that is being
// read it runs one Feed (one reader goroutine) on this instance, started
// on first use and stopped when idle or at Close. See doc.go.
type Hub struct {
	o   HubOptions
	log *slog.Logger
	wg  sync.WaitGroup // one per running reader

	mu     sync.Mutex // guards following fields
	feeds  map[string]*Feed
	closed bool
}

// NewHub returns a hub; it starts no goroutine until a host is read.
func NewHub(o HubOptions) (*Hub, error) {
	if o.Client == nil || len(o.Topics) == 0 || o.Retention <= 0 || o.MaxBytes <= 0 {
		return nil, errors.New("history: Client, Topics, Retention and MaxBytes are required")
	}
	if o.Block <= 0 {
		o.Block = time.Second
	}
	if o.Idle <= 0 {
		o.Idle = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if _, err := newWindow(o.Topics, o.QueueBytes, nil, streamPosition); err != nil {
		return nil, err // bad topic names
	}
	return &Hub{o: o, log: o.Logger, feeds: map[string]*Feed{}}, nil
}

// loadWait bounds how long a request waits for a host's stream to load
// (about 18,000 entries for an hour at 1 Hz: well under a second on a
// healthy Redis). Past it the request is told to retry.
const loadWait = 5 * time.Second

// Source returns host's feed, loaded and ready, with the host's record.
// An unknown host is an *UnknownHostError; Redis being unreachable before
// the feed could load is ErrUnavailable. A feed that is already running
// keeps serving (with its last known record) while Redis is away.
func (h *Hub) Source(ctx context.Context, host string) (*Feed, HostRecord, error) {
	rec, err := h.record(ctx, host)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, HostRecord{}, ErrClosed
	}
	f := h.feeds[host]
	switch {
	case err == nil:
	case f != nil:
		// Redis is away, or lost the hash in a restart: the host re-announces
		// on its next tick; meanwhile the running feed is still right.
		if cached := f.record(); cached != nil {
			rec, err = *cached, nil
		}
	}
	if err != nil {
		h.mu.Unlock()
		if errors.Is(err, redis.Nil) {
			known, kerr := h.o.Client.HKeys(ctx, HostsKey).Result()
			if kerr != nil {
				return nil, HostRecord{}, fmt.Errorf("%w: list hosts: %v", ErrUnavailable, kerr)
			}
			slices.Sort(known)
			return nil, HostRecord{}, &UnknownHostError{Host: host, Known: known}
		}
		return nil, HostRecord{}, err
	}
	if f == nil {
		f = h.startFeed(host, rec)
	}
	f.touch()
	f.setRecord(rec)
	h.mu.Unlock()

	wait := time.NewTimer(loadWait)
	defer wait.Stop()
	select {
	case <-f.loaded:
		return f, rec, nil
	case <-f.stop:
		return nil, HostRecord{}, ErrClosed
	case <-ctx.Done():
		return nil, HostRecord{}, fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	case <-wait.C:
		return nil, HostRecord{}, fmt.Errorf("%w: loading %s: %v", ErrUnavailable, f.key, f.readErr())
	}
}

// record reads one host's record; redis.Nil when there is none.
func (h *Hub) record(ctx context.Context, host string) (HostRecord, error) {
	raw, err := h.o.Client.HGet(ctx, HostsKey, host).Bytes()
	if errors.Is(err, redis.Nil) {
		return HostRecord{}, err
	}
	if err != nil {
		return HostRecord{}, fmt.Errorf("%w: read host %q: %v", ErrUnavailable, host, err)
	}
	var rec HostRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return HostRecord{}, fmt.Errorf("decode host %q: %w", host, err)
	}
	rec.Name = host
	return rec, nil
}

// Hosts lists every announced host, by name.
func (h *Hub) Hosts(ctx context.Context) ([]HostRecord, error) {
	all, err := h.o.Client.HGetAll(ctx, HostsKey).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: list hosts: %v", ErrUnavailable, err)
	}
	out := make([]HostRecord, 0, len(all))
	for name, raw := range all {
		var rec HostRecord
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			h.log.Warn("skipping a host record that isn't JSON", "host", name, "err", err)
			continue
		}
		rec.Name = name
		out = append(out, rec)
	}
	slices.SortFunc(out, func(a, b HostRecord) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Err is nil while every running reader reads; otherwise it names the
// first host whose reader fails, and why.
func (h *Hub) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range h.feeds {
		if err := f.readErr(); err != nil {
			return fmt.Errorf("reading %s: %w", f.key, err)
		}
	}
	return nil
}

// Following is how many hosts this instance reads now (one reader each).
func (h *Hub) Following() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.feeds)
}

// Close ends every subscription with ErrClosed, stops every reader and
// waits for them (at most about one Block). Safe to call more than once.
func (h *Hub) Close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		for host, f := range h.feeds {
			f.end()
			delete(h.feeds, host)
		}
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// startFeed creates host's feed and its reader. Called with h.mu held.
func (h *Hub) startFeed(host string, rec HostRecord) *Feed {
	keep := retention{Age: h.o.Retention, MaxBytes: h.o.MaxBytes}
	if rec.RetentionMS > 0 {
		keep.Age = time.Duration(rec.RetentionMS) * time.Millisecond
	}
	w, _ := newWindow(h.o.Topics, h.o.QueueBytes, nil, streamPosition) // topics checked in NewHub
	ctx, cancel := context.WithCancel(context.Background())
	f := &Feed{
		ctx:    ctx,
		cancel: cancel,
		window: w,
		hub:    h,
		host:   host,
		key:    StreamKey(host),
		keep:   keep,
		lastID: "0-0",
		loaded: make(chan struct{}),
		stop:   make(chan struct{}),
		adv:    make(chan struct{}),
	}
	h.feeds[host] = f
	h.wg.Add(1)
	go f.run()
	return f
}

// retire removes an idle feed; false if it got a subscriber or a reader
// meanwhile.
func (h *Hub) retire(f *Feed) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f.subscribers() > 0 || time.Since(time.UnixMilli(f.touched.Load())) < h.o.Idle {
		return false
	}
	if h.feeds[f.host] == f {
		delete(h.feeds, f.host)
	}
	f.end()
	return true
}

// Feed is one host's history on this instance: the same window and fan-out
// as a Broker, fed by a reader goroutine that follows the host's Redis
// stream. Its ids are the stream's entry ids.
type Feed struct {
	*window
	hub  *Hub
	host string
	key  string
	keep retention

	loaded  chan struct{} // closed once the stream is loaded
	stop    chan struct{} // closed by end
	stopped sync.Once
	// ctx is cancelled by end, so a call that hasn't reached its blocking
	// read returns at once (one that has returns within Block).
	ctx     context.Context
	cancel  context.CancelFunc
	touched atomic.Int64 // unix ms of the last Source for this host

	lastID string // the newest entry read; owned by the reader

	mu     sync.Mutex // guards following fields
	rec    *HostRecord
	err    error         // the reader's current error; nil while reading
	adv    chan struct{} // closed and replaced whenever events arrive
	advSeq uint64        // newest seq appended
}

// futureWait bounds how long a client whose id is newer than this feed has
// read waits for the reader: the id came from another instance reading the
// same stream, a round trip ahead at most.
const futureWait = 2 * time.Second

// Subscribe is the window's Subscribe, after waiting (briefly) for the
// reader to reach the client's id when another instance already sent it.
func (f *Feed) Subscribe(o SubscribeOptions) (*Subscription, error) {
	f.touch()
	if o.Resume {
		if seq, reason := streamPosition(o.After); reason == "" {
			f.waitFor(seq)
		}
	}
	return f.window.Subscribe(o)
}

// Host is the name this feed follows.
func (f *Feed) Host() string { return f.host }

func (f *Feed) waitFor(seq uint64) {
	timeout := time.NewTimer(futureWait)
	defer timeout.Stop()
	for {
		f.mu.Lock()
		reached, adv := f.advSeq >= seq, f.adv
		f.mu.Unlock()
		if reached {
			return
		}
		select {
		case <-adv:
		case <-timeout.C:
			return
		case <-f.stop:
			return
		}
	}
}

func (f *Feed) touch() { f.touched.Store(time.Now().UnixMilli()) }

func (f *Feed) record() *HostRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rec
}

func (f *Feed) setRecord(rec HostRecord) {
	f.mu.Lock()
	f.rec = &rec
	f.mu.Unlock()
}

func (f *Feed) readErr() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *Feed) setErr(err error) {
	f.mu.Lock()
	was := f.err
	f.err = err
	f.mu.Unlock()
	f.window.setBackendErr(err)
	switch {
	case err != nil && was == nil:
		f.hub.log.Warn("redis read failed; streams keep their heartbeat and resume when it is back",
			"stream", f.key, "err", err)
	case err == nil && was != nil:
		f.hub.log.Info("redis reads recovered", "stream", f.key)
	}
}

// end stops the reader and ends every subscription. Called with hub.mu
// held (or by retire).
func (f *Feed) end() {
	f.stopped.Do(func() {
		close(f.stop)
		f.cancel()
		f.window.Shutdown()
	})
}

// readBatch is how many entries one XRANGE page or XREAD returns at most:
// a few hundred kilobytes, so loading an hour (18,000 entries) takes a
// handful of round trips without one huge reply.
const readBatch = 1000

// retryBackoff is the pause after a failed Redis call, doubled up to
// maxBackoff: quick recovery from a restart without hammering a dead
// server.
const (
	retryBackoff = 100 * time.Millisecond
	maxBackoff   = 2 * time.Second
)

// run is the feed's reader goroutine, owned by the hub: it loads the
// stream, then follows it with XREAD BLOCK until end or idleness.
func (f *Feed) run() {
	defer f.hub.wg.Done()
	defer f.cancel()
	ctx := f.ctx
	backoff := retryBackoff
	pause := func() bool { // false when the feed is stopping
		t := time.NewTimer(backoff)
		defer t.Stop()
		backoff = min(2*backoff, maxBackoff)
		select {
		case <-t.C:
			return true
		case <-f.stop:
			return false
		}
	}
	for {
		err := f.load(ctx)
		if err == nil {
			break
		}
		f.setErr(err)
		if f.idleRetire() || !pause() {
			return
		}
	}
	f.setErr(nil)
	close(f.loaded)
	backoff = retryBackoff
	for {
		select {
		case <-f.stop:
			return
		default:
		}
		res, err := f.hub.o.Client.XRead(ctx, &redis.XReadArgs{
			Streams: []string{f.key, f.lastID},
			Count:   readBatch,
			Block:   f.hub.o.Block,
		}).Result()
		switch {
		case errors.Is(err, redis.Nil): // nothing new within Block
			f.setErr(nil)
			if f.idleRetire() {
				return
			}
			continue
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			f.setErr(err)
			if f.idleRetire() || !pause() {
				return
			}
			continue
		}
		f.setErr(nil)
		backoff = retryBackoff
		for _, s := range res {
			f.append(s.Messages)
		}
	}
}

func (f *Feed) idleRetire() bool {
	if f.subscribers() > 0 {
		return false
	}
	return f.hub.retire(f)
}

// load reads the whole stream into the window. The first page and the
// stream's counters are read in one MULTI, so the trim mark agrees with the
// entries loaded; later pages follow by id (trimming only takes from the
// front, which the first page already fixed).
func (f *Feed) load(ctx context.Context) error {
	c := f.hub.o.Client
	pipe := c.TxPipeline()
	infoCmd := pipe.XInfoStream(ctx, f.key)
	firstCmd := pipe.XRangeN(ctx, f.key, "-", "+", readBatch)
	_, err := pipe.Exec(ctx)
	noStream := infoCmd.Err() != nil && strings.Contains(infoCmd.Err().Error(), "no such key")
	if err != nil && !(noStream && firstCmd.Err() == nil) {
		return fmt.Errorf("load %s: %w", f.key, err)
	}
	msgs := firstCmd.Val()
	evs := f.events(msgs)
	var trimmed uint64
	if !noStream {
		trimmed = trimMark(infoCmd.Val(), msgs)
	}
	for len(msgs) == readBatch {
		msgs, err = c.XRangeN(ctx, f.key, "("+msgs[len(msgs)-1].ID, "+", readBatch).Result()
		if err != nil {
			return fmt.Errorf("xrange %s: %w", f.key, err)
		}
		evs = append(evs, f.events(msgs)...)
	}
	var r retained
	r.append(evs)
	if n := r.evictCount(time.Now().Add(-f.keep.Age).UnixMilli(), 0, f.keep.MaxBytes); n > 0 {
		trimmed = max(trimmed, r.evs[n-1].Seq)
		r.evict(n)
	}
	f.window.load(r.evs, trimmed)
	if n := len(evs); n > 0 {
		f.lastID = evs[n-1].ID
		f.advanced(evs[n-1].Seq)
	}
	return nil
}

// trimMark is the window's "newest seq ever evicted" for a stream just
// loaded. Redis 7.0 doesn't record what MAXLEN trimmed (max-deleted-entry-id
// counts only XDEL), but entries-added > length says something was removed
// from the front, so everything before the first entry is gone: the mark
// is the position just before it. A client at exactly that position missed
// nothing, one before it gets complete:false "expired", and when nothing
// was ever removed an older id isn't from this stream at all ("unknown").
func trimMark(info *redis.XInfoStream, first []redis.XMessage) uint64 {
	var mark uint64
	if info.EntriesAdded > info.Length {
		if len(first) > 0 {
			if seq, reason := streamPosition(first[0].ID); reason == "" && seq > 0 {
				mark = seq - 1
			}
		} else if seq, reason := streamPosition(info.LastGeneratedID); reason == "" {
			mark = seq
		}
	}
	if seq, reason := streamPosition(info.MaxDeletedEntryID); reason == "" {
		mark = max(mark, seq)
	}
	return mark
}

// append adds newly read entries and evicts what the window no longer
// keeps.
func (f *Feed) append(msgs []redis.XMessage) {
	if len(msgs) == 0 {
		return
	}
	f.lastID = msgs[len(msgs)-1].ID
	evs := f.events(msgs)
	if len(evs) == 0 {
		return
	}
	evict, _, trimmed := f.planEvict(evs, f.keep)
	f.window.add(evs, evict, trimmed, nil)
	f.advanced(evs[len(evs)-1].Seq)
}

func (f *Feed) advanced(seq uint64) {
	f.mu.Lock()
	f.advSeq = seq
	close(f.adv)
	f.adv = make(chan struct{})
	f.mu.Unlock()
}

// events turns stream entries into events, skipping any that vitals didn't
// write (logged at debug: someone else's XADD to our key).
func (f *Feed) events(msgs []redis.XMessage) []*Event {
	size := 0
	for _, m := range msgs {
		if d, ok := m.Values[fieldData].(string); ok {
			size += len(d) + 96 // + id, topic and field names
		}
	}
	buf := make([]byte, 0, size) // one allocation for the batch's wire bytes
	out := make([]*Event, 0, len(msgs))
	for _, m := range msgs {
		topic, _ := m.Values[fieldTopic].(string)
		data, _ := m.Values[fieldData].(string)
		ms, n, ok := parseStreamID(m.ID)
		if !ok || topic == "" || !fieldOK(topic) {
			f.hub.log.Debug("skipping a stream entry vitals didn't write", "stream", f.key, "id", m.ID)
			continue
		}
		var e *Event
		e, buf = encodeEvent(m.ID, ms<<seqBits|n, topic, int64(ms), []byte(data), buf)
		out = append(out, e)
	}
	return out
}
