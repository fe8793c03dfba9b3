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
// # Concurrency
//
// Point and Stat are plain values with no locking: a Point belongs to
// whoever built it until it is handed on, and is not changed after that.
package tier
