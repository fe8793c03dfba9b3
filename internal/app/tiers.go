package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"vitals/handlers"
	"vitals/history"
	"vitals/history/tier"
)

// rollups is the long history: the tier store (in the history file, or
// this host's streams in Redis) and the roller that feeds it from each
// published tick.
type rollups struct {
	store tier.Store

	mu     sync.Mutex // serialises ticks (the sampler's and the watchdog's); guards following fields
	roller *tier.Roller
}

// replayFunc calls tick with each raw tick of this host's log newer than
// after (unix ms), oldest first.
type replayFunc func(after int64, tick func(t time.Time, samples []history.Sample)) error

// openRollups starts rolling up into store and rebuilds the minute and
// hour in progress from the raw log (replay), publishing the rollup of
// any minute the previous run completed but never wrote (a kill -9).
func openRollups(store tier.Store, topics []string, replay replayFunc, publish func(time.Time, []history.Sample), log *slog.Logger) (*rollups, error) {
	r := &rollups{store: store, roller: tier.NewRoller(tier.RollerOptions{Store: store, Logger: log})}
	done, err := r.roller.Restore(topics, func(after int64, tick func(time.Time, []tier.Sample)) error {
		return replay(after, tick)
	})
	if err != nil {
		return nil, fmt.Errorf("rebuild the tiers from the raw history: %w", err)
	}
	for _, p := range done {
		publish(time.Now(), []history.Sample{{Topic: tier.Topic, Data: p}})
	}
	return r, nil
}

// brokerReplay replays the bbolt log's retained ticks (the rollups are
// opt-in, so not those).
func brokerReplay(broker *history.Broker) replayFunc {
	return func(after int64, tick func(time.Time, []history.Sample)) error {
		page, err := broker.Range("", nil, 0)
		if err != nil {
			return err
		}
		var samples []history.Sample
		var at int64
		for _, e := range page.Events {
			if e.T <= after {
				continue
			}
			if e.T != at && len(samples) > 0 {
				tick(time.UnixMilli(at), samples)
				samples = samples[:0]
			}
			at = e.T
			samples = append(samples, history.Sample{Topic: e.Topic, Data: e.Data})
		}
		if len(samples) > 0 {
			tick(time.UnixMilli(at), samples)
		}
		return nil
	}
}

// tick rolls up one tick and returns it with the minute's rollup event
// added when the tick completed a minute.
func (r *rollups) tick(t time.Time, samples []history.Sample) []history.Sample {
	if p := r.roller.Tick(t, samples); p != nil {
		samples = append(samples, history.Sample{Topic: tier.Topic, Data: p})
	}
	return samples
}

// rangeTiers is what the range API reads each host's rollups from: the
// history file's tiers (one host, which handlers has checked), or the Redis
// tier stores of any host in that Redis.
func rangeTiers(b backend) handlers.TierStores {
	switch b := b.(type) {
	case *brokerBackend:
		return tierStoresFunc(func(context.Context, string) (tier.Store, error) { return b.tiers.store, nil })
	case *redisBackend:
		return tierStoresFunc(func(_ context.Context, host string) (tier.Store, error) { return b.TierStore(host), nil })
	}
	return nil
}

// tierStoresFunc is a function as a handlers.TierStores.
type tierStoresFunc func(ctx context.Context, host string) (tier.Store, error)

func (f tierStoresFunc) TierStore(ctx context.Context, host string) (tier.Store, error) {
	return f(ctx, host)
}
