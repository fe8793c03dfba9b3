package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"vitals/history"
	"vitals/hostinfo"
)

// Sources finds a host's history by name: /events, /api/history and
// /api/snapshot take ?host=, and /api/hosts lists them. With the embedded
// bbolt store a server knows only its own host; with Redis, every host that
// publishes there (OneHost serves a single host's history.Source).
type Sources interface {
	// Source returns host's events and description; "" is this server's
	// own host. An unknown host is a *history.UnknownHostError; a backend
	// that can't answer now is history.ErrUnavailable.
	Source(ctx context.Context, host string) (history.Source, hostinfo.Info, error)
	// Hosts lists the known hosts, by name.
	Hosts(ctx context.Context) ([]hostinfo.Status, error)
	// Topics is every topic any host publishes, in display order.
	Topics() []string
}

// OneHost is the Sources of a server that knows only its own host (the
// bbolt backend): events are that host's, described by host and sampled
// every interval.
func OneHost(events history.Source, host hostinfo.Info, interval time.Duration) Sources {
	return localSources{events: events, host: host, interval: interval}
}

// localSources serves the one host of a bbolt-backed server.
type localSources struct {
	events   history.Source
	host     hostinfo.Info
	interval time.Duration
}

func (l localSources) Source(_ context.Context, host string) (history.Source, hostinfo.Info, error) {
	if host != "" && host != l.host.Hostname {
		return nil, hostinfo.Info{}, &history.UnknownHostError{Host: host, Known: []string{l.host.Hostname}}
	}
	return l.events, l.host, nil
}

func (l localSources) Hosts(context.Context) ([]hostinfo.Status, error) {
	st := hostinfo.Status{Info: l.host, Self: true}
	for _, e := range l.events.Latest() {
		if t := time.UnixMilli(e.T); t.After(st.LastSeen) {
			st.LastSeen = t
		}
	}
	st.Live = hostinfo.IsLive(st.LastSeen, l.interval, time.Now())
	return []hostinfo.Status{st}, nil
}

func (l localSources) Topics() []string { return l.events.Topics() }

// source resolves ?host= for a JSON endpoint. On failure it has answered:
// 404 naming the known hosts, or 503 while the backend is away.
func (s *server) source(c *gin.Context) (history.Source, hostinfo.Info, bool) {
	es, info, err := s.sources.Source(c.Request.Context(), c.Query("host"))
	if err == nil {
		return es, s.withDefaults(info), true
	}
	s.sourceError(c, err)
	return nil, hostinfo.Info{}, false
}

// sourceError answers a failed host lookup.
func (s *server) sourceError(c *gin.Context, err error) {
	var unknown *history.UnknownHostError
	switch {
	case errors.As(err, &unknown):
		// A client bug (the names come from /api/hosts), not a passing
		// condition, so even /events answers 404: a browser's
		// history.Source stops for good, which is right for a wrong name.
		c.AbortWithStatusJSON(http.StatusNotFound, gin.H{
			"error": "unknown host " + strconv.Quote(unknown.Host),
			"known": unknown.Known,
		})
	case errors.Is(err, history.ErrUnavailable), errors.Is(err, history.ErrClosed):
		c.Header("Retry-After", "2")
		jsonError(c, http.StatusServiceUnavailable, "history unavailable, retry soon: "+err.Error())
	default:
		jsonError(c, http.StatusInternalServerError, "find host: "+err.Error())
	}
}

// streamSource is source for /events: while the backend is away (Redis
// restarting) or shutting down, it answers 200 with a short retry instead
// of an error status, which would make the browser give up for good.
func (s *server) streamSource(c *gin.Context) (history.Source, hostinfo.Info, bool) {
	es, info, err := s.sources.Source(c.Request.Context(), c.Query("host"))
	if errors.Is(err, history.ErrUnavailable) || errors.Is(err, history.ErrClosed) {
		answerRetry(c, "", soonRetry, soonJitter)
		return nil, hostinfo.Info{}, false
	}
	if err != nil {
		s.sourceError(c, err)
		return nil, hostinfo.Info{}, false
	}
	return es, s.withDefaults(info), true
}

// withDefaults fills a host's interval and retention from this server's
// when the source didn't say.
func (s *server) withDefaults(h hostinfo.Info) hostinfo.Info {
	if h.Interval <= 0 {
		h.Interval = s.cfg.Interval
	}
	if h.Retention <= 0 {
		h.Retention = s.cfg.Retention
	}
	return h
}

type hostJSON struct {
	Name     string `json:"name"`
	Live     bool   `json:"live"`
	Self     bool   `json:"self"`
	LastSeen int64  `json:"last_seen"` // unix ms, 0 when never
	hostinfo.Desc
}

// hosts serves GET /api/hosts: {"self": name, "hosts": [...]}.
func (s *server) hosts(c *gin.Context) {
	list, err := s.sources.Hosts(c.Request.Context())
	if err != nil {
		c.Header("Retry-After", "2")
		jsonError(c, http.StatusServiceUnavailable, "list hosts: "+err.Error())
		return
	}
	out := make([]hostJSON, 0, len(list))
	for _, h := range list {
		info := s.withDefaults(h.Info)
		j := hostJSON{Name: info.Hostname, Live: h.Live, Self: h.Self, Desc: info.Desc()}
		if !h.LastSeen.IsZero() {
			j.LastSeen = h.LastSeen.UnixMilli()
		}
		out = append(out, j)
	}
	slices.SortFunc(out, func(a, b hostJSON) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"self": s.cfg.Host.Hostname, "hosts": out})
}
