// Package redisstream is vitals' Redis Streams backend for the event log
// (--redis): many hosts publish to one Redis, and any number of instances
// serve any host's history with the same ids, so a client resumes exactly
// on whichever instance it reaches.
//
// A [Backend] is what a process runs on: it opens one connection pool,
// publishes this machine's ticks through a [Publisher], serves every
// host's history through a [Hub], and stores each host's description
// (a hostinfo.Desc) in its [HostRecord].
//
// # Publishing
//
// A [Publisher] writes its host's ticks to the stream
// "vitals:{<host>}:events" ([StreamKey]; trimmed with MAXLEN ~) and its
// [HostRecord] to "vitals:{<host>}:record" ([RecordKey]), in one MULTI/EXEC
// per tick; the host's name joins the set "vitals:hostnames" ([HostsKey])
// when its record is new. Entry ids are set by the publisher as
// "<sample ms>-<topic index>" and are the wire ids, so every instance names
// an event alike. While Redis is unreachable, ticks wait in a bounded
// buffer and are written in order, with their original ids, when it is
// back.
//
// # Redis Cluster
//
// Every key of one host carries the hash tag "{<host>}", so it lives in
// one slot, and no command or transaction vitals sends spans two hosts:
// each feed reads its own host's stream. The one key shared by the fleet,
// HostsKey, holds names only and is written rarely. The Backend takes a
// redis.UniversalClient: a *redis.Client or a *redis.ClusterClient.
//
// # Tiers
//
// A [TierStore] keeps one host's rollup tiers (package tier) in Redis: a
// stream per step and topic ([TierKey]), one entry per bucket keyed by the
// bucket's start, trimmed by retention; [Backend.TierStore] gives any
// host's. It starts no goroutine.
//
// # Reading
//
// A [Hub] serves any host: [Hub.Source] starts (on first use) one [Feed]
// per host, whose reader goroutine loads the stream with XRANGE and follows
// it with XREAD BLOCK into a history.Window, the same window and fan-out the
// bbolt Broker uses; the subscriber rules of package history hold
// unchanged. A feed stops when it has had no subscriber and no reader for
// HubOptions.Idle, and at Hub.Close. A Redis restart doesn't end streams:
// they keep their heartbeat and continue when the reader reads again.
//
// # Concurrency
//
// A Hub and a Publisher are safe for concurrent use and own their
// goroutines: one writer per Publisher, one reader per running Feed, which
// is its window's only writer. Close stops them and waits, within about one
// XREAD block (default 1s) or one final write (at most 2s). Publish never
// blocks on Redis. A Feed's read side is its history.Window's, safe for
// concurrent use; its subscriptions follow package history's rules. The
// caller owns the order of shutdown: Hub.Close before Publisher.Close, as
// Backend.Close does. A Backend is safe for concurrent use.
package redisstream
