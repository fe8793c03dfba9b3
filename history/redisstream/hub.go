package redisstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/history"
)

// HubOptions configures a Hub.
type HubOptions struct {
	Client redis.UniversalClient
	Topics []string // every topic a host may publish, in display order
	// Retention is how much of a host's stream a feed keeps in memory when
	// the host's record doesn't say (it normally does: its --history).
	Retention time.Duration
	MaxBytes  int64 // and at most this many bytes per host
	// QueueBytes is a subscriber's budget before it is dropped (see
	// history.WindowOptions.QueueBytes).
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
	// Redact: see history.WindowOptions.Redact.
	Redact map[string]func(data []byte) ([]byte, error)
	// OptIn: see history.WindowOptions.OptIn.
	OptIn []string
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
		return nil, errors.New("redisstream: Client, Topics, Retention and MaxBytes are required")
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
	if _, _, err := (&Hub{o: o}).window(o.Retention); err != nil {
		return nil, err // bad topic names
	}
	return &Hub{o: o, log: o.Logger, feeds: map[string]*Feed{}}, nil
}

// loadWait bounds how long a request waits for a host's stream to load
// (about 18,000 entries for an hour at 1 Hz: well under a second on a
// healthy Redis). Past it the request is told to retry.
const loadWait = 5 * time.Second

// Source returns host's feed, loaded and ready, with the host's record.
// An unknown host is a *history.UnknownHostError; Redis being unreachable
// before the feed could load is history.ErrUnavailable. A feed that is
// already running keeps serving (with its last known record) while Redis
// is away.
func (h *Hub) Source(ctx context.Context, host string) (*Feed, HostRecord, error) {
	rec, err := h.record(ctx, host)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, HostRecord{}, history.ErrClosed
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
			known, kerr := h.o.Client.SMembers(ctx, HostsKey).Result()
			if kerr != nil {
				return nil, HostRecord{}, fmt.Errorf("%w: list hosts: %v", history.ErrUnavailable, kerr)
			}
			slices.Sort(known)
			return nil, HostRecord{}, &history.UnknownHostError{Host: host, Known: known}
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
		return nil, HostRecord{}, history.ErrClosed
	case <-ctx.Done():
		return nil, HostRecord{}, fmt.Errorf("%w: %v", history.ErrUnavailable, ctx.Err())
	case <-wait.C:
		return nil, HostRecord{}, fmt.Errorf("%w: loading %s: %v", history.ErrUnavailable, f.key, f.readErr())
	}
}

// record reads one host's record; redis.Nil when there is none.
func (h *Hub) record(ctx context.Context, host string) (HostRecord, error) {
	raw, err := h.o.Client.Get(ctx, RecordKey(host)).Bytes()
	if errors.Is(err, redis.Nil) {
		return HostRecord{}, err
	}
	if err != nil {
		return HostRecord{}, fmt.Errorf("%w: read host %q: %v", history.ErrUnavailable, host, err)
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
	return ReadHosts(ctx, h.o.Client, h.log)
}

// ReadHosts reads every host listed in HostsKey with its record, by name:
// the names first, then the records in one pipeline (which a cluster
// client splits by node, each record being in its host's slot). A name
// without a record, or with one that isn't JSON, is skipped (logged).
// Errors wrap history.ErrUnavailable.
func ReadHosts(ctx context.Context, c redis.UniversalClient, log *slog.Logger) ([]HostRecord, error) {
	names, err := c.SMembers(ctx, HostsKey).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: list hosts: %v", history.ErrUnavailable, err)
	}
	slices.Sort(names)
	pipe := c.Pipeline()
	gets := make([]*redis.StringCmd, len(names))
	for i, name := range names {
		gets[i] = pipe.Get(ctx, RecordKey(name))
	}
	if len(names) > 0 {
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("%w: read host records: %v", history.ErrUnavailable, err)
		}
	}
	out := make([]HostRecord, 0, len(names))
	for i, name := range names {
		raw, err := gets[i].Bytes()
		var rec HostRecord
		if err == nil {
			err = json.Unmarshal(raw, &rec)
		}
		if err != nil {
			if log != nil {
				log.Warn("skipping a host without a readable record", "host", name, "err", err)
			}
			continue
		}
		rec.Name = name
		out = append(out, rec)
	}
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

// Close ends every subscription with history.ErrClosed, stops every reader and
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
	age := h.o.Retention
	if rec.RetentionMS > 0 {
		age = time.Duration(rec.RetentionMS) * time.Millisecond
	}
	w, wr, _ := h.window(age) // topics checked in NewHub
	ctx, cancel := context.WithCancel(context.Background())
	f := &Feed{
		ctx:    ctx,
		cancel: cancel,
		Window: w,
		wr:     wr,
		hub:    h,
		host:   host,
		key:    StreamKey(host),
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
	if f.Stats().Subscribers > 0 || time.Since(time.UnixMilli(f.touched.Load())) < h.o.Idle {
		return false
	}
	if h.feeds[f.host] == f {
		delete(h.feeds, f.host)
	}
	f.end()
	return true
}

// window makes a feed's window: the hub's topics and budgets, retention age
// keeping events newer than age, ids read as stream entry ids.
func (h *Hub) window(age time.Duration) (*history.Window, *history.Writer, error) {
	return history.NewWindow(history.WindowOptions{Topics: h.o.Topics, Retention: age, MaxBytes: h.o.MaxBytes,
		QueueBytes: h.o.QueueBytes, Position: streamPosition, Redact: h.o.Redact, OptIn: h.o.OptIn})
}
