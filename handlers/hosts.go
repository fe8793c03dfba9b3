package handlers

import (
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// hostPolicy is the DNS-rebinding guard. A page on evil.example can make
// its own name resolve to 127.0.0.1 and then read a loopback-only vitals as
// "same origin"; the one thing it can't change is the Host header its
// requests carry. So while vitals listens on loopback only, a request must
// name a loopback host (or one the operator allowed).
type hostPolicy struct {
	enforce bool
	allowed map[string]bool
}

func newHostPolicy(a Access) hostPolicy {
	p := hostPolicy{enforce: a.LoopbackOnly || len(a.AllowedHosts) > 0, allowed: map[string]bool{}}
	for _, h := range a.AllowedHosts {
		p.allowed[normalHost(h)] = true
	}
	return p
}

// normalHost lower-cases a Host value and drops its port and any trailing
// dot ("LocalHost.:8080" and "localhost" are the same name).
func normalHost(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	return strings.ToLower(h)
}

func (p hostPolicy) allows(hostHeader string) bool {
	if !p.enforce || hostHeader == "" {
		// No Host at all is an HTTP/1.0 tool, never a browser.
		return true
	}
	h := normalHost(hostHeader)
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || p.allowed[h] {
		// Browsers resolve *.localhost to loopback themselves (RFC 6761),
		// so no DNS answer can point those names elsewhere.
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// checkHost refuses requests whose Host isn't allowed, with a plain-text
// 403 a person can act on.
func (s *server) checkHost(c *gin.Context) {
	if s.ops.hosts.allows(c.Request.Host) {
		c.Next()
		return
	}
	c.Header("Content-Type", "text/plain; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.String(http.StatusForbidden, "vitals: requests for host %q are refused: this server listens on loopback and only answers "+
		"to localhost and loopback addresses (a protection against DNS rebinding). If you reach it through a proxy or "+
		"another name, start vitals with --allowed-hosts=%s\n", normalHost(c.Request.Host), normalHost(c.Request.Host))
	c.Abort()
}
