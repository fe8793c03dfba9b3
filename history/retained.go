package history

import (
	"sort"
	"time"
)

// retained is the window's events in memory, oldest first, so replay never
// touches disk. It is a queue ordered by seq: the writer appends at the back
// and evicts from the front; replay and Range binary-search it by seq. Only
// the window's writer appends and evicts, holding window.mu while it
// mutates; readers (Subscribe, Range) hold window.mu.
//
// Evicting reslices the front instead of clearing it: a replay may still be
// reading a slice of the old array, and the elements themselves never change.
// The dropped prefix is freed when append next grows the array, so memory
// stays within about twice the window.
type retained struct {
	evs   []*Event
	bytes int64
	// expire holds, beside each event, the monotonic time (on the window's
	// Elapsed clock) at which its age passes the retention: the window
	// evicts by it, so a step of the wall clock evicts nothing early. Only
	// the window fills it; the store's load leaves it empty.
	expire []time.Duration
}

// retention is how much history is kept: events newer than Age, and no more
// than MaxBytes in all.
type retention struct {
	Age      time.Duration
	MaxBytes int64
}

// evictCount says how many events from the front must go so that, after
// adding incoming events totalling inBytes, none kept is old (old(i) says
// whether the event at i is past the retention) and the total is within
// max bytes.
func (r *retained) evictCount(old func(i int) bool, inBytes, max int64) int {
	total := r.bytes + inBytes
	n := 0
	for n < len(r.evs) {
		if !old(n) && total <= max {
			break
		}
		total -= r.evs[n].size()
		n++
	}
	return n
}

// olderThan is the store's test of age: the event's time against a wall
// clock cutoff (unix ms). It is the only test there is across a restart.
func (r *retained) olderThan(cutoff int64) func(i int) bool {
	return func(i int) bool { return r.evs[i].T <= cutoff }
}

func (r *retained) append(evs []*Event) {
	for _, e := range evs {
		r.bytes += e.size()
	}
	r.evs = append(r.evs, evs...)
}

// appendExpiring appends evs with the monotonic time each expires at.
func (r *retained) appendExpiring(evs []*Event, expire func(*Event) time.Duration) {
	r.append(evs)
	for _, e := range evs {
		r.expire = append(r.expire, expire(e))
	}
}

func (r *retained) evict(n int) {
	for _, e := range r.evs[:n] {
		r.bytes -= e.size()
	}
	r.evs = r.evs[n:]
	if len(r.expire) >= n {
		r.expire = r.expire[n:]
	}
}

// find returns the index of the event with exactly this seq.
func (r *retained) find(seq uint64) (int, bool) {
	i := sort.Search(len(r.evs), func(i int) bool { return r.evs[i].Seq >= seq })
	return i, i < len(r.evs) && r.evs[i].Seq == seq
}
