// Package handlers is vitals' HTTP surface: the /events Server-Sent Events
// stream, the JSON API and the dashboard pages, on gin.
//
// The package declares what it needs from the rest of the program as small
// interfaces (EventSource) and a Config built by main; it never reaches for
// globals. Gin appears only here and in main.
//
// # Concurrency
//
// Each /events request runs in its own goroutine (net/http's) and owns its
// history.Subscription until it returns. The handler never outlives the
// request: it returns when the client goes away, a write blocks past its
// deadline, the broker drops the subscriber, or the broker shuts down. The
// handler owns one heartbeat ticker, stopped on return.
package handlers
