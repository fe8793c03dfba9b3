package history

import (
	"iter"
	"sync"
)

// Subscription is one client's view of the broker: an optional replay, then
// live events. It is used by one goroutine at a time (the client's stream
// handler, or the writer that serves it among many); the writer of its
// window (the broker's publisher or a Redis feed's reader) only queues onto
// it. Its owner learns of queued events and of its end through Ready and
// Done, or through a function set with SetWake.
type Subscription struct {
	w       *Window
	mask    uint64
	catchup *Catchup
	replay  []*Event // unfiltered; shared with the window, read-only
	idx     int      // position in w.subs, -1 when gone; guarded by w.mu

	mu     sync.Mutex // guards following fields
	queue  []*Event
	queued int64 // encoded bytes in queue
	err    error // why the subscription ended
	ended  bool
	wake   func() // replaces the Ready signal when set

	ready chan struct{} // a value waits here while queue is not empty
	done  chan struct{} // closed when the broker ends the subscription
}

// Catchup describes the replay, or is nil when the subscriber didn't ask to
// resume.
func (s *Subscription) Catchup() *Catchup { return s.catchup }

// Replay yields the events to replay, oldest first, already filtered by
// topic. Write each event's Wire.
func (s *Subscription) Replay() iter.Seq[*Event] {
	return func(yield func(*Event) bool) {
		for _, e := range s.replay {
			if s.wants(e) && !yield(e) {
				return
			}
		}
	}
}

// Ready fires when live events are waiting; collect them with Next.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Done is closed when the broker ends the subscription (too slow, or shut
// down); Err says which.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err is ErrSlow or ErrClosed once Done is closed, else nil.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// SetWake makes the window call f, instead of signalling Ready, each time
// it queues events on the subscription and when it ends it (Done is then
// closed). f runs on the window's writer with the window's lock held, so it
// must be quick and must not call into the window or this subscription. If
// events wait or the subscription has ended already, SetWake signals at
// once: f is called, or with f nil, Ready fires. Passing nil hands the
// subscription back to Ready and Done.
//
// This lets one goroutine serve many subscriptions: f marks the
// subscription due and wakes that goroutine, which then calls Next.
func (s *Subscription) SetWake(f func()) {
	s.mu.Lock()
	s.wake = f
	pending := len(s.queue) > 0 || s.ended
	s.mu.Unlock()
	if !pending {
		return
	}
	if f != nil {
		f()
		return
	}
	s.signalReady()
}

func (s *Subscription) signalReady() {
	select {
	case s.ready <- struct{}{}:
	default: // already signalled
	}
}

// Next appends the queued live events to dst, oldest first, and empties the
// queue. Passing the previous result back as dst[:0] makes it allocation
// free.
func (s *Subscription) Next(dst []*Event) []*Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	dst = append(dst, s.queue...)
	clear(s.queue) // don't pin events the window has evicted
	s.queue = s.queue[:0]
	s.queued = 0
	return dst
}

// Close unregisters the subscription. Safe to call more than once and after
// the broker ended it.
func (s *Subscription) Close() {
	s.w.unsubscribe(s)
	s.replay = nil
}

func (s *Subscription) wants(e *Event) bool {
	return s.mask&e.bit != 0
}

// enqueue adds the events this subscriber wants. It reports false when the
// queue would pass budget; the caller then drops the subscriber. Called by
// the window's writer with w.mu held; never blocks.
func (s *Subscription) enqueue(evs []*Event, budget int64) bool {
	s.mu.Lock()
	added := false
	for _, e := range evs {
		if s.wants(e) {
			s.queue = append(s.queue, e)
			s.queued += e.size()
			added = true
		}
	}
	over := s.queued > budget
	wake := s.wake
	s.mu.Unlock()
	if over {
		return false
	}
	switch {
	case !added:
	case wake != nil:
		wake()
	default:
		s.signalReady()
	}
	return true
}

// finish ends the subscription with err. Called with w.mu held.
func (s *Subscription) finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended, s.err = true, err
	clear(s.queue)
	s.queue = nil
	close(s.done)
	if s.wake != nil {
		s.wake()
	}
}
