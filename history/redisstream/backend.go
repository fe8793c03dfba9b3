package redisstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/history"
	"vitals/hostinfo"
)

// Options configures Open.
type Options struct {
	// Client is the connection to Redis: a *redis.Client for one server,
	// a *redis.ClusterClient for a Redis Cluster (every key of one host
	// shares a slot, see HostsKey). The Backend owns it from Open on and
	// closes it at Close, or when Open fails.
	Client redis.UniversalClient
	// Host is this machine, published under Host.Hostname; its Interval
	// and Retention are this process's sampling interval and history, and
	// the retention is also how much of a host without a record of it a
	// reader keeps.
	Host hostinfo.Info
	// Topics is what this host publishes, in display order; its record
	// names them, so a stream's hello lists what that host can provide.
	Topics []string
	// AllTopics is every topic any host may publish, in display order:
	// each feed's window knows them all, whichever host it reads. Empty
	// means Topics.
	AllTopics []string
	// Redact: see history.WindowOptions.Redact.
	Redact map[string]func(data []byte) ([]byte, error)
	// OptIn: see history.WindowOptions.OptIn (the minute rollups).
	OptIn []string
	// MaxBytes caps the history kept in memory per host being read.
	MaxBytes int64
	// Buffer is how long ticks are held while Redis can't be written.
	Buffer time.Duration
	// Tiers is the retention of the rollup tiers in Redis (TierStore).
	Tiers  TierOptions
	Logger *slog.Logger
}

// Backend is one process's side of Redis: a Publisher for this machine's
// ticks and a Hub that serves every host's history, over one connection
// pool it owns.
type Backend struct {
	client redis.UniversalClient
	pub    *Publisher
	hub    *Hub
	self   string
	topics []string
	tiers  TierOptions
	own    *TierStore // this machine's, kept so its byte-cap checks stay hourly
}

// connectTimeout bounds the start-up check: a wrong host should fail the
// start promptly, yet a Redis on the far side of a slow link must still
// get through.
const connectTimeout = 5 * time.Second

// Open connects, checks the address and password with a PING (so a wrong
// one stops the start with one clear line), announces o.Host and starts
// the publisher.
func Open(ctx context.Context, o Options) (*Backend, error) {
	h := o.Host
	if o.Client == nil || h.Hostname == "" || h.Interval <= 0 || h.Retention <= 0 {
		if o.Client != nil {
			o.Client.Close()
		}
		return nil, errors.New("redisstream: Client, Host.Hostname, Host.Interval and Host.Retention are required")
	}
	client := o.Client
	rec, err := newRecord(h, o.Topics)
	if err != nil {
		client.Close()
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	// MaxLen: one entry per topic per tick for the retention. "~" lets
	// Redis trim whole nodes, so it keeps a little more, never less.
	ticks := int64(h.Retention / h.Interval)
	pub, err := NewPublisher(pctx, PublisherOptions{
		Client: client,
		Record: rec,
		Topics: o.Topics,
		MaxLen: max(ticks, 1) * int64(len(o.Topics)),
		Buffer: max(int(o.Buffer/h.Interval), 1),
		Logger: o.Logger,
	})
	if err != nil {
		client.Close()
		return nil, err
	}
	all := o.AllTopics
	if len(all) == 0 {
		all = o.Topics
	}
	hub, err := NewHub(HubOptions{
		Client: client, Topics: all, Retention: h.Retention, MaxBytes: o.MaxBytes, Logger: o.Logger, Redact: o.Redact,
		OptIn: o.OptIn,
	})
	if err != nil {
		pub.Close()
		client.Close()
		return nil, err
	}
	return &Backend{client: client, pub: pub, hub: hub, self: h.Hostname, topics: all, tiers: o.Tiers,
		own: NewTierStore(client, h.Hostname, o.Tiers)}, nil
}

// newRecord is h's record. Interval and retention are kept beside the
// description (the hub reads the retention), so the description leaves
// them out.
func newRecord(h hostinfo.Info, topics []string) (HostRecord, error) {
	rec := HostRecord{Name: h.Hostname, IntervalMS: h.Interval.Milliseconds(), RetentionMS: h.Retention.Milliseconds(), Topics: topics}
	h.Interval, h.Retention = 0, 0
	info, err := json.Marshal(h.Desc())
	if err != nil {
		return HostRecord{}, fmt.Errorf("encode host info: %w", err)
	}
	rec.Info = info
	return rec, nil
}

// Host is the host rec describes.
func (rec HostRecord) Host() hostinfo.Info {
	var d hostinfo.Desc
	json.Unmarshal(rec.Info, &d) // an unreadable description still names its host
	d.IntervalMS, d.RetentionMS = rec.IntervalMS, rec.RetentionMS
	return d.Info(rec.Name)
}

// Publish hands one tick to the publisher; it never blocks on Redis, and
// trouble is reported by Degraded.
func (b *Backend) Publish(t time.Time, samples []history.Sample) { b.pub.Publish(t, samples) }

// Source returns host's history and description; "" is this machine.
// See Hub.Source for the errors.
func (b *Backend) Source(ctx context.Context, host string) (history.Source, hostinfo.Info, error) {
	if host == "" {
		host = b.self
	}
	f, rec, err := b.hub.Source(ctx, host)
	if err != nil {
		return nil, hostinfo.Info{}, err
	}
	return f, rec.Host(), nil
}

// Hosts lists every host that publishes to this Redis.
func (b *Backend) Hosts(ctx context.Context) ([]hostinfo.Status, error) {
	recs, err := b.hub.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]hostinfo.Status, len(recs))
	for i, rec := range recs {
		info := rec.Host()
		last := time.UnixMilli(rec.LastSeen)
		out[i] = hostinfo.Status{Info: info, LastSeen: last, Self: rec.Name == b.self,
			Live: hostinfo.IsLive(last, info.Interval, now)}
	}
	return out, nil
}

// TierStore is host's rollup tiers in this Redis ("" is this machine):
// the store this process's roller writes its own host's minutes and hours
// to (always the same one), and the one a range query reads any host's
// from. It shares the backend's connection pool: stop using it before
// Close.
func (b *Backend) TierStore(host string) *TierStore {
	if host == "" || host == b.self {
		return b.own
	}
	return NewTierStore(b.client, host, b.tiers)
}

// replayBatch is one XRANGE page of Replay: a few seconds of ticks.
const replayBatch = 1000

// Replay calls tick with each of this machine's ticks stored in Redis
// whose time is after (unix ms), oldest first, every event of one tick
// together: what a roller's Restore replays to rebuild the minute and
// hour in progress after a restart. Payloads are as published (not
// redacted); samples is valid only during the call.
func (b *Backend) Replay(ctx context.Context, after int64, tick func(t time.Time, samples []history.Sample)) error {
	key := StreamKey(b.self)
	start := strconv.FormatInt(max(after+1, 0), 10)
	var samples []history.Sample
	var at uint64
	for {
		msgs, err := b.client.XRangeN(ctx, key, start, "+", replayBatch).Result()
		if err != nil {
			return fmt.Errorf("read %s: %w", key, err)
		}
		for _, m := range msgs {
			ms, _, ok := parseStreamID(m.ID)
			topic, _ := m.Values[fieldTopic].(string)
			data, _ := m.Values[fieldData].(string)
			if !ok || topic == "" {
				continue // not an entry vitals wrote
			}
			if ms != at && len(samples) > 0 {
				tick(time.UnixMilli(int64(at)), samples)
				samples = samples[:0]
			}
			at = ms
			samples = append(samples, history.Sample{Topic: topic, Data: []byte(data)})
		}
		if len(msgs) < replayBatch {
			break
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
	if len(samples) > 0 {
		tick(time.UnixMilli(int64(at)), samples)
	}
	return nil
}

// Topics is every topic a host may publish, in display order.
func (b *Backend) Topics() []string { return b.topics }

// Client is the backend's connection pool, for a neighbour that keeps a
// few keys of its own in the same Redis (the fleet's offline-alert lease).
// The backend owns it: stop using it before Close.
func (b *Backend) Client() redis.UniversalClient { return b.client }

// Degraded reports Redis trouble the backend works around: writes
// buffered, or a reader waiting for Redis.
func (b *Backend) Degraded() error {
	if err := b.pub.Err(); err != nil {
		return err
	}
	return b.hub.Err()
}

// Failing is nil: while Redis is away the backend works around it, and
// Degraded says so.
func (b *Backend) Failing() error { return nil }

// Stats are the publisher's figures, for /metrics.
func (b *Backend) Stats() PublisherStats { return b.pub.Stats() }

// Following is how many hosts this process is reading, for /metrics.
func (b *Backend) Following() int { return b.hub.Following() }

// Shutdown ends every stream (with a short retry) and stops the readers.
func (b *Backend) Shutdown() { b.hub.Close() }

// Close stops the readers and, after one bounded attempt to write what is
// buffered, the publisher; then the connection pool.
func (b *Backend) Close() error {
	b.hub.Close()
	b.pub.Close()
	if err := b.client.Close(); err != nil {
		return fmt.Errorf("close redis: %w", err)
	}
	return nil
}
