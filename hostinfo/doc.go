// Package hostinfo is the one description of a monitored host, from the
// sampler that reads it (metrics.ReadHost) to the browser: the handlers put
// it in the hello event, /api/hosts and the dashboard page, the views derive
// the page header from it, and the Redis backend stores it in each host's
// record. [Status] is a host as a fleet sees it (one row of /api/hosts),
// with the rule that says when a host is live.
//
// It is a leaf: it imports nothing of the project, so metrics, views,
// handlers and history/redisstream can all share the type without any of
// them importing another just for a struct. Its JSON form ([Desc]) is the
// one that travels: the same field names in hello, in /api/hosts and in a
// Redis host record.
//
// # Concurrency
//
// Info, Desc and Status are plain values with no state; the functions are pure and
// safe for concurrent use.
package hostinfo
