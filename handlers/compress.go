package handlers

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/klauspost/compress/gzhttp"
)

// compressMin is the smallest answer worth compressing: below about a
// kilobyte gzip's header and the CPU cost buy nothing.
const compressMin = 1024

// newCompressAPI returns middleware that gzips the JSON answers of /api/*
// for clients that accept it (an hour of raw history is megabytes of
// repetitive JSON and shrinks about tenfold). Everything else passes
// untouched: /events above all, whose stream must reach the client as each
// event is written, not when a compressor's buffer fills.
func newCompressAPI() (gin.HandlerFunc, error) {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(compressMin), gzhttp.EnableZstd(false))
	if err != nil {
		return nil, fmt.Errorf("gzip middleware: %w", err)
	}
	return func(c *gin.Context) {
		if !strings.HasPrefix(c.Request.URL.Path, "/api/") {
			c.Next()
			return
		}
		orig := c.Writer
		wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.Writer = &compressWriter{ResponseWriter: orig, w: w}
			c.Request = r
			c.Next()
		})).ServeHTTP(orig, c.Request)
		c.Writer = orig
	}, nil
}

// compressWriter sends a handler's headers and body through the gzip
// writer w, and keeps gin's own writer (which w writes to) for what gin
// asks about the answer: its status and size, as they reach the client.
type compressWriter struct {
	gin.ResponseWriter
	w http.ResponseWriter
}

func (c *compressWriter) Header() http.Header               { return c.w.Header() }
func (c *compressWriter) WriteHeader(code int)              { c.w.WriteHeader(code) }
func (c *compressWriter) Write(b []byte) (int, error)       { return c.w.Write(b) }
func (c *compressWriter) WriteString(s string) (int, error) { return c.w.Write([]byte(s)) }
func (c *compressWriter) Flush() {
	if f, ok := c.w.(http.Flusher); ok {
		f.Flush()
	}
}

// WriteHeaderNow leaves the status to the gzip writer, which sends it with
// the first bytes it lets through (or on close, for an empty body).
func (c *compressWriter) WriteHeaderNow() {}
