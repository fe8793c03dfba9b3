package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"vitals/handlers"
	"vitals/history"
	"vitals/history/redisstream"
	"vitals/history/tier"
)

// rollups is the long history on the bbolt backend: the tier store in the
// history file and the roller that feeds it from each published tick.
type rollups struct {
	store *tier.BoltStore

	mu     sync.Mutex // serialises ticks (the sampler's and the watchdog's); guards following fields
	roller *tier.Roller
	buf    []tier.Sample
}

// openRollups opens the tiers in broker's file and rebuilds the minute and
// hour in progress from the raw window, publishing the rollup of any
// minute the previous run completed but never wrote (a kill -9).
func openRollups(cfg Tiers, broker *history.Broker, log *slog.Logger) (*rollups, error) {
	store, err := tier.OpenBolt(broker.DB(), cfg.keep())
	if err != nil {
		return nil, err
	}
	r := &rollups{store: store, roller: tier.NewRoller(tier.RollerOptions{Store: store, Logger: log})}
	page, err := broker.Range("", nil, 0) // every raw tick retained (rollups are opt-in, so not these)
	if err != nil {
		return nil, fmt.Errorf("read the raw history to rebuild the tiers: %w", err)
	}
	done, err := r.roller.Restore(broker.Topics(), func(after int64, tick func(time.Time, []tier.Sample)) error {
		var samples []tier.Sample
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
			samples = append(samples, tier.Sample{Topic: e.Topic, Data: e.Data})
		}
		if len(samples) > 0 {
			tick(time.UnixMilli(at), samples)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range done {
		broker.Publish(time.Now(), []history.Sample{{Topic: tier.Topic, Data: p}})
	}
	return r, nil
}

// tick rolls up one tick and returns it with the minute's rollup event
// added when the tick completed a minute.
func (r *rollups) tick(t time.Time, samples []history.Sample) []history.Sample {
	r.buf = r.buf[:0]
	for _, s := range samples {
		r.buf = append(r.buf, tier.Sample{Topic: s.Topic, Data: s.Data})
	}
	if p := r.roller.Tick(t, r.buf); p != nil {
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
	case *redisstream.Backend:
		return tierStoresFunc(func(_ context.Context, host string) (tier.Store, error) { return b.TierStore(host), nil })
	}
	return nil
}

// tierStoresFunc is a function as a handlers.TierStores.
type tierStoresFunc func(ctx context.Context, host string) (tier.Store, error)

func (f tierStoresFunc) TierStore(ctx context.Context, host string) (tier.Store, error) {
	return f(ctx, host)
}
