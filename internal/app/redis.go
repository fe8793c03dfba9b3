package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/history"
	"vitals/history/redisstream"
	"vitals/hostinfo"
)

// redisHistory is the --redis backend of one process: a Publisher for this
// machine's ticks and a Hub that serves every host's history. It is the
// --redis backend.
type redisHistory struct {
	client   *redis.Client
	pub      *redisstream.Publisher
	hub      *redisstream.Hub
	self     string
	interval time.Duration
	topics   []string
	started  []any
}

// redisConnectTimeout bounds the start-up check: a wrong host should fail
// the start promptly, yet a Redis on the far side of a slow link must
// still get through.
const redisConnectTimeout = 5 * time.Second

// openRedisHistory connects, checks the URL and password with a PING (a
// wrong one stops the start with one clear line), announces this host and
// starts the publisher.
func openRedisHistory(ctx context.Context, cfg Config, host hostinfo.Info, topics []string, log *slog.Logger) (*redisHistory, error) {
	opts, err := redis.ParseURL(cfg.Redis)
	if err != nil {
		return nil, fmt.Errorf("--redis: %v", redactURL(err.Error(), cfg.Redis))
	}
	opts.DialTimeout = redisConnectTimeout
	// go-redis logs pool trouble through a process-wide logger (like gin's
	// mode switch, only main may set it). Our own warnings say the same
	// once, so its lines go to debug.
	redis.SetLogger(slogPrintf{log})
	client := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, redisConnectTimeout)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("connect to --redis %s (db %d): %v", opts.Addr, opts.DB, redactURL(err.Error(), cfg.Redis))
	}
	// The record keeps interval and retention beside the description.
	host.Interval, host.Retention = 0, 0
	info, err := json.Marshal(host.Desc())
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("encode host info: %w", err)
	}
	// MAXLEN: one entry per topic per tick for the --history window. "~"
	// lets Redis trim whole nodes, so it keeps a little more, never less.
	ticks := int64(cfg.History / cfg.Interval)
	pub, err := redisstream.NewPublisher(pctx, redisstream.PublisherOptions{
		Client: client,
		Record: redisstream.HostRecord{Name: host.Hostname, Info: info,
			IntervalMS: cfg.Interval.Milliseconds(), RetentionMS: cfg.History.Milliseconds()},
		Topics: topics,
		MaxLen: max(ticks, 1) * int64(len(topics)),
		Buffer: max(int(cfg.RedisBuffer/cfg.Interval), 1),
		Logger: log,
	})
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("--redis %s: %v", opts.Addr, redactURL(err.Error(), cfg.Redis))
	}
	hub, err := redisstream.NewHub(redisstream.HubOptions{
		Client: client, Topics: topics, Retention: cfg.History, MaxBytes: cfg.HistoryBytes, Logger: log,
	})
	if err != nil {
		pub.Close()
		client.Close()
		return nil, err
	}
	return &redisHistory{client: client, pub: pub, hub: hub, self: host.Hostname, interval: cfg.Interval, topics: topics,
		started: []any{"redis", redactURL(cfg.Redis, cfg.Redis), "name", host.Hostname,
			"interval", cfg.Interval.String(), "history", cfg.History.String()}}, nil
}

func (r *redisHistory) Publish(t time.Time, samples []history.Sample) { r.pub.Publish(t, samples) }

func (r *redisHistory) Source(ctx context.Context, host string) (history.Source, hostinfo.Info, error) {
	if host == "" {
		host = r.self
	}
	f, rec, err := r.hub.Source(ctx, host)
	if err != nil {
		return nil, hostinfo.Info{}, err
	}
	return f, hostInfo(rec), nil
}

func (r *redisHistory) Hosts(ctx context.Context) ([]hostinfo.Status, error) {
	recs, err := r.hub.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]hostinfo.Status, len(recs))
	for i, rec := range recs {
		info := hostInfo(rec)
		last := time.UnixMilli(rec.LastSeen)
		out[i] = hostinfo.Status{Info: info, LastSeen: last, Self: rec.Name == r.self,
			Live: hostinfo.IsLive(last, info.Interval, now)}
	}
	return out, nil
}

func (r *redisHistory) Topics() []string { return r.topics }

// Degraded reports Redis trouble the process works around: writes
// buffered, or a reader waiting for Redis.
func (r *redisHistory) Degraded() error {
	if err := r.pub.Err(); err != nil {
		return err
	}
	return r.hub.Err()
}

// Failing is nil: while Redis is away the process works around it, and
// Degraded says so.
func (r *redisHistory) Failing() error { return nil }

func (r *redisHistory) startAttrs() []any { return r.started }

// Shutdown ends every stream (with a short retry) and stops the readers.
func (r *redisHistory) Shutdown() { r.hub.Close() }

// Close stops the readers and, after one bounded attempt to write what is
// buffered, the publisher; then the connection pool.
func (r *redisHistory) Close() error {
	r.hub.Close()
	r.pub.Close()
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("close redis: %w", err)
	}
	return nil
}

func hostInfo(rec redisstream.HostRecord) hostinfo.Info {
	var d hostinfo.Desc
	json.Unmarshal(rec.Info, &d) // an unreadable record still names its host
	d.IntervalMS, d.RetentionMS = rec.IntervalMS, rec.RetentionMS
	return d.Info(rec.Name)
}

// redactURL removes the password of raw from msg, in case a library quotes
// the URL back.
func redactURL(msg, raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		if at := strings.LastIndex(raw, "@"); at > i {
			userinfo := raw[i+3 : at]
			if _, pw, ok := strings.Cut(userinfo, ":"); ok && pw != "" {
				msg = strings.ReplaceAll(msg, pw, "xxxxx")
			}
		}
	}
	return msg
}

// slogPrintf adapts slog to go-redis's Printf-style logger.
type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}
