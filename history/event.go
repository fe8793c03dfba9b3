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
	// Redacted is the same event (same id, topic and time) as a
	// restricted viewer may see it, for a topic with a redactor
	// ([WindowOptions.Redact]); nil where the event has nothing to hide.
	// Like Wire it is encoded once, when the event enters the window.
	Redacted *Event

	bit uint64 // the topic's bit in subscriber masks, set by the broker
}

// For is the event as a viewer sees it: restricted viewers (the read-only
// token) get the redacted form where there is one.
func (e *Event) For(restricted bool) *Event {
	if restricted && e.Redacted != nil {
		return e.Redacted
	}
	return e
}

// size is what an event counts against the byte budgets (history and
// subscriber queues): its encoded forms, which dominate its memory.
func (e *Event) size() int64 {
	n := int64(len(e.Wire))
	if e.Redacted != nil {
		n += int64(len(e.Redacted.Wire))
	}
	return n
}

// Sample is one topic's JSON payload for one tick, as handed to Publish.
type Sample struct {
	Topic string
	Data  []byte
}
