// Package offline reports hosts of a --redis fleet that stopped
// publishing: the one alert a host cannot raise about itself. Every
// instance runs a Watcher; exactly one at a time, the holder of a lease in
// Redis, evaluates it, so a host that goes away is reported once, not once
// per instance.
//
// The lease is a key set with SET NX PX and renewed by its holder every
// third of its length (a compare-and-extend script, so only the holder
// extends it). When the leader dies, the key lapses and another instance
// takes it over within one lease (5 s by default).
//
// Each host's alert state (its last transition) is kept in Redis, in the
// hash StateKey, and written only while the writer still holds the lease
// (one script checks and writes; the two keys share the hash tag {alerts},
// so in a Redis Cluster they are in one slot, as a script needs). A transition is handed to Emit only
// after that write, and its alert id is derived from the host and the
// time of its last tick, the same on every instance: a new leader finds
// the host already reported and stays silent. The window for a lost
// notification is a leader that dies between the write and its own outbox
// (milliseconds); for a duplicate, none.
//
// Concurrency: Start starts one goroutine, owned by the Watcher; Close
// stops it and waits (it does not release the lease, so a Close looks to
// the others like a death and is covered the same way; Release gives it
// up at once). Emit is called from that goroutine only.
package offline
