package tiertest

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"vitals/history/tier"
)

// Mem keeps points in memory, per step and topic, sorted by T. It keeps
// everything: retention is the real stores' business.
type Mem struct {
	mu  sync.Mutex // guards following fields
	pts map[key][]tier.Point
}

type key struct {
	step  time.Duration
	topic string
}

// NewMem returns an empty store.
func NewMem() *Mem { return &Mem{pts: map[key][]tier.Point{}} }

// Write stores points, replacing any with the same step, topic and T.
func (m *Mem) Write(points []tier.Point) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range points {
		k := key{p.Step, p.Topic}
		s := m.pts[k]
		i, found := slices.BinarySearchFunc(s, p.T, func(q tier.Point, t int64) int { return cmp.Compare(q.T, t) })
		if found {
			s[i] = p
		} else {
			s = slices.Insert(s, i, p)
		}
		m.pts[k] = s
	}
	return nil
}

// Points calls fn with topic's points at step whose T is in [from, to),
// oldest first, until fn returns false. fn runs without the lock held.
func (m *Mem) Points(step time.Duration, topic string, from, to time.Time, fn func(tier.Point) bool) error {
	m.mu.Lock()
	s := m.pts[key{step, topic}]
	lo, _ := slices.BinarySearchFunc(s, from.UnixMilli(), func(q tier.Point, t int64) int { return cmp.Compare(q.T, t) })
	hi, _ := slices.BinarySearchFunc(s, to.UnixMilli(), func(q tier.Point, t int64) int { return cmp.Compare(q.T, t) })
	// A copy: Write shifts the stored slice in place.
	s = slices.Clone(s[lo:max(lo, hi)])
	m.mu.Unlock()
	for _, p := range s {
		if !fn(p) {
			return nil
		}
	}
	return nil
}
