package tier

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"vitals/history"
)

// Topic is the event-log topic that carries each completed minute, so a
// long-range chart stays live and resumes with Last-Event-ID like any other
// topic. It is opt-in: a stream gets it only when it names it.
const Topic = "rollup"

// maxPending bounds the points kept for a store that refuses writes (a
// full disk): a day of minutes and hours, after which the oldest are
// dropped and logged, so a dead disk can't grow memory without end.
const maxPending = 24 * 60 * 16

// Sample is one topic's payload of one tick, as the app publishes it: the
// history's own type, so a tick goes to the roller as it was published.
type Sample = history.Sample

// RollerOptions configures a Roller.
type RollerOptions struct {
	Store  Store        // where completed minutes and hours go (required)
	Logger *slog.Logger // default: discard
}

// Roller turns ticks into minute and hour points as they are published,
// from memory: it holds the minute and the hour in progress, and never
// reads the store to roll up (only [Roller.Restore] reads it, once, at
// start). A Roller is not safe for concurrent use: its one caller is the
// sampler's publish function (and, before the sampler starts, Restore).
//
// A tick belongs to the bucket its wall time falls in. When the wall clock
// steps back into a minute that is already complete, the roller does not
// reopen it: the ticks count in the minute in progress (whose point then
// holds the clock_step mark and more ticks than a minute has) until the
// clock reaches the next minute again. So every bucket is written once,
// points and rollup events go out in time order, and no sample is lost.
type Roller struct {
	store   Store
	log     *slog.Logger
	flat    Flattener
	minute  bucket
	hour    bucket
	pending []Point // completed points the store has not taken yet
}

// bucket is one step's in-progress rollup of every topic.
type bucket struct {
	start  int64 // unix ms; 0: none open
	step   time.Duration
	topics map[string]*acc
}

type acc struct {
	count  uint32
	fields map[string]*Stat
	marks  []Mark
}

// NewRoller returns a roller with nothing in progress.
func NewRoller(o RollerOptions) *Roller {
	r := &Roller{store: o.Store, log: o.Logger,
		minute: bucket{step: Minute, topics: map[string]*acc{}},
		hour:   bucket{step: Hour, topics: map[string]*acc{}}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r
}

// Tick rolls up one tick's samples, stamped t. When t is past the minute
// in progress, that minute is complete: its points (and the hour's, when
// the hour is complete too) are written to the store, and Tick returns the
// minute's "rollup" event payload (see [RollupPayload]) for the caller to
// publish with the tick; otherwise it returns nil. A store failure is
// logged and the points are written again with the next ones.
func (r *Roller) Tick(t time.Time, samples []Sample) []byte {
	if minutes := r.TickWeighted(t, samples, 1); len(minutes) > 0 {
		return RollupPayload(minutes[0].T, minutes)
	}
	return nil
}

// TickWeighted is Tick with the tick counted as weight ticks of the same
// values: a simulated fill feeds one tick in weight (say every 20 s at a
// 1 s interval) and the points still hold the counts a real run gives.
// It returns the points of the minute the tick completed, if any.
func (r *Roller) TickWeighted(t time.Time, samples []Sample, weight uint32) []Point {
	ms := t.UnixMilli()
	var done []Point
	if start := floor(ms, Minute); r.minute.start != 0 && start > r.minute.start {
		done = r.complete(start)
	}
	if r.minute.start == 0 {
		r.minute.start = floor(ms, Minute)
	}
	for _, s := range samples {
		r.add(ms, s, weight)
	}
	if done == nil {
		return nil
	}
	r.write(done)
	var minutes []Point
	for _, p := range done {
		if p.Step == Minute {
			minutes = append(minutes, p)
		}
	}
	return minutes
}

func floor(ms int64, step time.Duration) int64 {
	s := step.Milliseconds()
	return ms - ((ms%s)+s)%s
}

// add counts one sample in the minute in progress.
func (r *Roller) add(ms int64, s Sample, weight uint32) {
	if !Rolls(s.Topic) {
		return
	}
	a := r.minute.topics[s.Topic]
	if a == nil {
		a = &acc{fields: map[string]*Stat{}}
		r.minute.topics[s.Topic] = a
	}
	err := r.flat.Flatten(s.Data, func(path []byte, v float64) {
		st := a.fields[string(path)]
		if st == nil {
			st = &Stat{}
			a.fields[string(path)] = st
		}
		st.addN(v, weight)
	}, func(kind string, v int64) {
		a.marks = append(a.marks, Mark{T: ms, Kind: kind, Value: v})
	})
	if err != nil {
		// The collectors write these payloads: a bad one is a bug. The
		// fields read before the error stay counted (their n), the tick
		// is not (the count): the point stays consistent, only smaller.
		r.log.Warn("tier: payload not rolled up", "topic", s.Topic, "err", err)
		return
	}
	a.count += weight
}

// complete closes the minute in progress (the next one starts at next),
// merges it into the hour, and closes the hour too when next is in a
// later one. It returns the completed points, minutes first.
func (r *Roller) complete(next int64) []Point {
	minutes := r.minute.points()
	r.minute.start = 0
	clear(r.minute.topics)
	var out []Point
	out = append(out, minutes...)
	if len(minutes) > 0 {
		h := floor(minutes[0].T, Hour)
		if r.hour.start != 0 && h != r.hour.start {
			out = append(out, r.hour.points()...)
			r.hour.start = 0
			clear(r.hour.topics)
		}
		if r.hour.start == 0 {
			r.hour.start = h
		}
		for _, p := range minutes {
			r.hour.merge(p)
		}
	}
	if r.hour.start != 0 && floor(next, Hour) > r.hour.start {
		out = append(out, r.hour.points()...)
		r.hour.start = 0
		clear(r.hour.topics)
	}
	return out
}

// merge folds a completed point of a shorter step into b.
func (b *bucket) merge(p Point) {
	a := b.topics[p.Topic]
	if a == nil {
		a = &acc{fields: make(map[string]*Stat, len(p.Fields))}
		b.topics[p.Topic] = a
	}
	a.count += p.Count
	for k, s := range p.Fields {
		st := a.fields[k]
		if st == nil {
			st = &Stat{}
			a.fields[k] = st
		}
		st.Merge(s)
	}
	a.marks = append(a.marks, p.Marks...)
}

// points are b's topics as Points, sorted by topic; none for a topic
// with no tick (a gap).
func (b *bucket) points() []Point {
	if b.start == 0 {
		return nil
	}
	out := make([]Point, 0, len(b.topics))
	for _, topic := range slices.Sorted(maps.Keys(b.topics)) {
		a := b.topics[topic]
		if a.count == 0 {
			continue
		}
		p := Point{Topic: topic, T: b.start, Step: b.step, Count: a.count, Fields: make(map[string]Stat, len(a.fields))}
		for k, s := range a.fields {
			p.Fields[k] = *s
		}
		if len(a.marks) > 0 {
			p.Marks = slices.Clone(a.marks)
		}
		out = append(out, p)
	}
	return out
}

// Flush completes the minute and the hour in progress as they are and
// writes them, and the store too if it is a [Batch]: the end of a
// simulated fill. A live server never calls it (its partial minute is
// rebuilt from the raw window at the next start).
func (r *Roller) Flush() error {
	if r.minute.start != 0 {
		r.write(r.complete(r.minute.start + Hour.Milliseconds()))
	} else if r.hour.start != 0 {
		r.write(r.complete(r.hour.start + Hour.Milliseconds()))
	}
	if b, ok := r.store.(*Batch); ok {
		return b.Flush()
	}
	return nil
}

// write hands points (and any the store refused before) to the store.
func (r *Roller) write(points []Point) {
	r.pending = append(r.pending, points...)
	if err := r.store.Write(r.pending); err != nil {
		if n := len(r.pending) - maxPending; n > 0 {
			r.log.Error("tier: store still refusing writes; dropping the oldest rollup points", "dropped", n, "err", err)
			r.pending = slices.Delete(r.pending, 0, n)
		} else {
			r.log.Error("tier: rollup write failed; retrying with the next minute", "err", err)
		}
		return
	}
	r.pending = r.pending[:0]
}

// Restore rebuilds the minute and hour in progress after a start, so a
// restart (even kill -9) loses nothing from the tiers: the hour begins as
// the stored minutes of hour (the hour of the newest stored minute, or of
// the first replayed tick), and replay feeds the raw ticks newer than the
// newest stored minute through Tick. It returns the rollup payloads that
// replay completed (minutes the previous run never wrote), oldest first,
// for the caller to publish. Call it once, before the first Tick.
//
// replay is called with the unix ms after which ticks are wanted, and
// calls tick with each raw tick's time and samples, oldest first.
func (r *Roller) Restore(topics []string, replay func(after int64, tick func(t time.Time, samples []Sample)) error) ([][]byte, error) {
	newest, err := r.newestMinute(topics)
	if err != nil {
		return nil, err
	}
	after := int64(-1 << 63)
	if newest >= 0 {
		after = newest + Minute.Milliseconds() - 1
		if err := r.loadHour(topics, floor(newest, Hour), newest); err != nil {
			return nil, err
		}
	}
	var rollups [][]byte
	err = replay(after, func(t time.Time, samples []Sample) {
		if p := r.Tick(t, samples); p != nil {
			rollups = append(rollups, p)
		}
	})
	if err != nil {
		return rollups, fmt.Errorf("replay raw history into the tiers: %w", err)
	}
	return rollups, nil
}

// Newester is a Store that can say its newest point of a topic at a step
// (the T of it; false when it holds none), which Restore needs to know
// where the raw ticks it must replay begin. Both backends implement it.
type Newester interface {
	Newest(step time.Duration, topic string) (t int64, found bool, err error)
}

// newestMinute is the newest stored minute's T over topics, -1 if none.
func (r *Roller) newestMinute(topics []string) (int64, error) {
	n, ok := r.store.(Newester)
	if !ok {
		return -1, fmt.Errorf("tier: the store (%T) can't say its newest point", r.store)
	}
	newest := int64(-1)
	for _, topic := range topics {
		t, found, err := n.Newest(Minute, topic)
		if err != nil {
			return -1, err
		}
		if found {
			newest = max(newest, t)
		}
	}
	return newest, nil
}

// loadHour starts the hour in progress from its stored minutes up to and
// including through.
func (r *Roller) loadHour(topics []string, hour, through int64) error {
	r.hour.start = hour
	for _, topic := range topics {
		err := r.store.Points(Minute, topic, time.UnixMilli(hour), time.UnixMilli(through+1), func(p Point) bool {
			r.hour.merge(p)
			return true
		})
		if err != nil {
			return fmt.Errorf("read this hour's minutes: %w", err)
		}
	}
	return nil
}

// RollupPayload encodes the "rollup" event for the minute starting at t
// (unix ms) from its points (one per topic):
//
//	{"t":<ms>,"step":60000,"points":{"cpu":{"count":60,
//	  "fields":{"total":[min,max,sum,n],...},"marks":[{"t":..,"kind":..,"value":..}]},...}}
//
// "marks" is absent when a topic's minute has none.
func RollupPayload(t int64, points []Point) []byte {
	type wirePoint struct {
		Count  uint32                `json:"count"`
		Fields map[string][4]float64 `json:"fields"`
		Marks  []Mark                `json:"marks,omitempty"`
	}
	type wire struct {
		T      int64                `json:"t"`
		Step   int64                `json:"step"`
		Points map[string]wirePoint `json:"points"`
	}
	w := wire{T: t, Step: Minute.Milliseconds(), Points: make(map[string]wirePoint, len(points))}
	for _, p := range points {
		wp := wirePoint{Count: p.Count, Fields: make(map[string][4]float64, len(p.Fields)), Marks: p.Marks}
		for k, s := range p.Fields {
			wp.Fields[k] = [4]float64{s.Min, s.Max, s.Sum, float64(s.N)}
		}
		w.Points[p.Topic] = wp
	}
	b, err := json.Marshal(w)
	if err != nil {
		// Only NaN or Inf could fail, and Flatten never yields them.
		panic(fmt.Sprintf("tier: encode rollup: %v", err))
	}
	return b
}
