package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"vitals/history"
	"vitals/hostinfo"
)

// GET /api/fleet is the dashboard's fleet overview in one request: every
// known host with its newest CPU, memory, load and network figures and the
// CPU totals of its last few samples for a sparkline.
//
// Why an endpoint and not the browser polling /api/snapshot and
// /api/history per host: that is two requests per host per poll (and the
// full payloads, per-device maps included, where a row shows five numbers),
// while browsers allow about six HTTP/1.1 connections per origin, one of
// them held by the page's /events stream. Here a poll is one small reply
// whatever the number of hosts. On the server it costs the same as those
// per-host requests: each host is read through Sources, so in Redis mode
// this instance follows every host shown (one reader each, stopped 30 s
// after the page goes away).

// Spark points: one minute at the default 1 s interval, enough to see a
// trend in a 120-pixel sparkline; the cap keeps a reply small (about
// 15 bytes per point per host).
const (
	defaultSparkPoints = 60
	maxSparkPoints     = 600
)

// fleetWorkers bounds how many hosts are read at once: the first read of a
// host in Redis mode loads its stream, and a fleet of hundreds must not
// open hundreds of loads (and pool connections) in one request.
const fleetWorkers = 8

// FleetRow is one host of /api/fleet. Figures are null when the host has
// no such sample (yet, or it can't report it).
type FleetRow struct {
	Name     string `json:"name"`
	Live     bool   `json:"live"`
	Self     bool   `json:"self"`
	LastSeen int64  `json:"last_seen"` // unix ms, 0 when never
	CPUs     int    `json:"cpus"`
	// T is the newest sample's time (unix ms), 0 when there is none.
	T             int64    `json:"t"`
	CPU           *float64 `json:"cpu"` // busy percent of all CPUs
	MemoryPercent *float64 `json:"memory_percent"`
	MemoryUsed    *float64 `json:"memory_used"` // bytes
	MemoryTotal   *float64 `json:"memory_total"`
	Load1         *float64 `json:"load1"`
	RxBps         *float64 `json:"rx_bps"`
	TxBps         *float64 `json:"tx_bps"`
	Spark         Spark    `json:"spark"`
	// Error says why the figures are missing when the host's history
	// couldn't be read (Redis away); the row is still listed.
	Error string `json:"error,omitempty"`
}

// Spark is a sparkline's points: sample times (unix ms) and CPU busy
// percent, oldest first, the same length.
type Spark struct {
	T   []int64   `json:"t"`
	CPU []float64 `json:"cpu"`
}

// fleetPayload is the part of each topic's payload a row reads.
type fleetPayload struct {
	T       int64    `json:"t"`
	Total   *float64 `json:"total"`   // cpu (memory's total too)
	Percent *float64 `json:"percent"` // memory
	Used    *float64 `json:"used"`
	Load1   *float64 `json:"load1"`
	RxBps   *float64 `json:"rx_bps"`
	TxBps   *float64 `json:"tx_bps"`
}

// NewFleetRow builds one row from a host's status, its newest event of each
// topic and its newest CPU events (oldest first). It is pure, for tests.
func NewFleetRow(st hostinfo.Status, latest []*history.Event, cpu []*history.Event) FleetRow {
	r := FleetRow{Name: st.Info.Hostname, Live: st.Live, Self: st.Self, CPUs: st.Info.CPUs,
		Spark: Spark{T: []int64{}, CPU: []float64{}}}
	if !st.LastSeen.IsZero() {
		r.LastSeen = st.LastSeen.UnixMilli()
	}
	for _, e := range latest {
		var p fleetPayload
		if json.Unmarshal(e.Data, &p) != nil {
			continue
		}
		r.T = max(r.T, p.T)
		switch e.Topic {
		case "cpu":
			r.CPU = p.Total
		case "memory":
			r.MemoryPercent, r.MemoryUsed, r.MemoryTotal = p.Percent, p.Used, p.Total
		case "load":
			r.Load1 = p.Load1
		case "network":
			r.RxBps, r.TxBps = p.RxBps, p.TxBps
		}
	}
	for _, e := range cpu {
		var p fleetPayload
		if e.Topic != "cpu" || json.Unmarshal(e.Data, &p) != nil || p.Total == nil {
			continue
		}
		r.Spark.T = append(r.Spark.T, p.T)
		r.Spark.CPU = append(r.Spark.CPU, *p.Total)
	}
	return r
}

// fleet serves GET /api/fleet?points=N: {"self": name, "hosts": [rows]}
// by name. /events?fleet=true streams the same rows (fleet_stream.go).
func (s *server) fleet(c *gin.Context) {
	points, ok := sparkPoints(c)
	if !ok {
		return
	}
	rows, err := s.fleetRows(c.Request.Context(), points)
	if err != nil {
		c.Header("Retry-After", "2")
		jsonError(c, http.StatusServiceUnavailable, "list hosts: "+err.Error())
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"self": s.cfg.Host.Hostname, "hosts": rows})
}

// sparkPoints reads ?points= (default defaultSparkPoints); a bad value
// has been answered with a 400 naming it.
func sparkPoints(c *gin.Context) (int, bool) {
	raw, set := c.GetQuery("points")
	if !set {
		return defaultSparkPoints, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxSparkPoints {
		jsonError(c, http.StatusBadRequest, "points must be a whole number from 1 to "+strconv.Itoa(maxSparkPoints))
		return 0, false
	}
	return n, true
}

// fleetRows is every known host's row, by name.
func (s *server) fleetRows(ctx context.Context, points int) ([]FleetRow, error) {
	list, err := s.sources.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	rows := make([]FleetRow, len(list))
	next := make(chan int)
	var wg sync.WaitGroup // the workers are owned by this request
	for range min(fleetWorkers, len(list)) {
		wg.Go(func() {
			for i := range next {
				rows[i] = s.fleetRow(ctx, list[i], points)
			}
		})
	}
	for i := range list {
		next <- i
	}
	close(next)
	wg.Wait()
	slices.SortFunc(rows, func(a, b FleetRow) int { return strings.Compare(a.Name, b.Name) })
	return rows, nil
}

func (s *server) fleetRow(ctx context.Context, st hostinfo.Status, points int) FleetRow {
	name := st.Info.Hostname
	if st.Self {
		name = "" // this server's own host, however it is named
	}
	es, _, err := s.sources.Source(ctx, name)
	if err != nil {
		row := NewFleetRow(st, nil, nil)
		row.Error = err.Error()
		return row
	}
	page, err := es.Range("", []string{"cpu"}, points)
	if err != nil {
		row := NewFleetRow(st, es.Latest(), nil)
		row.Error = err.Error()
		return row
	}
	return NewFleetRow(st, es.Latest(), page.Events)
}
