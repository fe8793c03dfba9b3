package handlers

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// corsPolicy lets the pages of other origins read /events and /api/*.
type corsPolicy struct {
	any     bool
	origins map[string]bool
}

func newCORSPolicy(origins []string) corsPolicy {
	p := corsPolicy{origins: map[string]bool{}}
	for _, o := range origins {
		if o == "*" {
			p.any = true
		}
		// Origins compare as browsers send them: scheme and host in lower
		// case, no trailing slash.
		p.origins[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
	}
	return p
}

func (p corsPolicy) allows(origin string) bool {
	return origin != "" && (p.any || p.origins[strings.ToLower(origin)])
}

// corsAllowHeaders are the request headers the widely used SSE clients
// send, so none of them fails its preflight ("Failed to fetch"):
//   - Last-Event-ID: every client, when it resumes;
//   - Authorization: a client given the token as a header (the eventsource
//     package through its fetch option, @microsoft/fetch-event-source);
//   - Accept: every client (text/event-stream, safelisted, but a value
//     with a parameter is not);
//   - Cache-Control, Pragma: polyfills and fetch-based clients that ask
//     caches to stay out of the way;
//   - X-Requested-With: polyfills and jQuery-era code that mark their
//     requests;
//   - Content-Type: fetch-based clients given a JSON body or content type
//     by habit, even on GET.
//
// A fixed list rather than echoing whatever a preflight asks for: a header
// vitals doesn't know stays refused, so its absence is noticed.
const corsAllowHeaders = "Last-Event-ID, Authorization, Accept, Cache-Control, Pragma, X-Requested-With, Content-Type"

// corsPreflightMaxAge lets a browser cache a preflight for 10 minutes (the
// most Chromium honours is 2 hours; 10 minutes keeps a config change quick
// to take effect).
const corsPreflightMaxAge = "600"

// cors adds CORS headers for an allowed Origin on /events and /api/*, and
// answers their preflight requests. Other origins and paths get no CORS
// header at all, so the browser keeps the response from the page.
func (s *server) cors(c *gin.Context) {
	p := c.Request.URL.Path
	if p != "/events" && !strings.HasPrefix(p, "/api/") {
		c.Next()
		return
	}
	h := c.Writer.Header()
	// Responses differ by Origin whether or not this one is allowed: a
	// shared cache must not hand one origin's answer to another.
	addVary(h, "Origin")
	origin := c.Request.Header.Get("Origin")
	if !s.ops.cors.allows(origin) {
		c.Next()
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if c.Request.Method == http.MethodOptions && c.Request.Header.Get("Access-Control-Request-Method") != "" {
		addVary(h, "Access-Control-Request-Method")
		addVary(h, "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", corsPreflightMaxAge)
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	c.Next()
}

// addVary adds v to Vary once (a HEAD request routed again as GET passes
// here twice).
func addVary(h http.Header, v string) {
	for _, have := range h.Values("Vary") {
		if strings.EqualFold(have, v) {
			return
		}
	}
	h.Add("Vary", v)
}
