// Package handlers is vitals' HTTP surface: the /events Server-Sent Events
// stream, the JSON API and the dashboard pages, on gin.
//
// The package declares what it needs from the rest of the program as small
// interfaces (Sources, which hands out each host's history.Source) and the
// Options built by internal/app; it never reaches for globals. Gin appears
// only here and in internal/app.
//
// Where things are: events.go runs one /events request (admission, replay,
// the live loop, heartbeats); stream.go writes its bytes, over the
// connection it takes from net/http (HTTP/1.1) or through net/http
// (HTTP/2); writers.go serves the idle HTTP/1.1 streams many to a
// goroutine; api.go, range.go, alerts.go, fleet*.go, hosts.go and
// snapshot.go answer the JSON API; page.go the pages; ops.go, auth.go,
// cors.go, limits.go and logging.go are the middleware, and compress.go
// gzips the JSON answers (never /events).
//
// # Concurrency
//
// Each /events request starts in its own goroutine (net/http's), which
// writes hello and the catch-up. A stream over HTTP/2 or through a writer
// that can't hand over its connection stays there until it ends, with one
// heartbeat ticker. A stream that takes its connection over (HTTP/1.1)
// passes to the writers (writers.go): on plain TCP, one worker per core
// writes the live ticks and heartbeats of all idle streams with
// non-blocking writes; a stream whose socket is full, one over TLS, and
// every stream at shutdown run in a goroutine of their own instead. Each
// stream, and each worker while there are pooled streams, is counted in
// one WaitGroup that Handler.Wait waits on. A stream ends when the client
// goes away, a write blocks past its deadline, the broker drops the
// subscriber, or the broker shuts down.
//
// Every route, including ones registered after New and gin's own 404 and
// 405 answers, passes through the same middleware on the engine, in order:
// request log (tokens redacted), Host check (DNS rebinding, while on
// loopback), size limits (414/431), CORS, methods (405 for anything but
// GET, HEAD, OPTIONS and the two alert POSTs, which also need a JSON body
// from the page's own origin and the full token; HEAD served by the
// GET route), tokens; then, for /api/* only, gzip. The open-stream count
// for MaxClients is one atomic counter shared by all requests; everything
// else the middleware reads is fixed when New returns. A StreamObserver is called from request
// goroutines concurrently and must be safe for that.
package handlers
