// Command h2fanout measures what an /events stream costs vitals over HTTPS
// with HTTP/1.1, where vitals takes each connection over (hijack) and
// writes the chunked body itself, against HTTP/2, where it can't and
// writes through net/http's HTTP/2 server. bench/loadgen speaks HTTP/1.1
// only (its own parser on raw connections, to stay cheap at 10,000
// streams); teaching it TLS and HTTP/2 framing would be a rewrite, so this
// smaller client uses Go's own transports instead.
//
// For each mode it starts the real binary with a certificate made here,
// opens -n streams of every topic at 1 Hz, lets them settle, and then for
// -hold reads the server's CPU and RSS from /proc, the sample-to-client
// latency from each event's "t", and checks every stream's ids for gaps.
// Modes: HTTP/1.1 with one connection per stream (as many browsers),
// HTTP/2 with one connection per stream (many browsers), and HTTP/2 with
// up to 100 streams per connection (tabs of a few browsers, the case
// HTTP/2 exists for). Loopback only.
//
//	go build -o bin/vitals . && go run ./bench/h2fanout -n 1000
//
// Concurrency: main owns the vitals process and one reader goroutine per
// stream; it stops the server and waits for every reader before it
// prints.
package main
