// Command floor is a yardstick, not a product: the least a server can do
// for vitals' fan-out workload, so that vitals' figures can be read as a
// ratio of what the machine allows. It is deliberately minimal:
//
//   - accept a connection, read the request head up to its blank line,
//     answer one fixed response head ("Connection: close", no chunking);
//   - on each wall-clock multiple of -interval, build one block of
//     -tick-bytes (five SSE events, cpu, memory, load, disk and network,
//     each carrying the tick's sample time "t" so the load generator can
//     measure latency with -truth ticks), and write that same block to
//     every connection: one write per connection per tick, from one writer
//     goroutine per core, each owning its share of the connections;
//   - a connection whose write fails is closed and forgotten.
//
// It has no ids, no history, no catch-up, no heartbeats, no write
// deadlines, no slow-reader handling, no auth and no HTTP parsing beyond
// finding the end of the head. Anything it lacks is work vitals does and
// the floor does not; keep it that way.
//
// Concurrency: main owns the accept loop, the ticker and the writers, and
// stops them on SIGINT/SIGTERM; a short-lived goroutine per new connection
// reads its head and hands it to a writer.
package main
