// Command loadgen opens many /events streams against a running vitals (or
// the gin baseline) on loopback and reports what they saw: streams held,
// events per second, missed ids per stream, sample-to-client latency, and
// the server's RSS and CPU read from /proc/<pid>.
//
//	go run ./bench/loadgen -url http://127.0.0.1:8080 -streams 1000 -hold 60s -pid $(pidof vitals)
//
// # Client design
//
// Each stream is one goroutine over a raw TCP connection: a hand-written
// HTTP/1.1 request, a small reader that undoes the chunked framing, and an
// SSE line parser that allocates nothing per event. net/http's client is
// not used: its per-connection goroutines, transport and buffers would
// make the load generator heavier than the server it measures. The Go
// runtime already multiplexes the connections over epoll, so a goroutine
// per connection costs its stack and two small buffers; the run reports the
// generator's own RSS per stream so that cost is visible, not assumed.
//
// # Exactness
//
// Every event id a stream receives is kept (8 bytes each). After the run,
// the server's own sequence is read from GET /api/history and each stream's
// ids are compared with the part of it the stream was owed: everything
// after the id it resumed from (or the newest id its hello named) through
// the head read at the end of the run, filtered by its topics. A gap is a
// missed id; an id out of order or absent from the server's log is counted
// apart. A server without ids (the gin baseline) is checked by its sample
// times instead: one event per topic per interval.
//
// # Several instances, several hosts (Redis mode)
//
// -urls a,b spreads the streams round-robin over several servers and
// -hosts h0,h1,... gives each stream a ?host= (cycled over each URL's own
// streams, so every server serves every host). Each stream is then checked
// against GET /api/history?host=<its host> of the URL it read, and for
// each host the logs of the URLs are compared with each other over the
// span they all hold: with --redis the stream entry ids ("<ms>-<seq>") are
// the wire ids, so every instance must hold the same ones. -pids reports
// the CPU and RSS of several processes over the window (the servers of
// -urls first, in order; then any other, such as redis-server).
//
// # Concurrency and limits
//
// The run owns every goroutine it starts (streams, the /proc sampler) and
// waits for all of them before it reports. Traffic goes only to loopback,
// the number of streams and the run time are bounded by flags, and the run
// stops by itself. Above -per-source connections per source address it
// binds further streams to 127.0.0.2, 127.0.0.3, ... (Linux runs out of
// ephemeral ports for one source/destination pair at about 28,000), and it
// raises its own open-file limit to fit.
package main
