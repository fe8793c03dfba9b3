package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// The fleet overview, live on the page's own stream: /events?fleet=true
// adds an id-less "fleet" event, the rows of /api/fleet, right after the
// catch-up and then whenever a row changes: checked with each tick and
// written in the tick's chunk, or once per interval while the stream gets
// no ticks (streamRun.live).
// Riding the page's one /events stream, it costs the browser no second
// connection, and every row moves with the ticks, as the charts do.
//
// The first event carries each host's sparkline whole; later ones have
// "append": true and only the samples after those already sent, so a
// fleet of a few hosts costs a few hundred bytes a tick.

// fleetStreamRead bounds one read of the fleet's rows inside a stream. The
// rows are read as a tick is written, so a slow Redis holds that stream's
// tick back by at most this long.
const fleetStreamRead = 2 * time.Second

// fleetEvent is the data of one "fleet" event.
type fleetEvent struct {
	Self   string     `json:"self"`
	Hosts  []FleetRow `json:"hosts"`
	Append bool       `json:"append"` // each row's spark holds only new samples
}

// fleetWatch is what one stream sent of the fleet. Used by the stream's
// own goroutine only.
type fleetWatch struct {
	points int
	sent   map[string]int64 // host -> newest spark sample sent (unix ms); nil before the first event
	last   []byte           // the rows of the last event, sparks left out: unchanged rows are not sent again
}

// parseFleet reads /events' ?fleet= and ?points=; nil when the stream has
// no fleet. A bad value has been answered with a 400 naming it.
func parseFleet(c *gin.Context) (*fleetWatch, bool) {
	raw, set := c.GetQuery("fleet")
	if !set {
		return nil, true
	}
	on, err := strconv.ParseBool(raw)
	if err != nil {
		jsonError(c, http.StatusBadRequest, "fleet must be true or false")
		return nil, false
	}
	points, ok := sparkPoints(c)
	if !ok || !on {
		return nil, ok
	}
	return &fleetWatch{points: points}, true
}

// period is how often a stream looks at the fleet: once per interval of
// this server, the pace of its own rows.
func (s *server) fleetPeriod() time.Duration { return max(s.cfg.Interval, 100*time.Millisecond) }

// appendFleet appends a "fleet" event to buf when a row changed since the
// last one this stream sent. A failed read sends nothing: the stream's
// badge and the next try say enough.
func (s *server) appendFleet(buf []byte, w *fleetWatch) []byte {
	ctx, cancel := context.WithTimeout(context.Background(), fleetStreamRead)
	defer cancel()
	rows, err := s.fleetRows(ctx, w.points)
	if err != nil {
		return buf
	}
	first := w.sent == nil
	if first {
		w.sent = map[string]int64{}
	}
	fresh := false
	for i := range rows {
		r := &rows[i]
		after, known := w.sent[r.Name]
		if known {
			k := 0
			for k < len(r.Spark.T) && r.Spark.T[k] <= after {
				k++
			}
			r.Spark.T, r.Spark.CPU = r.Spark.T[k:], r.Spark.CPU[k:]
		}
		if n := len(r.Spark.T); n > 0 {
			w.sent[r.Name] = r.Spark.T[n-1]
			fresh = true
		}
	}
	figures := fleetFigures(rows)
	if !first && !fresh && bytes.Equal(figures, w.last) {
		return buf
	}
	w.last = figures
	return appendJSON(buf, "fleet", fleetEvent{Self: s.cfg.Host.Hostname, Hosts: rows, Append: !first})
}

// fleetFigures is rows without their sparklines, to tell a change.
func fleetFigures(rows []FleetRow) []byte {
	bare := make([]FleetRow, len(rows))
	for i, r := range rows {
		r.Spark = Spark{}
		bare[i] = r
	}
	b, _ := json.Marshal(bare)
	return b
}
