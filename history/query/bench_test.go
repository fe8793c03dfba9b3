package query

import (
	"math"
	"testing"
	"time"

	"vitals/history"
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

// benchPoints are a 2-core host's cpu points at step over span up to now.
func benchPoints(now time.Time, step, span time.Duration) []tier.Point {
	n := uint32(step / time.Second)
	var pts []tier.Point
	for t := now.Add(-span).Truncate(step); t.Before(now); t = t.Add(step) {
		pts = append(pts, tier.Point{Topic: "cpu", T: t.UnixMilli(), Step: step, Count: n, Fields: cpuFields(t, n)})
	}
	return pts
}

func benchStore(b testing.TB, now time.Time, step time.Duration, span time.Duration) *tiertest.Mem {
	store := tiertest.NewMem()
	if err := store.Write(benchPoints(now, step, span)); err != nil {
		b.Fatal(err)
	}
	return store
}

// boltStore is the same points in a real history file's tiers (whose
// Series is the engine's fast path).
func boltStore(b testing.TB, src *history.Broker, now time.Time, step, span time.Duration) *tier.BoltStore {
	keep := tier.Keep{Age: 800 * 24 * time.Hour, MaxBytes: 1 << 30}
	store, err := tier.OpenBolt(src.DB(), tier.BoltOptions{Minutes: keep, Hours: keep})
	if err != nil {
		b.Fatal(err)
	}
	pts := benchPoints(now, step, span)
	for len(pts) > 0 {
		k := min(len(pts), 1<<14)
		if err := store.Write(pts[:k]); err != nil {
			b.Fatal(err)
		}
		pts = pts[k:]
	}
	return store
}

// BenchmarkQuery is the engine's share of answering one chart (reading
// the points, reducing, gaps; not the JSON): a year of hours at 1,500
// points and 90 days of minutes at 1,500 points, of a 2-core host's cpu
// fields (all of them, as the dashboard asks, or one: total), from an in-memory store
// read by Points ("mem") and from the history file ("bolt", whose Series
// is the fast path when fields are named).
func BenchmarkQuery(b *testing.B) {
	now := t0.Add(800 * 24 * time.Hour)
	day := 24 * time.Hour
	for _, c := range []struct {
		name       string
		step, span time.Duration
	}{{"year_of_hours", tier.Hour, 365 * day}, {"90d_of_minutes", tier.Minute, 90 * day}} {
		for _, kind := range []string{"mem", "bolt"} {
			for _, fields := range [][]string{nil, {"total"}} {
				name := c.name + "/" + kind + "/all_fields"
				if fields != nil {
					name = c.name + "/" + kind + "/total"
				}
				b.Run(name, func(b *testing.B) {
					src := newBroker(b, now)
					// The tick now, whose fields a request naming none gets.
					tick := `{"total":1,"user":1,"system":1,"iowait":0,"steal":0,"idle":99,"cores":[1,1],"core_ids":[0,1]}`
					if err := src.Publish(now.Add(-time.Second), []history.Sample{{Topic: "cpu", Data: []byte(tick)}}); err != nil {
						b.Fatal(err)
					}
					var store tier.Store = benchStore(b, now, c.step, c.span)
					if kind == "bolt" {
						store = boltStore(b, src, now, c.step, c.span)
					}
					e := engine(now)
					req := Request{Topic: "cpu", Fields: fields, From: now.Add(-c.span), To: now, Points: 1500}
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
	}
}
