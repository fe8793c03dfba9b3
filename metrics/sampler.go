package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// SamplerConfig configures a [Sampler].
type SamplerConfig struct {
	Interval   time.Duration
	Collectors []Collector
	// Publish is called from the sampler goroutine, one call per tick, with
	// the readings in collector order; a collector that failed this tick is
	// left out (so readings may be empty). It must not block for long: the
	// next tick waits for it. It may keep readings.
	Publish func(t time.Time, readings []Reading)
	// Observe, if not nil, gets the duration of one full sample (all
	// collectors, not Publish), for a histogram.
	Observe func(d time.Duration)
	Logger  *slog.Logger // nil -> discard
}

// Sampler calls its collectors once per tick. See the package documentation
// for who owns what.
type Sampler struct {
	interval   time.Duration
	collectors []Collector
	publish    func(time.Time, []Reading)
	observe    func(time.Duration)
	log        *slog.Logger

	running  atomic.Bool
	lastTick atomic.Int64 // unix ns of the last completed tick; 0 before the first
}

// NewSampler validates cfg and returns a Sampler ready to Run.
func NewSampler(cfg SamplerConfig) (*Sampler, error) {
	if cfg.Interval <= 0 {
		return nil, fmt.Errorf("new sampler: interval %v is not positive", cfg.Interval)
	}
	if cfg.Publish == nil {
		return nil, errors.New("new sampler: Publish is nil")
	}
	for i, c := range cfg.Collectors {
		if c == nil {
			return nil, fmt.Errorf("new sampler: collector %d is nil", i)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sampler{
		interval:   cfg.Interval,
		collectors: append([]Collector(nil), cfg.Collectors...),
		publish:    cfg.Publish,
		observe:    cfg.Observe,
		log:        log,
	}, nil
}

// LastTick returns the time of the last completed tick, zero before the
// first. It is safe to call from any goroutine (/healthz does).
func (s *Sampler) LastTick() time.Time {
	ns := s.lastTick.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Run samples on wall-clock multiples of the interval until ctx is done and
// returns nil then. Ticks are scheduled from the previous scheduled time, so
// they never drift; when the process was late by a whole interval or more
// (a stall, a suspend, a slow Publish) the missed ticks are skipped, not
// fired in a burst, and the next tick is stamped with the latest multiple
// that has passed. It returns an error without sampling if another Run of
// this Sampler is active.
func (s *Sampler) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("run sampler: already running")
	}
	defer s.running.Store(false)

	// failed holds the topics that failed at least once, so the first
	// failure of each is a warning and the rest are debug.
	failed := make(map[string]bool, len(s.collectors))
	errLog := newOnceLog(s.log)

	next := time.Now().Truncate(s.interval).Add(s.interval)
	// One timer, re-armed each tick: a time.Ticker would keep its own
	// schedule from the moment it was made, not from wall-clock multiples,
	// and would queue a tick while we were busy.
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}

		now := time.Now()
		if late := now.Sub(next); late >= s.interval {
			skipped := late / s.interval
			next = next.Add(skipped * s.interval)
			s.log.Debug("sampler skipped ticks", "skipped", int64(skipped), "late", late)
		}
		s.tick(next, failed, errLog)

		next = next.Add(s.interval)
		wait := time.Until(next)
		if wait > s.interval {
			// The wall clock was stepped back (NTP, a VM restore): waiting
			// for the old schedule would stall the sampler for as long as
			// the step. Re-align on the new clock.
			next = time.Now().Truncate(s.interval).Add(s.interval)
			wait = time.Until(next)
			s.log.Debug("sampler re-aligned after the clock went back", "next", next)
		}
		timer.Reset(wait)
	}
}

// tick runs every collector once for time t and publishes the readings.
func (s *Sampler) tick(t time.Time, failed map[string]bool, errLog *onceLog) {
	start := time.Now()
	readings := make([]Reading, 0, len(s.collectors))
	for _, c := range s.collectors {
		topic := c.Topic()
		data, err := c.Collect(t)
		if err != nil {
			s.logCollectError(topic, err, failed, errLog)
			continue
		}
		readings = append(readings, Reading{Topic: topic, Data: data})
	}
	if s.observe != nil {
		s.observe(time.Since(start))
	}
	s.publish(t, readings)
	s.lastTick.Store(t.UnixNano())
}

// logCollectError logs a failed Collect once per distinct error. The first
// failure of each topic is a warning: its chart on the dashboard goes blank,
// and an operator running at the usual info level should be able to find
// out why. It happens at most once per topic for the life of the process,
// so it cannot flood. Later distinct errors of the same topic are debug.
func (s *Sampler) logCollectError(topic string, err error, failed map[string]bool, errLog *onceLog) {
	level := slog.LevelDebug
	if !failed[topic] && !errors.Is(err, errNoBaseline) {
		failed[topic] = true
		level = slog.LevelWarn
	}
	errLog.logf(level, topic+"\x00"+err.Error(), "collect metrics; leaving the topic out of this tick",
		"topic", topic, "err", err)
}
