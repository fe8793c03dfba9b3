package redisstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/history"
)

// HostsKey is the Redis set of every host name that publishes: the one
// key shared by the whole fleet. It holds names only and is written when a
// host's record is new (its first tick, or after Redis lost its data), so
// in a cluster its slot sees a write per host now and then, not per tick.
const HostsKey = "vitals:hostnames"

// Every key of one host carries the hash tag "{<host>}", so in a Redis
// Cluster all of them land in one slot and one MULTI may touch them all;
// nothing vitals sends in one command or transaction spans two hosts.
func hostKey(host, suffix string) string { return "vitals:{" + host + "}:" + suffix }

// StreamKey is the Redis stream holding one host's events.
func StreamKey(host string) string { return hostKey(host, "events") }

// RecordKey is the Redis string holding one host's HostRecord as JSON,
// rewritten with every tick.
func RecordKey(host string) string { return hostKey(host, "record") }

// HostRecord is what a publisher writes to RecordKey on every tick.
type HostRecord struct {
	Name string `json:"name"`
	// Info is the host's hostinfo.Desc (OS, kernel, CPUs, ...) for the
	// hello event, without the interval and retention kept beside it. The
	// Publisher and Hub pass it through; Backend writes and reads it.
	Info        json.RawMessage `json:"info"`
	IntervalMS  int64           `json:"interval_ms"`
	RetentionMS int64           `json:"retention_ms"`
	LastSeen    int64           `json:"last_seen"` // unix ms of the newest tick written
	// Topics is what the host publishes (what it can provide), in
	// display order; empty in records of older versions.
	Topics []string `json:"topics,omitempty"`
}

// Stream entry fields. Short names: they are stored once per event.
const (
	fieldTopic = "topic"
	fieldData  = "data"
)

// PublisherOptions configures a Publisher.
type PublisherOptions struct {
	Client redis.UniversalClient
	Record HostRecord // Name is the host published as; LastSeen is set per tick
	Topics []string
	// MaxLen is how many entries the host's stream keeps: XADD trims it
	// with MAXLEN ~, so Redis keeps at least this many.
	MaxLen int64
	// Buffer is how many ticks are held while Redis can't be written; the
	// oldest go first when it overflows.
	Buffer int
	Logger *slog.Logger
}

// Publisher writes one host's ticks to its Redis stream. Publish never
// blocks: it queues the tick in a bounded buffer, and the publisher's own
// writer goroutine sends it (one MULTI/EXEC pipeline per tick: the tick's
// XADDs and the host's record). While Redis is unreachable, ticks stay in
// the buffer and are written, in order and with their original ids, when
// it is back.
//
// Writes are idempotent: each entry's id is "<sample ms>-<topic index>",
// so a tick that reached Redis although its reply was lost is refused as
// "equal or smaller than the top item" on the retry, and skipped.
type Publisher struct {
	rdb    redis.UniversalClient
	rec    HostRecord
	key    string
	recKey string
	topics map[string]uint64 // topic -> its seq within a tick
	names  []string
	maxLen int64
	cap    int
	log    *slog.Logger

	mu       sync.Mutex // guards following fields
	buf      []pendingTick
	nextNum  uint64 // number of the next queued tick
	lost     uint64 // ticks dropped because the buffer overflowed
	writeErr error  // last write's error; nil when healthy
	// Running totals for /metrics; never reset (lost is, per outage).
	writeErrors uint64 // failed pipeline writes
	dropped     uint64 // ticks dropped on overflow
	failedAt    time.Time
	closed      bool

	warnedStale bool // owned by the writer goroutine

	kick chan struct{} // a value waits here while ticks are queued
	stop chan struct{}
	done chan struct{}
}

type pendingTick struct {
	num     uint64
	ms      int64
	samples []history.Sample
}

// maxTicksPerPipeline bounds one catch-up write after an outage: 100 ticks
// of five topics is a pipeline of a few hundred kilobytes, big enough to
// drain a 10-minute backlog in seconds, small enough not to stall Redis.
const maxTicksPerPipeline = 100

// writeTimeout bounds one pipeline. A tick comes every second by default,
// so a hung write must give up soon enough for the next attempt.
const writeTimeout = 3 * time.Second

// finalFlush bounds the last write at Close: long enough to send what a
// short outage buffered, short enough to keep shutdown prompt.
const finalFlush = 2 * time.Second

// NewPublisher announces the host once (so a wrong password or an
// unreachable server stops the start with a clear error) and starts the
// writer. Close stops it.
func NewPublisher(ctx context.Context, o PublisherOptions) (*Publisher, error) {
	if o.Client == nil || o.Record.Name == "" || len(o.Topics) == 0 || o.MaxLen <= 0 || o.Buffer <= 0 {
		return nil, errors.New("history: Client, Record.Name, Topics, MaxLen and Buffer are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Publisher{
		rdb:    o.Client,
		rec:    o.Record,
		key:    StreamKey(o.Record.Name),
		recKey: RecordKey(o.Record.Name),
		topics: make(map[string]uint64, len(o.Topics)),
		names:  append([]string(nil), o.Topics...),
		maxLen: o.MaxLen,
		cap:    o.Buffer,
		log:    o.Logger,
		kick:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	for i, t := range o.Topics {
		p.topics[t] = uint64(i)
	}
	rec := p.rec
	rec.LastSeen = time.Now().UnixMilli()
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode host record: %w", err)
	}
	if err := p.announce(ctx, data); err != nil {
		return nil, err
	}
	go p.run()
	return p, nil
}

// announce writes the host's record and adds its name to HostsKey: two
// slots in a cluster, so two commands, the record first (a listed name
// always has a record to read).
func (p *Publisher) announce(ctx context.Context, record []byte) error {
	if err := p.rdb.Set(ctx, p.recKey, record, 0).Err(); err != nil {
		return fmt.Errorf("announce host %q: %w", p.rec.Name, err)
	}
	if err := p.rdb.SAdd(ctx, HostsKey, p.rec.Name).Err(); err != nil {
		return fmt.Errorf("announce host %q: %w", p.rec.Name, err)
	}
	return nil
}

// Publish queues one tick. It never blocks on Redis. A full buffer drops
// its oldest tick (logged once per outage).
func (p *Publisher) Publish(t time.Time, samples []history.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	for _, s := range samples {
		if _, ok := p.topics[s.Topic]; !ok {
			return &history.UnknownTopicError{Topic: s.Topic, Valid: append([]string(nil), p.names...)}
		}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return history.ErrClosed
	}
	if len(p.buf) == p.cap {
		if p.lost == 0 {
			p.log.Error("redis unreachable for longer than the local buffer; dropping the oldest ticks",
				"buffer_ticks", p.cap, "err", p.writeErr)
		}
		p.lost++
		p.dropped++
		p.buf[0] = pendingTick{}
		p.buf = p.buf[1:]
	}
	p.buf = append(p.buf, pendingTick{num: p.nextNum, ms: t.UnixMilli(), samples: samples})
	p.nextNum++
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
	return nil
}

// Err is nil while writes succeed; otherwise it says since when they fail,
// why, and how many ticks wait in the buffer.
func (p *Publisher) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.writeErr == nil {
		return nil
	}
	return fmt.Errorf("redis writes failing since %s (%d ticks buffered, %d dropped): %w",
		p.failedAt.Format(time.RFC3339), len(p.buf), p.lost, p.writeErr)
}

// Buffered is how many ticks wait to be written.
func (p *Publisher) Buffered() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.buf)
}

// PublisherStats are a publisher's running totals, for /metrics.
type PublisherStats struct {
	Buffered    int    // ticks waiting to be written now
	Capacity    int    // the most ticks the buffer holds
	WriteErrors uint64 // failed writes since start (one per attempt)
	Dropped     uint64 // ticks lost to a full buffer since start
}

// Stats reads the publisher's totals.
func (p *Publisher) Stats() PublisherStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PublisherStats{Buffered: len(p.buf), Capacity: p.cap, WriteErrors: p.writeErrors, Dropped: p.dropped}
}

// Close stops the writer after one last bounded attempt to write what is
// buffered, and waits for it. Safe to call more than once.
func (p *Publisher) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.stop)
	}
	p.mu.Unlock()
	<-p.done
}

// run is the writer goroutine, owned by the Publisher.
func (p *Publisher) run() {
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			ctx, cancel := context.WithTimeout(context.Background(), finalFlush)
			if err := p.flush(ctx); err != nil {
				p.log.Warn("ticks not written to redis at shutdown", "ticks", p.Buffered(), "err", err)
			}
			cancel()
			return
		case <-p.kick:
			// A failed write is retried on the next tick's kick: the
			// sampler's interval is the retry cadence, with no extra timer.
			p.flush(context.Background())
		}
	}
}

// flush writes the buffer in order, a pipeline at a time.
func (p *Publisher) flush(ctx context.Context) error {
	for {
		p.mu.Lock()
		n := min(len(p.buf), maxTicksPerPipeline)
		batch := append([]pendingTick(nil), p.buf[:n]...)
		p.mu.Unlock()
		if n == 0 {
			return nil
		}
		err := p.write(ctx, batch)
		p.mu.Lock()
		if err != nil {
			p.writeErrors++
			if p.writeErr == nil {
				p.failedAt = time.Now()
				p.log.Error("redis write failed; buffering ticks until it is back", "err", err)
			}
			p.writeErr = err
			p.mu.Unlock()
			return err
		}
		if p.writeErr != nil {
			p.log.Info("redis writes recovered", "ticks_written", len(batch), "ticks_dropped", p.lost)
			p.writeErr, p.lost = nil, 0
		}
		// Remove what was written; the buffer may have lost its oldest
		// ticks to overflow meanwhile, so go by tick number.
		last := batch[len(batch)-1].num
		i := 0
		for i < len(p.buf) && p.buf[i].num <= last {
			p.buf[i] = pendingTick{}
			i++
		}
		p.buf = p.buf[i:]
		p.mu.Unlock()
	}
}

// write sends ticks in one MULTI/EXEC pipeline on the host's slot: every
// XADD, then the host record with the newest tick as last seen. When the
// record was missing (Redis lost its data), the name is added to HostsKey
// again afterwards.
func (p *Publisher) write(ctx context.Context, ticks []pendingTick) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	rec := p.rec
	rec.LastSeen = ticks[len(ticks)-1].ms
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode host record: %w", err)
	}
	pipe := p.rdb.TxPipeline()
	var adds []*redis.StringCmd
	for _, t := range ticks {
		// A topic may have several events in one tick (two alert
		// transitions): the first takes the topic's index, the rest
		// follow every topic's index in order. The ids stay a function of
		// the tick alone, so a retried write is still idempotent.
		extra := uint64(len(p.names))
		var used uint64 // topic bits already given an id in this tick
		for _, s := range t.samples {
			seq := p.topics[s.Topic]
			if used&(1<<seq) != 0 {
				seq, extra = extra, extra+1
			} else {
				used |= 1 << seq
			}
			adds = append(adds, pipe.XAdd(ctx, &redis.XAddArgs{
				Stream: p.key,
				MaxLen: p.maxLen,
				Approx: true,
				ID:     strconv.FormatInt(t.ms, 10) + "-" + strconv.FormatUint(seq, 10),
				Values: []string{fieldTopic, s.Topic, fieldData, string(s.Data)},
			}))
		}
	}
	existed := pipe.Exists(ctx, p.recKey)
	pipe.Set(ctx, p.recKey, data, 0)
	if _, err := pipe.Exec(ctx); err != nil {
		if err := p.skipStale(adds, len(ticks), err); err != nil {
			return err
		}
	}
	if existed.Err() == nil && existed.Val() == 0 {
		if err := p.rdb.SAdd(ctx, HostsKey, rec.Name).Err(); err != nil {
			return fmt.Errorf("list host %q in %s: %w", rec.Name, HostsKey, err)
		}
	}
	return nil
}

// skipStale decides a failed transaction: nil when its only failures were
// XADDs refused as "equal or smaller than the top item" (a retried tick
// that had reached Redis), else the error to retry on.
func (p *Publisher) skipStale(adds []*redis.StringCmd, ticks int, err error) error {
	var stale int
	for _, c := range adds {
		switch cerr := c.Err(); {
		case cerr == nil:
		case isStaleAdd(cerr):
			stale++
		default:
			return fmt.Errorf("write %s: %w", p.key, cerr)
		}
	}
	if stale == 0 {
		return fmt.Errorf("write %s: %w", p.key, err)
	}
	if stale < len(adds) || ticks > 1 || p.warnedStale {
		// A retried tick that had reached Redis: expected, not worth a log.
		return nil
	}
	p.warnedStale = true
	p.log.Warn("redis stream already holds newer events than this tick; skipped (clock went back, or another process publishes as this --name?)",
		"stream", p.key)
	return nil
}
