// Package telemetry is what vitals serves on /metrics: one Prometheus
// registry of its own (nothing registers globally), vitals' operational
// metrics (sample and store-write durations, streams open, closed and
// refused, history totals, the Redis publisher's state, rates the
// collectors dropped as implausible) and the host's raw counters and levels
// under node_exporter's names (node.go), read at scrape time from what the
// collectors read on their last tick. Rates are not exported: they are the
// stream's.
//
// # Concurrency
//
// A [Telemetry] is safe for concurrent use: the Observe and Stream methods
// are called from the sampler and from every stream handler, and the
// collectors added by WatchBroker, WatchRedis and WatchCollectors read their
// sources at scrape time through the functions (or the metrics collectors'
// ImplausibleRates and ReadRaw) they were given, which must be safe to call from the
// HTTP handler's goroutine while the sampler runs. It starts no goroutines.
package telemetry
