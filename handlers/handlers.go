package handlers

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"vitals/hostinfo"
)

// Options is everything the handlers need, built by internal/app.
type Options struct {
	// Sources is where every event comes from: ?host= and /api/hosts
	// (required). A server with one host passes OneHost. See fleet.go.
	Sources  Sources
	Host     hostinfo.Info // this server's own host
	Instance string        // changes on every server start
	// Version is this build's version (internal/buildinfo), sent in hello
	// and /healthz so a client can tell which build answers it.
	Version   string
	Interval  time.Duration // sampling interval
	Retention time.Duration // --history
	Retry     time.Duration // the reconnect delay sent to browsers
	Heartbeat time.Duration // comment line interval on idle streams
	// WriteTimeout bounds each write to a stream: a client that doesn't
	// take a write within it is dropped (it resumes by Last-Event-ID).
	WriteTimeout time.Duration
	Static       fs.FS        // static assets (dashboard JS and CSS)
	Health       func() error // nil error: sampler and store are working
	Logger       *slog.Logger
	Access       Access         // tokens, CORS, Host check: ops.go
	Limits       Limits         // stream count and request sizes: ops.go
	Metrics      http.Handler   // serves /metrics when not nil
	Observer     StreamObserver // told about streams, for /metrics; may be nil
	// Degraded, if set, names a problem the server works around (Redis
	// away: ticks buffered, streams on heartbeat): /healthz then answers
	// 200 with status "degraded" and the reason.
	Degraded func() error
	// Alerts serves /api/alerts*; nil leaves those routes out.
	Alerts Alerts
	// Tiers finds each host's rollups for /api/range; nil: Sources, if it
	// implements TierStores, else /api/range reads the raw window only.
	Tiers TierStores
	// OptIn lists the topics of Sources sent only to clients that name
	// them (the minute rollups): answers that take no topic list, such as
	// /api/snapshot, leave them out.
	OptIn []string
	// MinuteRetention and HourRetention are how far back the rollup tiers
	// reach, which /api/range uses to pick a tier; zero: the defaults.
	MinuteRetention, HourRetention time.Duration
}

// New returns the HTTP handler for every route.
func New(cfg Options) (*Handler, error) {
	if cfg.Sources == nil || cfg.Health == nil {
		return nil, errors.New("handlers: Sources and Health are required")
	}
	if cfg.Retry <= 0 || cfg.Heartbeat <= 0 || cfg.Interval <= 0 {
		return nil, errors.New("handlers: Retry, Heartbeat and Interval must be positive")
	}
	if cfg.WriteTimeout <= 0 {
		// Long enough for a congested but alive client to take a tick
		// (or a 5 MB replay chunk by chunk); short enough that a dead peer
		// doesn't pin its goroutine for long.
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &server{cfg: cfg, sources: cfg.Sources, topics: cfg.Sources.Topics(), tiers: tierStores(cfg)}
	s.ops = newOpsState(&s.cfg)
	compress, err := newCompressAPI()
	if err != nil {
		return nil, err
	}
	s.writers = newWriters(s)

	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(s.recover)
	s.useOps(r) // before any route, so every route gets it
	r.Use(compress)
	r.NoRoute(func(c *gin.Context) { jsonError(c, http.StatusNotFound, "no such page") })
	r.NoMethod(func(c *gin.Context) { jsonError(c, http.StatusMethodNotAllowed, "method not allowed") })

	r.GET("/events", s.events)
	r.GET("/api/history", s.history)
	r.GET("/api/range", s.rangeQuery)
	r.GET("/api/hosts", s.hosts)
	r.GET("/api/fleet", s.fleet)
	r.GET("/healthz", s.healthz)
	s.registerAlerts(r)
	s.registerOps(r)
	if err := registerPages(r, cfg); err != nil {
		return nil, err
	}
	return &Handler{Handler: r, s: s}, nil
}

// Handler serves every route. Streams take their connections over from
// net/http (see stream), so http.Server.Shutdown doesn't wait for them:
// call Wait after the event source has ended every subscription.
type Handler struct {
	http.Handler
	s *server
}

// Wait blocks until every /events stream has returned, or ctx is done.
func (h *Handler) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { // ends when the streams do; Wait's caller owns both
		h.s.streams.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type server struct {
	cfg     Options
	sources Sources
	topics  []string
	tiers   TierStores // nil: no rollups
	ops     *opsState
	streams sync.WaitGroup // running /events streams, and the writers' workers
	writers *writers       // serve the live ticks of idle HTTP/1.1 streams
}

// recover turns a panic in a handler into a logged 500 (if nothing was
// written yet) instead of a dropped connection with no trace.
func (s *server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.cfg.Logger.Error("handler panic", "path", c.Request.URL.Path, "err", fmt.Sprint(r))
			if !c.Writer.Written() {
				jsonError(c, http.StatusInternalServerError, "internal error")
			}
			c.Abort()
		}
	}()
	c.Next()
}

// jsonError answers {"error": msg} with status.
func jsonError(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": msg})
}
