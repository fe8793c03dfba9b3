package history

// Source is one host's event log as its readers see it: subscriptions for
// streams and reads for the API. *Broker and a Redis feed implement it.
//
// It is declared here, beside the types its methods return, rather than by
// its consumer (handlers): a backend that serves many hosts returns a
// Source for each, so the backend must name the type, and a storage
// package must not import the HTTP layer to do so.
type Source interface {
	Subscribe(SubscribeOptions) (*Subscription, error)
	Range(after string, topics []string, limit int) (Page, error)
	Bounds() (oldest, newest string)
	Latest() []*Event
	Topics() []string
}
