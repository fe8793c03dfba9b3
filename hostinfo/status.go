package hostinfo

import "time"

// Status is a host as a fleet sees it: one row of /api/hosts.
type Status struct {
	Info     Info
	LastSeen time.Time // the host's newest tick; zero when unknown
	Live     bool      // it ticked recently (see IsLive)
	Self     bool      // the host this server samples
}

// liveFor says how long after its last tick a host still counts as live:
// three missed ticks (a sampler stall, as /healthz judges one) plus two
// seconds for a publisher's write and a little clock skew between hosts.
func liveFor(interval time.Duration) time.Duration { return 3*interval + 2*time.Second }

// IsLive reports whether a host that last ticked at last, sampling every
// interval, is live at now.
func IsLive(last time.Time, interval time.Duration, now time.Time) bool {
	return !last.IsZero() && now.Sub(last) < liveFor(interval)
}
