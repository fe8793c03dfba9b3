// Package history is vitals' event log: a bounded window of metric events
// kept in a bbolt file and, for replay, in memory, plus the broadcaster that
// hands every new event to the connected streams.
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
// # Redis backend (many hosts, many instances)
//
// With --redis, a [Publisher] writes its host's ticks to the stream
// "vitals:{<host>}:events" (one MULTI/EXEC pipeline per tick, trimmed with
// MAXLEN ~) and its record to the hash "vitals:hosts". Entry ids are set by
// the publisher as "<sample ms>-<topic index>" and are the wire ids, so
// every instance names an event alike and a client resumes exactly on any
// instance. While Redis is unreachable, ticks wait in a bounded buffer and
// are written in order, with their original ids, when it is back.
//
// A [Hub] serves any host: [Hub.Source] starts (on first use) one [Feed]
// per host, whose reader goroutine loads the stream with XRANGE and follows
// it with XREAD BLOCK into the same window and fan-out the bbolt Broker
// uses; the subscriber rules above hold unchanged. A feed stops when it has
// had no subscriber and no reader for HubOptions.Idle, and at Hub.Close.
// A Redis restart doesn't end streams: they keep their heartbeat and
// continue when the reader reads again.
//
// # Concurrency
//
// A Broker is safe for concurrent use; it starts no goroutines. A Hub and
// a Publisher are safe for concurrent use and own their goroutines (one
// writer per Publisher, one reader per running Feed); Close stops them and
// waits, within about one XREAD block (default 1s) or one final write
// (at most 2s). Publish
// calls are serialised. A Subscription belongs to one goroutine (the
// client's stream handler), which must call Close when done; the broker only
// queues onto it. Events are immutable once published and are shared by the
// window, every queue and every replay. Shutdown ends every subscription;
// Close also closes the file. The caller owns the order of shutdown.
package history
