// Package query answers "what did this topic's fields do between two
// times": it picks the tier that covers the range (the raw window, the
// per-minute rollups or the per-hour rollups), reduces it to at most the
// number of points a chart can show, and reports the gaps.
//
// Reduction keeps what a chart must not lose when zoomed out: each returned
// point holds the min and max of everything folded into it (a one-second
// spike stays visible on a one-year chart), the mean weighted by sample
// counts, and the number of ticks it holds. A point with no samples stays
// empty (null in JSON): nothing is interpolated. Gaps carry the kind the
// server's marks give them ("restart", "late", "clock") or "offline".
//
// Buckets are aligned to multiples of the returned step since the Unix
// epoch, so a client can fold live minute rollups into the same buckets
// with tier.Stat's Merge rule and get what a fresh query would return.
//
// # Concurrency
//
// An [Engine] is a value with no mutable state: Query may be called from
// any number of goroutines at once; it reads the history.Source and the
// tier.Store through their own concurrency-safe methods.
package query
