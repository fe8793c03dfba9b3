package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// checkSizes answers an oversized request target with 414 and oversized
// headers with 431, both as JSON like every other error of the API.
func (s *server) checkSizes(c *gin.Context) {
	l := s.ops.limits
	r := c.Request
	if n := len(r.RequestURI); n > l.MaxURLBytes {
		jsonError(c, http.StatusRequestURITooLong, "request URL is "+strconv.Itoa(n)+" bytes; at most "+strconv.Itoa(l.MaxURLBytes)+" are accepted")
		return
	}
	n := len(r.Host) + len("Host: \r\n")
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + len(": \r\n")
		}
	}
	if n > l.MaxHeaderBytes {
		jsonError(c, http.StatusRequestHeaderFieldsTooLarge, "request headers are "+strconv.Itoa(n)+" bytes; at most "+strconv.Itoa(l.MaxHeaderBytes)+" are accepted")
		return
	}
	c.Next()
}

// readMethods are all the server answers to: it changes nothing.
const readMethods = "GET, HEAD, OPTIONS"

// headFallbackKey marks a HEAD request re-dispatched as GET, so it is
// logged once.
type headFallbackKey struct{}

// methods answers 405 (with Allow) to anything but GET, HEAD and OPTIONS,
// answers OPTIONS that CORS didn't, and serves HEAD for any GET route that
// has no HEAD of its own by running the GET handler (net/http drops the
// body of a HEAD response).
func (s *server) methods(engine *gin.Engine) gin.HandlerFunc {
	return func(c *gin.Context) {
		switch c.Request.Method {
		case http.MethodGet:
		case http.MethodHead:
			if c.FullPath() == "" && strings.Contains(c.Writer.Header().Get("Allow"), http.MethodGet) {
				// gin found the path only under GET (and set Allow for
				// its 405): route it again as GET.
				r := c.Request.Clone(context.WithValue(c.Request.Context(), headFallbackKey{}, true))
				r.Method = http.MethodGet
				c.Request = r
				c.Writer.Header().Del("Allow")
				c.Status(http.StatusOK)
				engine.HandleContext(c)
				c.Abort()
				return
			}
		case http.MethodPost:
			if writePaths[c.Request.URL.Path] && s.cfg.Alerts != nil {
				if !checkWrite(c) {
					return
				}
				break
			}
			c.Header("Allow", readMethods)
			jsonError(c, http.StatusMethodNotAllowed, "method "+c.Request.Method+" not allowed: vitals is read-only ("+readMethods+")")
			return
		case http.MethodOptions:
			c.Header("Allow", readMethods)
			c.AbortWithStatus(http.StatusNoContent)
			return
		default:
			c.Header("Allow", readMethods)
			jsonError(c, http.StatusMethodNotAllowed, "method "+c.Request.Method+" not allowed: vitals is read-only ("+readMethods+")")
			return
		}
		c.Next()
	}
}
