package handlers

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
)

type snapshotEvent struct {
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
}

// snapshot serves GET /api/snapshot: the newest event of every topic that
// has one, keyed by topic ({"cpu": {"id": ..., "data": {...}}, ...}), for
// scripts and status bars that want one value now and no stream. The
// opt-in topics (Options.OptIn) are left out: a rollup is no "value now".
func (s *server) snapshot(c *gin.Context) {
	es, _, ok := s.source(c) // ?host=, as /api/history
	if !ok {
		return
	}
	out := make(map[string]snapshotEvent, len(s.topics))
	restricted := isRestricted(c)
	for _, e := range es.Latest() {
		if slices.Contains(s.cfg.OptIn, e.Topic) {
			continue
		}
		e = e.For(restricted)
		out[e.Topic] = snapshotEvent{ID: e.ID, Data: e.Data}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}
