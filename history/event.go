package history

// Event is one published metric event. Events are immutable once published:
// the window, every subscriber's queue and every replay share the same value,
// so nothing may write to its fields or slices.
type Event struct {
	ID    string // opaque wire id, see id.go
	Seq   uint64 // order within the store; the number inside ID
	Topic string
	T     int64  // sample time, unix milliseconds
	Data  []byte // the JSON payload
	// Wire is the event encoded once as SSE ("id:", "event:", "data:"
	// lines): every subscriber and every replay writes these same bytes.
	Wire []byte

	bit uint64 // the topic's bit in subscriber masks, set by the broker
}

// size is what an event counts against the byte budgets (history and
// subscriber queues): its encoded form, which dominates its memory.
func (e *Event) size() int64 { return int64(len(e.Wire)) }

// Sample is one topic's JSON payload for one tick, as handed to Publish.
type Sample struct {
	Topic string
	Data  []byte
}
