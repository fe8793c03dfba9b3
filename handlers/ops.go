package handlers

import (
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// Access says who may use the server. The zero value is an open server
// (what a loopback-only default needs).
type Access struct {
	// Token grants every route; ReadToken only the read routes (/events,
	// /api/*, /embed). Both empty: no token is asked for.
	Token, ReadToken string
	// MetricsPublic serves /metrics without a token even when tokens are set.
	MetricsPublic bool
	// CORSOrigins are exact origins ("https://example.com") that may read
	// /events and /api/* from their pages, or "*" for any.
	CORSOrigins []string
	// LoopbackOnly is set when the server listens on loopback only: then a
	// request whose Host is not a loopback name or in AllowedHosts is a
	// DNS-rebinding attempt and is refused. With AllowedHosts set the check
	// runs on any address.
	LoopbackOnly bool
	AllowedHosts []string
}

// Limits bound what one request or the whole server may take. Zero values
// get the defaults noted.
type Limits struct {
	// MaxClients bounds concurrent /events streams (default 10,000). Past
	// it a stream is answered 200 with a retry of a few seconds and closed:
	// an error status would make the browser give up for good.
	MaxClients int
	// MaxURLBytes bounds the request target (default 8 KiB, as common
	// proxies do; a real vitals URL is under 200 bytes). Longer: 414.
	MaxURLBytes int
	// MaxHeaderBytes bounds all request headers together (default 64 KiB:
	// generous for the cookies of other apps on localhost). Longer: 431.
	// The http.Server's own MaxHeaderBytes must be larger for this JSON
	// answer to be reached; past it net/http answers 431 itself.
	MaxHeaderBytes int
}

// StreamObserver is told about /events streams, for /metrics. Calls come
// from request goroutines, concurrently.
type StreamObserver interface {
	StreamOpened(topics string)
	StreamClosed(topics, reason string)
	StreamRefused()
}

// Reasons a stream closed, as logged and passed to StreamClosed.
const (
	CloseClientGone  = "client gone"
	CloseSlow        = "slow"
	CloseWriteFailed = "write failed"
	CloseShutdown    = "shutdown"
)

type nopObserver struct{}

func (nopObserver) StreamOpened(string)         {}
func (nopObserver) StreamClosed(string, string) {}
func (nopObserver) StreamRefused()              {}

// opsState is the server's state for access control and limits.
type opsState struct {
	auth    authState
	cors    corsPolicy
	hosts   hostPolicy
	limits  Limits
	streams atomic.Int64 // open /events streams, for MaxClients
}

func newOpsState(cfg *Options) *opsState {
	l := cfg.Limits
	if l.MaxClients <= 0 {
		l.MaxClients = 10_000
	}
	if l.MaxURLBytes <= 0 {
		l.MaxURLBytes = 8 << 10
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = 64 << 10
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	return &opsState{
		auth:   newAuthState(cfg.Access),
		cors:   newCORSPolicy(cfg.Access.CORSOrigins),
		hosts:  newHostPolicy(cfg.Access),
		limits: l,
	}
}

// useOps installs the middleware every route passes through, in order:
// request log, Host check, size limits, CORS, methods, tokens. It must run
// before any route is registered; gin also applies it to its 404 and 405
// answers, so routes added later (and unknown paths) are covered too.
func (s *server) useOps(r *gin.Engine) {
	r.Use(s.logRequest, s.checkHost, s.checkSizes, s.cors, s.methods(r), s.authorize)
}

// registerOps adds the operational routes: the snapshot and /metrics.
// HEAD of any GET route is served by the methods middleware, except
// /events: that fallback runs the GET handler, which would open a stream,
// so /events answers HEAD itself (headers only).
func (s *server) registerOps(r *gin.Engine) {
	r.HEAD("/events", s.events)
	r.GET("/api/snapshot", s.snapshot)
	if s.cfg.Metrics != nil {
		r.GET("/metrics", gin.WrapH(s.cfg.Metrics))
	}
}

// admitStream counts a new stream against MaxClients. When it returns
// false the caller must answer with refuseStream; when true it must call
// s.ops.streams.Add(-1) when the stream ends.
func (s *server) admitStream() bool {
	if s.ops.streams.Add(1) > int64(s.ops.limits.MaxClients) {
		s.ops.streams.Add(-1)
		return false
	}
	return true
}

// refuseStream answers a stream over the limit: 200 (an error status would
// stop the browser's EventSource for good), a retry of three to six
// seconds so a crowd of refused clients spreads out, and the end.
func (s *server) refuseStream(c *gin.Context) {
	s.cfg.Observer.StreamRefused()
	s.cfg.Logger.Debug("stream refused: too many clients", "remote", c.Request.RemoteAddr, "max_clients", s.ops.limits.MaxClients)
	c.Writer.Header().Set("Connection", "close")
	// Longer than a shutdown's retry: the server is busy, not going away.
	answerRetry(c, "too many clients, retry later", 3*time.Second, 3*time.Second)
}
