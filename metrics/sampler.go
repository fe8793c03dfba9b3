package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// SamplerOptions configures a [Sampler].
type SamplerOptions struct {
	Interval   time.Duration
	Collectors []Collector
	// Publish is called from the sampler goroutine, one call per tick, with
	// the readings in collector order; a collector that failed this tick is
	// left out (so readings may be empty). It must not block for long: the
	// next tick waits for it. It may keep readings. The first tick after
	// skipped ticks or a step of the wall clock carries that news in every
	// reading (see [Sampler.Run]).
	Publish func(t time.Time, readings []Reading)
	// Observe, if not nil, gets the duration of one full sample (all
	// collectors, not Publish), for a histogram.
	Observe func(d time.Duration)
	Logger  *slog.Logger // nil -> discard
	// Resumed is the stamp of the newest tick the history already holds
	// from an earlier run of this server (zero for a new history). The
	// first tick that publishes anything then carries "restart": the ms
	// since that tick, so every client, every reload and every rollup
	// draws the same "server restarted" band from the history alone.
	Resumed time.Time

	// wallSkew, when not nil, is added to the wall clock the sampler reads
	// (never to its timers or its monotonic clock): the tests step the
	// wall clock with it inside a synctest bubble.
	wallSkew func() time.Duration
}

// Sampler calls its collectors once per tick. See the package documentation
// for who owns what.
type Sampler struct {
	interval   time.Duration
	collectors []Collector
	publish    func(time.Time, []Reading)
	observe    func(time.Duration)
	log        *slog.Logger
	wallSkew   func() time.Duration
	resumed    time.Time

	running  atomic.Bool
	lastTick atomic.Int64  // unix ns of the last completed tick; 0 before the first
	skipped  atomic.Uint64 // ticks skipped since NewSampler
	steps    atomic.Uint64 // wall clock steps seen since NewSampler
}

// Fields a tick's readings carry, in every topic's payload, when the tick
// is the first after skipped ticks or after the wall clock stepped. They are
// part of the stored event, so a reload or /api/history sees them too.
const (
	// skippedField is how many ticks were not sampled just before this one
	// (the sampler was late by that many whole intervals).
	skippedField = "skipped"
	// clockStepField is, in ms and a whole number of intervals, how far the
	// ticks before this one move on the new wall clock: the earlier tick at
	// t sits at t + clock_step on it. Negative when the clock went back.
	clockStepField = "clock_step"
	// restartField is, in ms, how long before this tick the newest tick
	// of the server's previous run was stamped ([SamplerOptions.Resumed]):
	// the server was down for that time less one interval. Only the first
	// tick of a run that publishes anything carries it.
	restartField = "restart"
)

// NewSampler validates cfg and returns a Sampler ready to Run.
func NewSampler(cfg SamplerOptions) (*Sampler, error) {
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
		wallSkew:   cfg.wallSkew,
		resumed:    cfg.Resumed,
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

// SkippedTicks returns how many ticks were skipped because the sampler was
// late by a whole interval or more. Safe from any goroutine (/metrics).
func (s *Sampler) SkippedTicks() uint64 { return s.skipped.Load() }

// ClockSteps returns how many steps of the wall clock the sampler has
// re-aligned on. Safe from any goroutine (/metrics).
func (s *Sampler) ClockSteps() uint64 { return s.steps.Load() }

// clock reads the monotonic clock (to measure real time) and the wall clock
// (to stamp ticks) at one instant.
func (s *Sampler) clock() (mono, wall time.Time) {
	mono = time.Now()
	wall = mono.Round(0) // no monotonic reading: wall arithmetic only
	if s.wallSkew != nil {
		wall = wall.Add(s.wallSkew())
	}
	return mono, wall
}

// clockStepMin is the smallest difference between wall and monotonic time
// elapsed between two ticks that counts as a step of the wall clock. Below
// one interval the ticks keep their grid and every series stays contiguous,
// so only a step of an interval or more is news; NTP's slewing (at most
// 500 ppm) never comes close.
func (s *Sampler) clockStepMin() time.Duration { return s.interval }

// Run samples on wall-clock multiples of the interval until ctx is done and
// returns nil then. Ticks are scheduled from the previous scheduled time, so
// they never drift; when the process was late by a whole interval or more
// (a stall, a suspend, a slow Publish) the missed ticks are skipped, not
// fired in a burst, and the next tick is stamped with the latest multiple
// that has passed. That tick's readings carry "skipped": n, the skips are
// counted ([Sampler.SkippedTicks]) and logged at most once a minute.
//
// Between two ticks it compares how far the wall clock moved with how far
// the monotonic clock did: a difference of an interval or more is a step of
// the wall clock (NTP, a VM resume, date -s). The sampler then takes the
// next tick on the new clock's grid (the latest multiple that has passed)
// and marks it "clock_step": ms, the whole number of intervals that maps
// the earlier ticks onto the new clock. A step is logged as a warning.
//
// It returns an error without sampling if another Run of this Sampler is
// active.
func (s *Sampler) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("run sampler: already running")
	}
	defer s.running.Store(false)

	// failed holds the topics that failed at least once, so the first
	// failure of each is a warning and the rest are debug.
	failed := make(map[string]bool, len(s.collectors))
	errLog := newOnceLog(s.log)
	var skipLog skipLog

	mono, wall := s.clock()
	next := wall.Truncate(s.interval).Add(s.interval)
	// prev is the clock read when the last timer fired: a step is measured
	// over the whole time from one tick to the next, the tick's own work
	// included. prevTick is the last tick's stamp.
	prevMono, prevWall, prevTick := mono, wall, time.Time{}
	// One timer, re-armed each tick: a time.Ticker would keep its own
	// schedule from the moment it was made, not from wall-clock multiples,
	// and would queue a tick while we were busy.
	timer := time.NewTimer(next.Sub(wall))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}

		mono, wall = s.clock()
		var mark tickMark
		step := wall.Sub(prevWall) - mono.Sub(prevMono)
		switch {
		case step >= s.clockStepMin() || step <= -s.clockStepMin():
			// Re-align on the new clock: waiting for the old schedule after
			// a step back would stall the sampler for as long as the step.
			next = wall.Truncate(s.interval)
			if !prevTick.IsZero() {
				// The earlier ticks, moved onto the new clock: as many whole
				// intervals before this tick as really passed (at least one).
				ticks := max(1, (mono.Sub(prevMono)+s.interval/2)/s.interval)
				mark.clockStep = next.Sub(prevTick) - ticks*s.interval
			}
			s.steps.Add(1)
			s.log.Warn("wall clock stepped; sampling on the new clock", "step", step, "next", next)
		case wall.Sub(next) >= s.interval:
			late := wall.Sub(next)
			skipped := late / s.interval
			next = next.Add(skipped * s.interval)
			mark.skipped = int64(skipped)
			s.skipped.Add(uint64(skipped))
			skipLog.note(s.log, mono, int64(skipped), late)
		}
		prevMono, prevWall, prevTick = mono, wall, next
		if !s.resumed.IsZero() {
			mark.restart = max(next.Sub(s.resumed), 0)
		}
		if s.tick(next, mark, failed, errLog) {
			s.resumed = time.Time{}
		}

		next = next.Add(s.interval)
		_, wall = s.clock()
		// A step back during the tick would make this wait as long as the
		// step; wait one interval at most and let the next round see the
		// step. A step forward gives a negative wait: the timer fires now.
		timer.Reset(min(next.Sub(wall), s.interval))
	}
}

// tickMark is what a tick tells beside its readings: how many ticks before
// it were skipped, and how far the wall clock stepped.
type tickMark struct {
	skipped   int64
	clockStep time.Duration
	restart   time.Duration // since the previous run's newest tick; 0: not the first
}

// apply adds the mark's fields to one reading's JSON object.
func (m tickMark) apply(data []byte) []byte {
	if m == (tickMark{}) || len(data) < 2 || data[0] != '{' {
		return data
	}
	var b []byte
	b = append(b, '{')
	if m.skipped > 0 {
		b = fmt.Appendf(b, "%q:%d,", skippedField, m.skipped)
	}
	if m.clockStep != 0 {
		b = fmt.Appendf(b, "%q:%d,", clockStepField, m.clockStep.Milliseconds())
	}
	if m.restart != 0 {
		b = fmt.Appendf(b, "%q:%d,", restartField, m.restart.Milliseconds())
	}
	if data[1] == '}' { // an empty object: no comma after the last field
		b = b[:len(b)-1]
	}
	return append(b, data[1:]...)
}

// skipLog logs skipped ticks at most once per skipLogEvery, with the count
// since the last line, so a sampler that is late on every tick of a busy
// machine writes one line a minute, not one a tick.
type skipLog struct {
	last   time.Time // monotonic; zero before the first line
	unsaid int64     // skips not logged yet
}

const skipLogEvery = time.Minute

func (l *skipLog) note(log *slog.Logger, now time.Time, skipped int64, late time.Duration) {
	l.unsaid += skipped
	if !l.last.IsZero() && now.Sub(l.last) < skipLogEvery {
		return
	}
	log.Warn("sampler late: skipped ticks", "skipped", l.unsaid, "late", late)
	l.last, l.unsaid = now, 0
}

// tick runs every collector once for time t and publishes the readings,
// each marked with mark. It reports whether any reading was published.
func (s *Sampler) tick(t time.Time, mark tickMark, failed map[string]bool, errLog *onceLog) bool {
	start := time.Now()
	readings := make([]Reading, 0, len(s.collectors))
	for _, c := range s.collectors {
		topic := c.Topic()
		data, err := c.Collect(t)
		if err != nil {
			s.logCollectError(topic, err, failed, errLog)
			continue
		}
		readings = append(readings, Reading{Topic: topic, Data: mark.apply(data)})
	}
	if s.observe != nil {
		s.observe(time.Since(start))
	}
	s.publish(t, readings)
	s.lastTick.Store(t.UnixNano())
	return len(readings) > 0
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
