package handlers

import (
	"time"

	"vitals/history"
	"vitals/hostinfo"
)

// hostStatus is the "status" event of a stream of another host (a --redis
// fleet's ?host=): whether the host is publishing, by the rule /api/hosts
// and the host picker use (hostinfo.IsLive), so the page's badge, its
// "Now" line and the picker agree. It carries no id, like hello: it is the
// server's word on the stream now, not part of the history, and a new
// stream (a reload) is told again right after its catch-up.
type hostStatus struct {
	T        int64  `json:"t"` // unix ms, the server's clock when it decided: a page moves its axis from it
	Host     string `json:"host"`
	Live     bool   `json:"live"`
	LastSeen int64  `json:"last_seen"` // unix ms of the host's newest tick, 0 when never
}

// hostWatch follows one stream's host: the newest tick it has seen and
// what the stream was last told. Used by the stream's own goroutine only.
type hostWatch struct {
	host     string
	interval time.Duration
	lastSeen int64 // unix ms
	live     bool  // what the stream was told (or assumed before: live)
}

// lastSeener is a Source that knows its host's last sign of life apart
// from the ticks it holds: a --redis feed, whose host's record is stamped
// when the host announces itself and at every tick it writes.
type lastSeener interface {
	// LastSeen is the host's newest sign of life; zero when unknown.
	LastSeen() time.Time
}

// newHostWatch watches the host of info for a stream of es; nil for the
// server's own host, which is up as long as its stream is (its sampler
// runs in this process, and a late tick is the sampler's own mark).
//
// The host's last sign of life is its newest tick es holds or, when es
// knows it, the record's stamp, whichever is newer: the stamp is what
// /api/hosts judges by, and a host that has just started has announced
// itself before its first tick reaches the stream, so judging by the
// ticks alone would call it offline at stream start and live again a
// moment later.
func (s *server) newHostWatch(es history.Source, info hostinfo.Info) *hostWatch {
	if info.Hostname == "" || info.Hostname == s.cfg.Host.Hostname {
		return nil
	}
	w := &hostWatch{host: info.Hostname, interval: info.Interval, live: true}
	for _, e := range es.Latest() {
		w.lastSeen = max(w.lastSeen, e.T)
	}
	if ls, ok := es.(lastSeener); ok {
		if t := ls.LastSeen(); !t.IsZero() {
			w.lastSeen = max(w.lastSeen, t.UnixMilli())
		}
	}
	return w
}

// period is how often the stream checks the host: once an interval, and
// at least once a second so "offline" comes promptly for a slow sampler.
func (w *hostWatch) period() time.Duration {
	return min(max(w.interval, 100*time.Millisecond), time.Second)
}

// seen takes the events the stream is about to write: a host that had
// been reported offline is live again, and buf gets the status saying so.
func (w *hostWatch) seen(buf []byte, events []*history.Event, now time.Time) []byte {
	for _, e := range events {
		w.lastSeen = max(w.lastSeen, e.T)
	}
	if len(events) == 0 || w.live {
		return buf
	}
	w.live = true
	return w.append(buf, now)
}

// check appends a status to buf when the host stopped publishing since
// the stream was last told it was live.
func (w *hostWatch) check(buf []byte, now time.Time) []byte {
	if !w.live || hostinfo.IsLive(time.UnixMilli(w.lastSeen), w.interval, now) {
		return buf
	}
	w.live = false
	return w.append(buf, now)
}

func (w *hostWatch) append(buf []byte, now time.Time) []byte {
	return appendJSON(buf, "status", hostStatus{T: now.UnixMilli(), Host: w.host, Live: w.live, LastSeen: w.lastSeen})
}
