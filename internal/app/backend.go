package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"vitals/handlers"
	"vitals/history"
	"vitals/history/redisstream"
	"vitals/history/tier"
	"vitals/hostinfo"
	"vitals/internal/telemetry"
	"vitals/metrics/procs"
)

// backend is the event log the program runs on: the embedded bbolt broker,
// or with --redis a *redisstream.Backend (opened in redis.go).
// openBackend picks one; from then on Run uses only this interface.
//
// It is declared here, by its one consumer, rather than in history: only
// the wiring publishes, reports health and shuts down. The handlers see
// the read side alone, through their own handlers.Sources.
type backend interface {
	handlers.Sources
	// Publish hands one tick to the log. It never waits for a subscriber,
	// and a failure is the backend's to log and report through Failing or
	// Degraded: the sampler carries on either way.
	Publish(t time.Time, samples []history.Sample)
	// Failing is why the log can't keep history now (the bbolt file
	// refuses writes); /healthz then answers 503.
	Failing() error
	// Degraded names trouble the backend works around (Redis away: ticks
	// buffered, streams on heartbeat); /healthz answers 200 "degraded".
	Degraded() error
	// Shutdown ends every subscription, so streams tell their clients to
	// reconnect; Close then releases the storage. Both are safe to repeat.
	Shutdown()
	Close() error
}

// openBackend opens the backend cfg asks for, serving host as this
// server's own, and registers its figures with tel. The attributes describe
// it in the "started" log line.
func openBackend(ctx context.Context, cfg Config, host hostinfo.Info, topics []string, tel *telemetry.Telemetry, log *slog.Logger) (backend, []any, error) {
	if cfg.Redis != "" {
		rb, err := openRedis(ctx, cfg, host, logTopics(topics), log)
		if err != nil {
			return nil, nil, err
		}
		replay := func(after int64, tick func(time.Time, []history.Sample)) error {
			return rb.Replay(ctx, after, tick)
		}
		tiers, err := openRollups(rb.TierStore(""), rb.Topics(), replay, rb.Publish, log)
		if err != nil {
			rb.Close()
			return nil, nil, fmt.Errorf("--redis: %w", err)
		}
		tel.WatchRedis(rb.Stats, rb.Following)
		return &redisBackend{Backend: rb, tiers: tiers}, []any{"redis", redactURL(cfg.Redis, cfg.Redis), "name", host.Hostname,
			"interval", cfg.Interval.String(), "history", cfg.History.String()}, nil
	}
	if err := checkDataDir(cfg.DataDir); err != nil {
		return nil, nil, err
	}
	broker, err := history.Open(history.Options{
		Dir: cfg.DataDir,
		// The minute rollups are in the log too, so a long chart resumes
		// like any stream; only those who ask for them get them.
		Topics:            append(logTopics(topics), tier.Topic),
		OptIn:             []string{tier.Topic},
		Redact:            redactors(),
		Retention:         cfg.History,
		MaxBytes:          cfg.HistoryBytes,
		Logger:            log,
		ObserveStoreWrite: tel.ObserveStore,
	})
	if err != nil {
		return nil, nil, err
	}
	store, err := tier.OpenBolt(broker.DB(), cfg.Tiers.keep())
	if err != nil {
		broker.Close()
		return nil, nil, err
	}
	publish := func(t time.Time, s []history.Sample) { broker.Publish(t, s) }
	tiers, err := openRollups(store, broker.Topics(), brokerReplay(broker), publish, log)
	if err != nil {
		broker.Close()
		return nil, nil, err
	}
	tel.WatchBroker(broker.Stats)
	tel.WatchWhatsUsing(broker.Latest)
	return &brokerBackend{Sources: handlers.OneHost(broker, host, cfg.Interval), broker: broker, tiers: tiers},
		[]any{"data_dir", cfg.DataDir, "interval", cfg.Interval.String(),
			"history", cfg.History.String(), "epoch", broker.Epoch()}, nil
}

// redactors strip from each topic's payloads what the read-only token must
// not see: a process list's command lines and user names.
func redactors() map[string]func([]byte) ([]byte, error) {
	return map[string]func([]byte) ([]byte, error){procs.Topic: procs.Redact}
}

// brokerBackend is the bbolt broker as a backend: one host, this one.
type brokerBackend struct {
	handlers.Sources
	broker *history.Broker
	tiers  *rollups
}

// Publish rolls the tick up into the tiers, then publishes it (with the
// minute's rollup event when the tick completed a minute). It ignores the
// broker's error: store errors are logged by the broker and reported by
// Failing, and the tick still went out to viewers from memory.
func (b *brokerBackend) Publish(t time.Time, s []history.Sample) {
	b.tiers.mu.Lock()
	defer b.tiers.mu.Unlock()
	b.broker.Publish(t, b.tiers.tick(t, s))
}

// redisBackend is the Redis backend with this host's rollups, which go
// to its tier streams in the same Redis.
type redisBackend struct {
	*redisstream.Backend
	tiers *rollups
}

// Publish rolls the tick up, then hands it (with the minute's rollup event
// when the tick completed a minute) to the publisher, which never blocks.
// A completed minute is written to the tier streams here, within the
// tick: a Redis that is away fails that write fast (the roller keeps the
// points and writes them with the next minute).
func (b *redisBackend) Publish(t time.Time, s []history.Sample) {
	b.tiers.mu.Lock()
	defer b.tiers.mu.Unlock()
	b.Backend.Publish(t, b.tiers.tick(t, s))
}

func (b *brokerBackend) Failing() error  { return b.broker.Stats().LastBackendError }
func (b *brokerBackend) Degraded() error { return nil }
func (b *brokerBackend) Shutdown()       { b.broker.Shutdown() }
func (b *brokerBackend) Close() error    { return b.broker.Close() }

// outboxDB is the bbolt file the notification outbox shares, or nil when
// the backend has none (--redis; the outbox then gets a file of its own).
func outboxDB(b backend) *bbolt.DB {
	if bb, ok := b.(*brokerBackend); ok {
		return bb.broker.DB()
	}
	return nil
}

// logTopics are the topics of the event log: the metrics topics this host
// publishes, then the alert transitions and silences.
func logTopics(metricTopics []string) []string { return append(slices.Clone(metricTopics), alertTopic) }
