package tier

import (
	"math"
	"time"
)

// The tiers' steps: one point per topic per minute, and per hour.
const (
	Minute = time.Minute
	Hour   = time.Hour
)

// Stat is the rollup of one numeric field over a bucket: the smallest,
// largest and summed value of the N samples that carried the field. The
// zero Stat has no samples.
type Stat struct {
	Min, Max, Sum float64
	N             uint32
}

// Add counts one sample v.
func (s *Stat) Add(v float64) {
	if s.N == 0 || v < s.Min {
		s.Min = v
	}
	if s.N == 0 || v > s.Max {
		s.Max = v
	}
	s.Sum += v
	s.N++
}

// addN counts n samples of value v.
func (s *Stat) addN(v float64, n uint32) {
	if s.N == 0 || v < s.Min {
		s.Min = v
	}
	if s.N == 0 || v > s.Max {
		s.Max = v
	}
	s.Sum += v * float64(n)
	s.N += n
}

// Merge folds o into s: the rollup of both buckets' samples together.
func (s *Stat) Merge(o Stat) {
	if o.N == 0 {
		return
	}
	if s.N == 0 || o.Min < s.Min {
		s.Min = o.Min
	}
	if s.N == 0 || o.Max > s.Max {
		s.Max = o.Max
	}
	s.Sum += o.Sum
	s.N += o.N
}

// Mean is the arithmetic mean of the samples, NaN when there are none.
func (s Stat) Mean() float64 {
	if s.N == 0 {
		return math.NaN()
	}
	return s.Sum / float64(s.N)
}

// Mark is one of the server's marks on the ticks of a bucket (the sampler's
// "restart", "skipped" and "clock_step" fields, docs/events.md): the tick's
// time in unix ms, the mark's field name and its value as the tick gave it.
type Mark struct {
	T     int64  `json:"t"`
	Kind  string `json:"kind"`
	Value int64  `json:"value"`
}

// Point is one bucket of one topic.
//
// Fields are keyed by the field's path in the topic's JSON payload, with
// dots between levels: "total", "cores.0", "interfaces.eth0.rx_bps",
// "filesystems./.used" (an array of objects is keyed by the object's name
// field, such as a filesystem's "mount").
type Point struct {
	Topic  string
	T      int64         // start of the bucket, unix ms, a multiple of Step
	Step   time.Duration // Minute or Hour
	Count  uint32        // ticks the bucket was made from
	Fields map[string]Stat
	Marks  []Mark // in time order; nil when the bucket has none
}

// Store keeps one host's rollup points, for each step, until its retention
// or byte cap for that step drops them (oldest first). The bbolt history
// file and Redis Streams each implement it.
type Store interface {
	// Write stores completed buckets (every topic's point of one minute
	// or one hour) in one write. A point already stored for the same step,
	// topic and T is replaced, so writing a bucket again after a crash is
	// harmless.
	Write(points []Point) error
	// Points calls fn with each stored point of topic at step whose T is
	// in [from, to), oldest first, until fn returns false. A bucket with
	// no point is a gap.
	Points(step time.Duration, topic string, from, to time.Time, fn func(Point) bool) error
}

// SeriesReader is a Store with a faster read for a chart: only the fields
// asked for, without a map per point. fn gets each point of topic at step
// whose T is in [from, to), oldest first, until it returns false:
// stats[i] is fields[i]'s Stat (N = 0 where the point lacks the field).
// stats and marks are valid only during the call. The query engine uses
// it when a store offers it, and Points otherwise.
type SeriesReader interface {
	Series(step time.Duration, topic string, fields []string, from, to time.Time,
		fn func(t int64, count uint32, stats []Stat, marks []Mark) bool) error
}
