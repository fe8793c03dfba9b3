package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"vitals/history/query"
	"vitals/history/tier"
)

// TierStores finds a host's rollups (the per-minute and per-hour tiers).
// A backend that keeps rollups implements it beside Sources; without it
// /api/range answers from the raw window alone and says so in "tiers".
type TierStores interface {
	// TierStore returns host's rollup store; "" is this server's own
	// host. Errors are those of Sources.Source. A nil store with a nil
	// error means the host has no rollups.
	TierStore(ctx context.Context, host string) (tier.Store, error)
}

// tierStores is cfg.Tiers, or the Sources when they keep rollups too.
func tierStores(cfg Options) TierStores {
	if cfg.Tiers != nil {
		return cfg.Tiers
	}
	if t, ok := cfg.Sources.(TierStores); ok {
		return t
	}
	return nil
}

// rangeQuery serves GET /api/range?topic=&fields=&from=&to=&points=&host=:
// one topic's fields over any time range, reduced to at most points
// columnar points (docs/history.md). A bad parameter is a 400
// {"error": "...", "param": "<name>"}.
func (s *server) rangeQuery(c *gin.Context) {
	req, err := query.ParseRequest(c.Request.URL.Query(), time.Now())
	if err != nil {
		badParam(c, err)
		return
	}
	es, info, ok := s.source(c)
	if !ok {
		return
	}
	var store tier.Store
	if s.tiers != nil {
		if store, err = s.tiers.TierStore(c.Request.Context(), c.Query("host")); err != nil {
			s.sourceError(c, err)
			return
		}
	}
	eng := query.Engine{Interval: info.Interval, Raw: info.Retention, Minutes: s.cfg.MinuteRetention, Hours: s.cfg.HourRetention}
	res, err := eng.Query(es, store, req)
	if err != nil {
		badParam(c, err)
		return
	}
	res.Host = info.Hostname
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, res)
}

// badParam answers a *query.ParamError with 400 naming the parameter, and
// anything else (the store failed) with 500.
func badParam(c *gin.Context, err error) {
	var pe *query.ParamError
	if errors.As(err, &pe) {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": pe.Msg, "param": pe.Param})
		return
	}
	jsonError(c, http.StatusInternalServerError, "range query: "+err.Error())
}
