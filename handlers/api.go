package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"vitals/history"
)

// maxLimit caps one /api/history answer. A full hour of five topics is
// about 18,000 events; 100,000 leaves room for longer windows while keeping
// one response to a few tens of megabytes.
const maxLimit = 100_000

// parseTopics reads ?topics=cpu,memory for the server's topics.
func (s *server) parseTopics(c *gin.Context) ([]string, bool) {
	return parseTopics(c, s.topics)
}

// parseTopics splits ?topics=cpu,memory into names, each once; nil means
// every topic. An unknown name answers 400 naming it and the valid ones,
// and returns false.
func parseTopics(c *gin.Context, valid []string) ([]string, bool) {
	var out []string
	for _, t := range strings.Split(c.Query("topics"), ",") {
		t = strings.TrimSpace(t)
		if t == "" || slices.Contains(out, t) {
			continue
		}
		if !slices.Contains(valid, t) {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{
				"error": "unknown topic " + strconv.Quote(t),
				"valid": valid,
			})
			return nil, false
		}
		out = append(out, t)
	}
	return out, true
}

type apiEvent struct {
	ID    string          `json:"id"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

type historyResponse struct {
	Head     string     `json:"head"`
	Oldest   string     `json:"oldest"`
	Complete bool       `json:"complete"`
	Reason   string     `json:"reason,omitempty"`
	Events   []apiEvent `json:"events"`
}

// history serves GET /api/history?topics=&after=&limit=.
func (s *server) history(c *gin.Context) {
	topics, ok := s.parseTopics(c)
	if !ok {
		return
	}
	limit := 0
	if raw, set := c.GetQuery("limit"); set {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxLimit {
			jsonError(c, http.StatusBadRequest, "limit must be a whole number from 1 to "+strconv.Itoa(maxLimit))
			return
		}
		limit = n
	}
	after, set := c.GetQuery("after")
	if set && after == "" {
		jsonError(c, http.StatusBadRequest, "after must be an event id")
		return
	}
	es, _, ok := s.source(c)
	if !ok {
		return
	}
	page, err := es.Range(after, topics, limit)
	if errors.Is(err, history.ErrBadAfter) {
		jsonError(c, http.StatusBadRequest, "after is not an event id of this server")
		return
	}
	if err != nil {
		jsonError(c, http.StatusInternalServerError, "read history: "+err.Error())
		return
	}
	resp := historyResponse{Head: page.Head, Oldest: page.Oldest, Complete: page.Complete, Reason: page.Reason,
		Events: make([]apiEvent, len(page.Events))}
	restricted := isRestricted(c)
	for i, e := range page.Events {
		e = e.For(restricted)
		resp.Events[i] = apiEvent{ID: e.ID, Event: e.Topic, Data: e.Data}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, resp)
}

// healthz answers 200 while the sampler and the store work, else 503 with
// the reason.
func (s *server) healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if err := s.cfg.Health(); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unhealthy", "error": err.Error(), "version": s.cfg.Version})
		return
	}
	if s.cfg.Degraded != nil {
		if err := s.cfg.Degraded(); err != nil {
			// Still 200: every instance shares the same Redis, so a load
			// balancer pulling them all would only make things worse.
			c.JSON(http.StatusOK, gin.H{"status": "degraded", "reason": err.Error(), "version": s.cfg.Version})
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "version": s.cfg.Version})
}
