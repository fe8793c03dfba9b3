package main

import (
	"math"
	"sync/atomic"
	"time"

	"vitals/bench/internal/loadresult"
)

// hist is a fixed-bucket latency histogram safe for concurrent recording
// without locks. Three linear tiers keep it simple and exact enough for
// p50/p99 targets of 2 to 250 ms: 0.1 ms steps below 100 ms, 1 ms steps to
// 10 s, 100 ms steps to 10 min (anything later lands in the last bucket).
// Shards spread the atomic adds of thousands of streams over separate cache
// lines.
type hist struct {
	shards [histShards]histShard
	max    atomic.Int64 // microseconds
}

// 16 shards: more than enough for two cores; each is ~130 KiB.
const histShards = 16

const (
	tier1 = 100_000    // µs: 0.1 ms buckets below 100 ms (1,000 buckets)
	tier2 = 10_000_000 // µs: 1 ms buckets below 10 s (9,900 buckets)
	tier3 = 600_000_000
	nBkt  = tier1/100 + (tier2-tier1)/1000 + (tier3-tier2)/100_000
)

type histShard struct {
	b [nBkt]atomic.Int64
}

func bucketOf(us int64) int {
	switch {
	case us < 0:
		return 0
	case us < tier1:
		return int(us / 100)
	case us < tier2:
		return tier1/100 + int((us-tier1)/1000)
	case us < tier3:
		return tier1/100 + (tier2-tier1)/1000 + int((us-tier2)/100_000)
	}
	return nBkt - 1
}

// upperOf is the upper edge of bucket i in microseconds: percentiles are
// reported on the pessimistic side.
func upperOf(i int) int64 {
	switch {
	case i < tier1/100:
		return int64(i+1) * 100
	case i < tier1/100+(tier2-tier1)/1000:
		return tier1 + int64(i-tier1/100+1)*1000
	}
	return tier2 + int64(i-tier1/100-(tier2-tier1)/1000+1)*100_000
}

func (h *hist) record(shard int, us int64) {
	if us < 0 {
		us = 0
	}
	h.shards[shard%histShards].b[bucketOf(us)].Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

func (h *hist) summary() loadresult.Latency {
	var total int64
	counts := make([]int64, nBkt)
	for s := range h.shards {
		for i := range counts {
			counts[i] += h.shards[s].b[i].Load()
		}
	}
	for _, c := range counts {
		total += c
	}
	l := loadresult.Latency{Count: total, Max: ms(h.max.Load())}
	if total == 0 {
		return l
	}
	pct := func(p float64) float64 {
		want := int64(math.Ceil(p * float64(total)))
		var seen int64
		for i, c := range counts {
			seen += c
			if seen >= want {
				return math.Min(ms(upperOf(i)), l.Max)
			}
		}
		return l.Max
	}
	l.P50, l.P90, l.P99 = pct(0.50), pct(0.90), pct(0.99)
	return l
}

func ms(us int64) float64 { return float64(us) / 1000 }

func durMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
