// Package history is vitals' event log: a bounded window of metric events
// kept in a bbolt file and, for replay, in memory, plus the broadcaster that
// hands every new event to the connected streams. It also holds what every
// event-log backend shares: events, ids' catch-up rules, the window and its
// subscriptions.
//
// # Events and ids
//
// The sampler calls [Broker.Publish] once per tick with every topic's JSON
// payload. Each event gets an id and is encoded to its Server-Sent Events
// form once; every subscriber and every replay writes those same bytes.
//
// Ids are opaque strings of at most 40 bytes from [0-9A-Za-z._-] (so a
// cross-origin Last-Event-ID needs no CORS preflight). Within one data dir
// they are strictly increasing and never reused, across restarts and kill -9
// too: sequence numbers are reserved on disk ahead of use and numbering
// resumes above the reservation. Each history file has a random epoch that
// is part of every id, so after the data dir is wiped an old id is reported
// as from another store instead of silently meaning a different event.
//
// # Durability and retention
//
// A tick is committed to bbolt (one transaction for all its topics) before
// any subscriber sees it. The window keeps events newer than the retention
// age and at most MaxBytes of them; the same rule trims memory and disk.
// If a write fails (a full disk) the error is logged and reported, and the
// events are still published from memory. A file held by another process is
// an error naming it after about a second; a corrupt file is moved aside as
// "<name>.corrupt-<time>" and a fresh history is started.
//
// # Subscribers
//
// [Broker.Subscribe] returns a [Subscription] whose replay (everything
// retained after the client's last id, filtered by topic) and live queue are
// cut under one lock, together with the append in Publish: the client gets
// every event after its id exactly once, with no gap and no duplicate, even
// while publishing runs at full speed.
//
// Publish never waits for a subscriber. A subscriber whose queue grows past
// its byte budget is dropped (its Done channel closes with [ErrSlow]); the
// stream handler also drops a client whose write blocks past a deadline.
// Dropping loses nothing: the browser reconnects with Last-Event-ID and
// resumes exactly where it stopped.
//
// # Backends
//
// The subscriber rules above live in [Window], the in-memory window and
// fan-out that every backend fills through its [Writer]: the Broker from
// its bbolt file, and the Redis Streams backend (package
// vitals/history/redisstream, for many hosts and many instances) from a
// stream reader. A backend only decides how events are stored and what
// their ids look like (its WindowOptions.Position); replay, topic filters
// and dropping a slow subscriber behave the same on every backend.
//
// # Concurrency
//
// A Broker is safe for concurrent use; it starts no goroutines. Publish
// calls are serialised. A Window's read side (Subscribe, Range, Latest,
// Bounds, Stats, Shutdown) is safe for concurrent use; its Writer belongs
// to one writer at a time. A Subscription belongs to one goroutine (the
// client's stream handler), which must call Close when done; the window's
// writer only queues onto it. Events are immutable once published and are
// shared by the window, every queue and every replay. Shutdown ends every
// subscription; Close also closes the file. The caller owns the order of
// shutdown.
package history
