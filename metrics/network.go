package metrics

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/shirou/gopsutil/v3/net"
)

// netRates are per-second rates; JSON keys are shared by the totals and by
// each interface.
type netRates struct {
	RxBps float64 `json:"rx_bps"`
	TxBps float64 `json:"tx_bps"`
	RxPps float64 `json:"rx_pps"`
	TxPps float64 `json:"tx_pps"`
}

// networkPayload is the JSON of the network topic: totals and per-interface
// rates over non-loopback interfaces. Loopback traffic never leaves the host
// and would drown the real traffic on a busy local database.
type networkPayload struct {
	T int64 `json:"t"`
	netRates
	Interfaces map[string]netRates `json:"interfaces"`
}

// netCounters is the part of net.IOCountersStat the rates need.
type netCounters struct {
	BytesRecv, BytesSent, PacketsRecv, PacketsSent uint64
}

// netIORates computes per-interface and total rates between two samples dt
// seconds apart. An interface missing from prev reports 0 for this tick;
// one missing from cur is dropped.
func netIORates(prev, cur map[string]netCounters, dt float64) (netRates, map[string]netRates) {
	var total netRates
	ifaces := make(map[string]netRates, len(cur))
	for name, c := range cur {
		var r netRates
		if p, ok := prev[name]; ok {
			r = netRates{
				RxBps: perSecond(p.BytesRecv, c.BytesRecv, dt),
				TxBps: perSecond(p.BytesSent, c.BytesSent, dt),
				RxPps: perSecond(p.PacketsRecv, c.PacketsRecv, dt),
				TxPps: perSecond(p.PacketsSent, c.PacketsSent, dt),
			}
		}
		ifaces[name] = r
		total.RxBps += r.RxBps
		total.TxBps += r.TxBps
		total.RxPps += r.RxPps
		total.TxPps += r.TxPps
	}
	total = netRates{
		RxBps: round2(total.RxBps),
		TxBps: round2(total.TxBps),
		RxPps: round2(total.RxPps),
		TxPps: round2(total.TxPps),
	}
	return total, ifaces
}

// loopbackName reports whether an interface name is a loopback: "lo" on
// Linux (in every network namespace), "lo0" on the BSDs and macOS. Names are
// used rather than interface flags because with HostProc set the counters
// come from the host's /proc while net.Interfaces would see this process's
// namespace.
func loopbackName(name string) bool {
	if len(name) < 2 || name[:2] != "lo" {
		return false
	}
	for _, r := range name[2:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// networkCollector reports interface traffic rates from two successive
// net.IOCounters(true) samples.
type networkCollector struct {
	env hostEnv
	log *onceLog

	prev, cur map[string]netCounters // swapped each tick to reuse the maps
	havePrev  bool
	prevAt    time.Time
}

func newNetworkCollector(env hostEnv, log *slog.Logger) *networkCollector {
	return &networkCollector{
		env:  env,
		log:  newOnceLog(log),
		prev: make(map[string]netCounters),
		cur:  make(map[string]netCounters),
	}
}

func (c *networkCollector) Topic() string { return topicNetwork }

// read fills c.cur with the counters of the non-loopback interfaces.
func (c *networkCollector) read() error {
	stats, err := net.IOCountersWithContext(c.env.ctx, true)
	if err != nil {
		return fmt.Errorf("read network counters: %w", err)
	}
	clear(c.cur)
	for _, s := range stats {
		if loopbackName(s.Name) {
			continue
		}
		c.cur[s.Name] = netCounters{
			BytesRecv:   s.BytesRecv,
			BytesSent:   s.BytesSent,
			PacketsRecv: s.PacketsRecv,
			PacketsSent: s.PacketsSent,
		}
	}
	return nil
}

func (c *networkCollector) prime() {
	if err := c.read(); err != nil {
		c.log.debug("prime", "prime network collector", "err", err)
		return
	}
	c.prev, c.cur = c.cur, c.prev
	c.havePrev, c.prevAt = true, c.env.now()
}

func (c *networkCollector) Collect(t time.Time) ([]byte, error) {
	if err := c.read(); err != nil {
		return nil, err
	}
	now := c.env.now()
	if !c.havePrev {
		c.prev, c.cur = c.cur, c.prev
		c.havePrev, c.prevAt = true, now
		return nil, errNoBaseline
	}
	total, ifaces := netIORates(c.prev, c.cur, now.Sub(c.prevAt).Seconds())
	c.prev, c.cur = c.cur, c.prev
	c.prevAt = now

	b, err := json.Marshal(networkPayload{T: t.UnixMilli(), netRates: total, Interfaces: ifaces})
	if err != nil {
		return nil, fmt.Errorf("encode network reading: %w", err)
	}
	return b, nil
}
