package query

import (
	"math"
	"testing"
	"time"

	"vitals/history/tier"
	"vitals/history/tier/tiertest"
)

// cpuFields is a 2-core host's cpu rollup: the totals and each core.
func cpuFields(t time.Time, n uint32) map[string]tier.Stat {
	v := 20 + 15*math.Sin(float64(t.Unix())/86400*2*math.Pi)
	f := map[string]tier.Stat{}
	for _, k := range []string{"total", "user", "system", "iowait", "steal", "idle", "cores.0", "cores.1"} {
		f[k] = tier.Stat{Min: v * 0.5, Max: v * 2, Sum: v * float64(n), N: n}
	}
	return f
}

func benchStore(b *testing.B, now time.Time, step time.Duration, span time.Duration) *tiertest.Mem {
	store := tiertest.NewMem()
	n := uint32(step / time.Second)
	var pts []tier.Point
	for t := now.Add(-span).Truncate(step); t.Before(now); t = t.Add(step) {
		pts = append(pts, tier.Point{Topic: "cpu", T: t.UnixMilli(), Step: step, Count: n, Fields: cpuFields(t, n)})
	}
	if err := store.Write(pts); err != nil {
		b.Fatal(err)
	}
	return store
}

// BenchmarkQuery is the engine's share of answering one chart (reading
// the points from memory, reducing, gaps; not the store's decoding nor
// the JSON): a year of hours at 1,500 points and 90 days of minutes at
// 1,500 points, all of a 2-core host's cpu fields.
func BenchmarkQuery(b *testing.B) {
	now := t0.Add(800 * 24 * time.Hour)
	day := 24 * time.Hour
	for _, c := range []struct {
		name       string
		step, span time.Duration
	}{{"year_of_hours", tier.Hour, 365 * day}, {"90d_of_minutes", tier.Minute, 90 * day}} {
		b.Run(c.name, func(b *testing.B) {
			store := benchStore(b, now, c.step, c.span)
			src := newBroker(b, now)
			e := engine(now)
			req := Request{Topic: "cpu", From: now.Add(-c.span), To: now, Points: 1500}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				res, err := e.Query(src, store, req)
				if err != nil || len(res.T) > 1500 {
					b.Fatal(err, len(res.T))
				}
			}
		})
	}
}
