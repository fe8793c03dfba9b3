package metrics

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/shirou/gopsutil/v3/load"
)

// loadPayload is the JSON of the load topic. The load averages are null when
// the host has none (Windows has no load average; a container may hide
// /proc/loadavg). cpus is the host's CPU count, so the dashboard can show
// load per CPU.
type loadPayload struct {
	T      int64    `json:"t"`
	Load1  *float64 `json:"load1"`
	Load5  *float64 `json:"load5"`
	Load15 *float64 `json:"load15"`
	CPUs   int      `json:"cpus"`
}

// loadReading turns one gopsutil sample (nil if there is none) into the
// payload (without "t").
func loadReading(avg *load.AvgStat, cpus int) loadPayload {
	p := loadPayload{CPUs: cpus}
	if avg != nil {
		l1, l5, l15 := round2(avg.Load1), round2(avg.Load5), round2(avg.Load15)
		p.Load1, p.Load5, p.Load15 = &l1, &l5, &l15
	}
	return p
}

// loadCollector reports the load averages. A host without them is not an
// error: the topic still carries cpus, and the averages are null.
type loadCollector struct {
	env  hostEnv
	cpus int
	log  *onceLog
	lastRaw
}

func newLoadCollector(env hostEnv, cpus int, log *slog.Logger) *loadCollector {
	return &loadCollector{env: env, cpus: cpus, log: newOnceLog(log)}
}

func (c *loadCollector) Topic() string { return topicLoad }

func (c *loadCollector) Collect(t time.Time) ([]byte, error) {
	avg, err := load.AvgWithContext(c.env.ctx)
	if err != nil {
		c.log.debug("avg:"+err.Error(), "no load average: reporting it as null", "err", err)
		avg = nil
	}
	c.keepRaw(t, avg)
	p := loadReading(avg, c.cpus)
	p.T = t.UnixMilli()
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode load reading: %w", err)
	}
	return b, nil
}
