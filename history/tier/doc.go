// Package tier keeps vitals' long history: per-minute and per-hour rollups
// of every numeric field of the metric topics, made as ticks are published
// and stored beside the raw window, so a chart can show months or years
// without the raw samples.
//
// A rollup point is one bucket (a minute or an hour) of one topic: for each
// numeric field the min, max and sum of the samples that had it, and how
// many ticks the bucket holds, so a one-second spike survives into the
// hourly tier as a max and a partial bucket is known to be partial. A
// bucket with no samples is a gap and is never interpolated; the server's
// marks (restart, skipped ticks, clock steps) are carried into the buckets
// they fall in, so a long range draws the same bands as the live view.
//
// The pieces: [Flattener] turns a topic's JSON payload into numeric fields
// by path; [Roller] keeps the minute and hour in progress in memory, hands
// completed points to a [Store] and returns each completed minute as the
// payload of a "rollup" event; [BoltStore] keeps the points in the bbolt
// history file as compressed columnar blocks, with a retention and a byte
// cap per step; [Simulation] makes a realistic host's ticks for the
// simulated fill, the tests and the benchmarks.
//
// # Concurrency
//
// Point and Stat are plain values with no locking: a Point belongs to
// whoever built it until it is handed on, and is not changed after that.
// A Roller and a Flattener belong to one goroutine (the caller serialises
// ticks). A BoltStore is safe for one writer and many readers at once. No
// type here starts a goroutine.
package tier
