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
// (HTTP/2); api.go, range.go, alerts.go, fleet*.go, hosts.go and
// snapshot.go answer the JSON API; page.go the pages; ops.go, auth.go,
// cors.go, limits.go and logging.go are the middleware, and compress.go
// gzips the JSON answers (never /events).
//
// # Concurrency
//
// Each /events request runs in its own goroutine (net/http's) and owns its
// history.Subscription until it returns. The handler never outlives the
// request: it returns when the client goes away, a write blocks past its
// deadline, the broker drops the subscriber, or the broker shuts down. The
// handler owns one heartbeat ticker, stopped on return.
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
