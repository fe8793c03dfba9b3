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
func (r *retained) evictCount(cutoff int64, inBytes, max int64) int {
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

func (r *retained) append(evs []*Event) {
	for _, e := range evs {
		r.bytes += e.size()
	}
	r.evs = append(r.evs, evs...)
}

func (r *retained) evict(n int) {
	for _, e := range r.evs[:n] {
		r.bytes -= e.size()
	}
	r.evs = r.evs[n:]
}

// find returns the index of the event with exactly this seq.
func (r *retained) find(seq uint64) (int, bool) {
	i := sort.Search(len(r.evs), func(i int) bool { return r.evs[i].Seq >= seq })
	return i, i < len(r.evs) && r.evs[i].Seq == seq
}
