package history

import (
	"sort"
	"time"
)

// ring holds the retained window in memory, oldest first, so replay never
// touches disk. Only the publisher appends and evicts; readers (subscribe,
// range) hold Broker.mu, and so does the publisher while it mutates.
//
// Evicting reslices the front instead of clearing it: a replay may still be
// reading a slice of the old array, and the elements themselves never change.
// The dropped prefix is freed when append next grows the array, so memory
// stays within about twice the window.
type ring struct {
	evs   []*Event
	bytes int64
}

// retention is how much history is kept: events newer than Age, and no more
// than MaxBytes in all.
type retention struct {
	Age      time.Duration
	MaxBytes int64
}

// evictCount says how many events from the front must go so that, after
// adding incoming events totalling inBytes, everything kept is newer than cutoff
// (unix ms) and the total is within max bytes.
func (r *ring) evictCount(cutoff int64, inBytes, max int64) int {
	total := r.bytes + inBytes
	n := 0
	for n < len(r.evs) {
		e := r.evs[n]
		if e.T > cutoff && total <= max {
			break
		}
		total -= e.size()
		n++
	}
	return n
}

func (r *ring) append(evs []*Event) {
	for _, e := range evs {
		r.bytes += e.size()
	}
	r.evs = append(r.evs, evs...)
}

func (r *ring) evict(n int) {
	for _, e := range r.evs[:n] {
		r.bytes -= e.size()
	}
	r.evs = r.evs[n:]
}

// after returns the index of the first event with Seq > seq.
func (r *ring) after(seq uint64) int {
	return sort.Search(len(r.evs), func(i int) bool { return r.evs[i].Seq > seq })
}

// find returns the index of the event with exactly this seq.
func (r *ring) find(seq uint64) (int, bool) {
	i := sort.Search(len(r.evs), func(i int) bool { return r.evs[i].Seq >= seq })
	return i, i < len(r.evs) && r.evs[i].Seq == seq
}
