package tier

import "time"

// Batch is a Store that gathers writes and hands them on in batches of
// about Size points: a simulated fill produces months of minutes in
// seconds, and rewriting the block being filled once per minute (as a live
// run does) would be most of its cost. Reads flush first. Not safe for
// concurrent use.
type Batch struct {
	Store Store
	Size  int // flush once this many points wait

	waiting []Point
}

// Write queues points, flushing when enough wait.
func (b *Batch) Write(points []Point) error {
	b.waiting = append(b.waiting, points...)
	if len(b.waiting) >= b.Size {
		return b.Flush()
	}
	return nil
}

// Flush writes what waits.
func (b *Batch) Flush() error {
	if len(b.waiting) == 0 {
		return nil
	}
	err := b.Store.Write(b.waiting)
	b.waiting = b.waiting[:0]
	return err
}

// Points flushes, then reads from the store.
func (b *Batch) Points(step time.Duration, topic string, from, to time.Time, fn func(Point) bool) error {
	if err := b.Flush(); err != nil {
		return err
	}
	return b.Store.Points(step, topic, from, to, fn)
}
