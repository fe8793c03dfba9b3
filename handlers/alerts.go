package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"vitals/alerts"
)

// Alerts is what the alert API needs from the program (the app's alert
// runtime). Every method is called from request goroutines concurrently.
type Alerts interface {
	// Current is the body of GET /api/alerts: instances firing and
	// pending, silences, rules with thresholds, targets (redacted).
	Current(now time.Time) any
	// Silence applies a silence and records it in the log.
	Silence(s alerts.Silence, now time.Time) (alerts.Silence, error)
	// SendTest sends one test notification to every target.
	SendTest(ctx context.Context) []TestResult
}

// TestResult is one target's answer to a test notification.
type TestResult struct {
	Target string `json:"target"` // redacted
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
}

// alertHistoryLimit caps GET /api/alerts/history: alert records are rare
// (a few per episode), so this is days of a noisy host.
const alertHistoryLimit = 1000

// writePaths are the only routes that change something; they take POST,
// need the full token, and a JSON body (see checkWrite).
var writePaths = map[string]bool{"/api/alerts/silences": true, "/api/alerts/test": true}

func (s *server) registerAlerts(r *gin.Engine) {
	if s.cfg.Alerts == nil {
		return
	}
	r.GET("/api/alerts", s.alertsCurrent)
	r.GET("/api/alerts/history", s.alertsHistory)
	r.POST("/api/alerts/silences", s.alertsSilence)
	r.POST("/api/alerts/test", s.alertsTest)
}

func (s *server) alertsCurrent(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, s.cfg.Alerts.Current(time.Now()))
}

// alertsHistory serves GET /api/alerts/history?host=&limit=: the alert
// records in the retained log, newest first, each record once (the log
// carries refreshed copies of open alerts; see the app).
func (s *server) alertsHistory(c *gin.Context) {
	limit := 200
	if raw, set := c.GetQuery("limit"); set {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > alertHistoryLimit {
			paramError(c, "limit", "limit must be a whole number from 1 to "+strconv.Itoa(alertHistoryLimit))
			return
		}
		limit = n
	}
	es, _, ok := s.source(c)
	if !ok {
		return
	}
	type entry struct {
		EventID string          `json:"event_id"`
		Record  json.RawMessage `json:"record"`
	}
	out := []entry{}
	if !slices.Contains(es.Topics(), "alerts") {
		// A log without alerts (an older vitals publishing to Redis).
		c.JSON(http.StatusOK, gin.H{"records": out})
		return
	}
	page, err := es.Range("", []string{"alerts"}, 0)
	if err != nil {
		jsonError(c, http.StatusInternalServerError, "read history: "+err.Error())
		return
	}
	seen := map[string]bool{}
	for i := len(page.Events) - 1; i >= 0 && len(out) < limit; i-- {
		e := page.Events[i]
		var head struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(e.Data, &head) != nil || seen[head.ID] {
			continue
		}
		seen[head.ID] = true
		out = append(out, entry{EventID: e.ID, Record: e.Data})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"head": page.Head, "oldest": page.Oldest, "records": out})
}

// silenceRequest is the body of POST /api/alerts/silences: until is a
// time (RFC 3339) or a duration from now ("2h").
type silenceRequest struct {
	Rule    string `json:"rule"`
	Item    string `json:"item"`
	Until   string `json:"until"`
	Comment string `json:"comment"`
}

func (s *server) alertsSilence(c *gin.Context) {
	var req silenceRequest
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		paramError(c, "body", "the body must be a JSON object with rule, item, until and comment: "+err.Error())
		return
	}
	now := time.Now()
	if req.Rule == "" {
		paramError(c, "rule", "rule is required")
		return
	}
	until, err := parseUntil(req.Until, now)
	if err != nil {
		paramError(c, "until", err.Error())
		return
	}
	if len(req.Comment) > 1000 {
		paramError(c, "comment", "comment is longer than 1000 bytes")
		return
	}
	sil, err := s.cfg.Alerts.Silence(alerts.Silence{Rule: req.Rule, Item: req.Item, Until: until, Comment: req.Comment}, now)
	if err != nil {
		paramError(c, "rule", err.Error())
		return
	}
	c.JSON(http.StatusOK, sil)
}

// parseUntil reads an RFC 3339 time, or a duration from now; "0s" or a
// past time lifts a silence.
func parseUntil(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, errors.New("until is required: a time (2026-03-02T08:00:00Z) or a duration from now (2h)")
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 || d > 366*24*time.Hour {
			return time.Time{}, errors.New("until: a duration from 0s to one year")
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errors.New("until must be a time (2026-03-02T08:00:00Z) or a duration from now (2h)")
	}
	return t, nil
}

func (s *server) alertsTest(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 30*time.Second)
	defer cancel()
	res := s.cfg.Alerts.SendTest(ctx)
	if len(res) == 0 {
		paramError(c, "target", "no notification targets: start vitals with --notify URL")
		return
	}
	c.JSON(http.StatusOK, gin.H{"results": res})
}

// paramError answers 400 {"error": msg, "param": name}.
func paramError(c *gin.Context, param, msg string) {
	c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": msg, "param": param})
}

// checkWrite guards a POST: only the write routes take one, and only as
// JSON from the page's own origin. Requiring application/json makes any
// cross-site request a CORS preflight, which these routes never grant; a
// same-site form can't send it. The Origin check covers a browser that
// sends one anyway.
func checkWrite(c *gin.Context) bool {
	r := c.Request
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		c.AbortWithStatusJSON(http.StatusUnsupportedMediaType, gin.H{"error": "send the body as application/json", "param": "Content-Type"})
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			jsonError(c, http.StatusForbidden, "cross-origin writes are refused")
			return false
		}
	}
	return true
}
