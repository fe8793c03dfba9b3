// Package notify delivers alert transitions to people: shoutrrr service
// URLs (ntfy, Telegram, Discord, Slack, Gotify, Matrix, e-mail over SMTP
// and more) and a plain JSON webhook, through a persistent outbox.
//
// A transition a target wants is written to the outbox (a bucket in a
// bbolt file, the history's own if the app likes) before anything is sent,
// and leaves it only when the target has accepted it. A target that is
// down is retried with doubling, capped, jittered backoff for as long as
// it takes, across restarts. Each transition reaches each target once: the
// outbox remembers every (target, transition id) it ever queued, so
// enqueueing a replayed transition again is a no-op. The one window for a
// duplicate is a crash between a target's acceptance and the bbolt commit
// that records it, a few milliseconds.
//
// Target URLs are secrets. They are read from the command line, a file or
// the environment, kept unexported, and shown everywhere else (logs, errors,
// Name for the page) with user info, path and query replaced by ***;
// library errors have every secret part of the URL cut out before they
// are logged.
//
// Concurrency: New starts one goroutine per target, owned by the
// Dispatcher; Close cancels them and waits. Enqueue, EnqueueTx, Wake and
// Waiting are safe from any goroutine, also concurrently with each other.
// A Target is an immutable value once made and may be shared.
package notify
