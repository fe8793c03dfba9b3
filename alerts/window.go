package alerts

import (
	"math"
	"time"
)

// maxBuckets bounds the memory and the per-tick cost of one rule instance.
// A window of up to maxBuckets samples keeps every sample; a longer one
// (a 2 h fill prediction at 1 s ticks) merges neighbours into buckets of
// window/maxBuckets. 120 points are plenty for a mean or a slope.
const maxBuckets = 120

// bucket aggregates the samples that fell into one step of a window.
type bucket struct {
	start, last int64 // first and latest sample, unix ns: time.Time arithmetic is most of the tick cost
	n           int
	sum         float64
	max, min    float64
	final       float64 // the latest sample
}

// window keeps the recent samples of one rule instance in a ring of buckets.
// It is not safe for concurrent use; the Engine's lock guards it.
type window struct {
	span  int64 // ns
	step  int64 // ns
	ring  []bucket
	head  int // index of the oldest bucket
	count int

	// closed caches sums over every bucket but the newest, which is the
	// only one still changing, so a tick does not scan the window. The
	// mean's sums follow buckets closing and expiring; the slope's, whose
	// time base moves with the oldest bucket, are rebuilt when a bucket
	// closes, once a minute for a 2 h window.
	slope  bool // keep the least-squares sums (fn eta)
	closed struct {
		valid            bool
		n                int
		sum              float64
		st, sv, stt, stv float64 // least-squares sums, t in s from the oldest bucket
		updates          int     // incremental updates since the last rebuild
	}
}

func newWindow(span time.Duration, fn Func) *window {
	w := &window{span: int64(span), step: int64(span / maxBuckets), slope: fn == FnETA}
	n := maxBuckets + 2 // a partly expired bucket at each end
	if span == 0 {
		n = 1 // fn last keeps only the newest sample
	}
	w.ring = make([]bucket, n)
	return w
}

func (w *window) at(i int) *bucket { return &w.ring[(w.head+i)%len(w.ring)] }

// add records a sample and drops those that fell out of the window.
func (w *window) add(now time.Time, x float64) {
	t := now.UnixNano()
	if w.count > 0 {
		last := w.at(w.count - 1)
		if t < last.last {
			// The clock went back (an NTP step, a test): samples
			// from the "future" would never expire in order.
			w.count, w.closed.valid = 0, false
		} else if t-last.start < w.step || w.span == 0 {
			if w.span == 0 {
				*last = bucket{start: t, last: t, n: 1, sum: x, max: x, min: x, final: x}
				return
			}
			last.last, last.n, last.sum, last.final = t, last.n+1, last.sum+x, x
			last.max, last.min = max(last.max, x), min(last.min, x)
			return
		}
	}
	if w.count > 0 {
		w.cached(w.at(w.count-1), +1) // the newest bucket closes
	}
	if w.count == len(w.ring) {
		w.dropOldest()
	}
	*w.at(w.count) = bucket{start: t, last: t, n: 1, sum: x, max: x, min: x, final: x}
	w.count++
	w.expire(t)
}

// expire drops buckets whose newest sample is older than the window.
func (w *window) expire(now int64) {
	if w.span == 0 {
		return
	}
	cut := now - w.span
	for w.count > 0 && w.at(0).last <= cut {
		w.dropOldest()
	}
}

func (w *window) dropOldest() {
	if w.count > 1 {
		w.cached(w.at(0), -1)
	} else {
		w.closed.valid = false
	}
	w.head = (w.head + 1) % len(w.ring)
	w.count--
}

// cached adds (+1) or removes (-1) a closed bucket to the mean's cached
// sums, or invalidates the cache where that can't be done exactly enough.
func (w *window) cached(b *bucket, sign int) {
	c := &w.closed
	if !c.valid || w.slope || c.updates >= len(w.ring) {
		// Rebuilding after a ring's worth of updates keeps the rounding
		// of adding and subtracting from piling up.
		c.valid = false
		return
	}
	c.n += sign * b.n
	c.sum += float64(sign) * b.sum
	c.updates++
}

func (w *window) empty() bool { return w.count == 0 }

// value applies fn to what the window holds at now. ok is false when there
// is not enough to say anything: no samples, or for eta less than a quarter
// of the window (a slope over a few seconds predicts nonsense).
func (w *window) value(now time.Time, fn Func, limit float64) (v float64, ok bool) {
	w.expire(now.UnixNano())
	if w.count == 0 {
		return 0, false
	}
	switch fn {
	case FnLast:
		return w.at(w.count - 1).final, true
	case FnMax:
		v = math.Inf(-1)
		for i := range w.count {
			v = max(v, w.at(i).max)
		}
		return v, true
	case FnMin:
		v = math.Inf(1)
		for i := range w.count {
			v = min(v, w.at(i).min)
		}
		return v, true
	case FnETA:
		return w.eta(limit)
	default:
		w.cache()
		b := w.at(w.count - 1)
		return (w.closed.sum + b.sum) / float64(w.closed.n+b.n), true
	}
}

// cache fills w.closed when it is stale.
func (w *window) cache() {
	c := &w.closed
	if c.valid {
		return
	}
	c.valid, c.n, c.sum, c.st, c.sv, c.stt, c.stv, c.updates = true, 0, 0, 0, 0, 0, 0, 0
	first := w.at(0).start
	for i := range w.count - 1 {
		b := w.at(i)
		c.n += b.n
		c.sum += b.sum
		if w.slope {
			t, v := b.point(first)
			c.st, c.sv, c.stt, c.stv = c.st+t, c.sv+v, c.stt+t*t, c.stv+t*v
		}
	}
}

// point is a bucket as one point for the slope: its mean at its middle,
// with t in seconds after base.
func (b *bucket) point(base int64) (t, v float64) {
	return float64(b.start-base+(b.last-b.start)/2) / 1e9, b.sum / float64(b.n)
}

// eta fits a least-squares line through the bucket means and returns the
// seconds until it reaches limit from the latest sample; +Inf when the
// value is flat or falling.
func (w *window) eta(limit float64) (float64, bool) {
	first, last := w.at(0), w.at(w.count-1)
	if w.count < 3 || last.last-first.start < w.span/4 {
		return 0, false
	}
	w.cache()
	t, v := last.point(first.start)
	st, sv, stt, stv := w.closed.st+t, w.closed.sv+v, w.closed.stt+t*t, w.closed.stv+t*v
	n := float64(w.count)
	den := n*stt - st*st
	if den == 0 {
		return 0, false
	}
	slope := (n*stv - st*sv) / den
	now := last.final
	switch {
	case now >= limit:
		return 0, true
	case slope <= 0:
		return math.Inf(1), true
	}
	return (limit - now) / slope, true
}
