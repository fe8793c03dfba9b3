package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
)

// logRequest logs every request but streams (which log their own open and
// close lines) at debug level, with any token redacted from the URL.
func (s *server) logRequest(c *gin.Context) {
	if c.Request.Context().Value(headFallbackKey{}) != nil {
		c.Next() // the outer HEAD request logs
		return
	}
	start := time.Now()
	c.Next()
	if c.Request.URL.Path == "/events" && c.Writer.Status() == 200 {
		return
	}
	level := slog.LevelDebug
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	s.cfg.Logger.Log(c.Request.Context(), level, "request",
		"method", c.Request.Method, "url", redactURL(c.Request.URL), "status", c.Writer.Status(),
		"bytes", c.Writer.Size(), "duration_ms", time.Since(start).Milliseconds(), "remote", c.Request.RemoteAddr)
}

// redactURL returns the path and query with every token parameter's value
// replaced, so no log line ever holds a secret. It works on the raw query
// (not a re-encoding) so what is logged is otherwise what was sent.
func redactURL(u *url.URL) string {
	if u.RawQuery == "" {
		return u.EscapedPath()
	}
	parts := strings.Split(u.RawQuery, "&")
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if name, err := url.QueryUnescape(k); err != nil || strings.EqualFold(name, "token") {
			// An undecodable key could hide "token"; redact it too.
			parts[i] = k + "=REDACTED"
		}
	}
	return u.EscapedPath() + "?" + strings.Join(parts, "&")
}

// streamLog writes the open and close lines of one /events stream.
type streamLog struct {
	// The logger is shared, and the stream's own attributes are added to
	// each of its two lines: a logger made With them would be a copy of
	// the handler per stream (about 250 bytes, kept for the stream's life).
	log      *slog.Logger
	remote   string
	start    time.Time
	topics   string
	replayed int
}

func topicSet(topics []string) string {
	if len(topics) == 0 {
		return "all"
	}
	return strings.Join(topics, ",")
}

func (s *server) openStreamLog(c *gin.Context, topics string, resume bool, after string, replayed int, complete bool) *streamLog {
	l := &streamLog{log: s.cfg.Logger, remote: c.Request.RemoteAddr,
		start: time.Now(), topics: topics, replayed: replayed}
	args := []any{"remote", l.remote, "topics", l.topics}
	if resume {
		// Ids are opaque and public (they're in every event); cap the
		// length so a huge junk header can't bloat the log.
		if len(after) > 64 {
			after = after[:64] + "..."
		}
		args = append(args, "after", after, "replayed", replayed, "complete", complete)
	}
	l.log.Info("stream opened", args...)
	return l
}

func (l *streamLog) closed(reason string, err error) {
	args := []any{"remote", l.remote, "topics", l.topics, "reason", reason,
		"duration_ms", time.Since(l.start).Milliseconds(), "replayed", l.replayed}
	if err != nil {
		args = append(args, "err", err)
	}
	l.log.Info("stream closed", args...)
}

// writeFailure names why a write or flush to a stream failed: the client
// went away, it stopped reading until the write deadline passed (slow), or
// something else (returned as the error to log).
func writeFailure(ctx context.Context, err error) (string, error) {
	switch {
	case err == nil:
		return CloseClientGone, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Checked first: net/http cancels the request's context on any
		// failed write, deadline included.
		return CloseSlow, nil
	case ctx.Err() != nil || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET):
		return CloseClientGone, nil
	}
	return CloseWriteFailed, err
}
