package metrics

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/shirou/gopsutil/v3/mem"
)

// memoryPayload is the JSON of the memory topic; sizes are bytes.
//
// used is total - available, not gopsutil's Used (total - free - buffers -
// cached): MemAvailable is the kernel's own estimate of what programs can
// still get without swapping, it accounts for cache that cannot be dropped,
// and procps-ng free(1) computes "used" the same way since 4.0. percent is
// used/total. swap_total and swap_used are null when the host has no swap.
type memoryPayload struct {
	T         int64   `json:"t"`
	Total     uint64  `json:"total"`
	Used      uint64  `json:"used"`
	Available uint64  `json:"available"`
	Cached    uint64  `json:"cached"`
	Buffers   uint64  `json:"buffers"`
	Percent   float64 `json:"percent"`
	SwapTotal *uint64 `json:"swap_total"`
	SwapUsed  *uint64 `json:"swap_used"`
}

// memoryReading turns one gopsutil sample into the payload (without "t").
func memoryReading(vm *mem.VirtualMemoryStat) memoryPayload {
	avail := min(vm.Available, vm.Total)
	used := vm.Total - avail
	p := memoryPayload{
		Total:     vm.Total,
		Used:      used,
		Available: avail,
		Cached:    vm.Cached,
		Buffers:   vm.Buffers,
		Percent:   percentOf(float64(used), float64(vm.Total)),
	}
	if vm.SwapTotal > 0 {
		total := vm.SwapTotal
		swapUsed := total - min(vm.SwapFree, total)
		p.SwapTotal, p.SwapUsed = &total, &swapUsed
	}
	return p
}

// memoryCollector reports memory and swap use. It calls only
// mem.VirtualMemory: on Linux that one /proc/meminfo read already has
// SwapTotal and SwapFree, while mem.SwapMemory would add a sysinfo call and a
// /proc/vmstat read per tick for nothing we show.
type memoryCollector struct {
	env hostEnv
	log *onceLog
}

func newMemoryCollector(env hostEnv, log *slog.Logger) *memoryCollector {
	return &memoryCollector{env: env, log: newOnceLog(log)}
}

func (c *memoryCollector) Topic() string { return topicMemory }

func (c *memoryCollector) Collect(t time.Time) ([]byte, error) {
	vm, err := mem.VirtualMemoryWithContext(c.env.ctx)
	if err != nil {
		return nil, fmt.Errorf("read memory: %w", err)
	}
	p := memoryReading(vm)
	if p.SwapTotal == nil {
		c.log.debug("no swap", "host has no swap: reporting swap as null")
	}
	p.T = t.UnixMilli()
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode memory reading: %w", err)
	}
	return b, nil
}
