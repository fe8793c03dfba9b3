package tier

import (
	"os"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// simTicks returns n consecutive simulated ticks of the default host.
func simTicks(b *testing.B, n int) (ts []time.Time, ticks [][]Sample) {
	b.Helper()
	err := Simulation{From: t0, Span: time.Duration(n) * time.Second, Every: time.Second, Seed: 1}.Run(func(t time.Time, s []Sample, _ uint32) error {
		cp := make([]Sample, len(s))
		for i, x := range s {
			cp[i] = Sample{Topic: x.Topic, Data: append([]byte(nil), x.Data...)}
		}
		ts, ticks = append(ts, t), append(ticks, cp)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return ts, ticks
}

// BenchmarkRollupTick is the per-tick cost of rolling up every topic of
// a 2-core host with 2 disks, 3 mounts and 3 interfaces, including the
// store write (to an in-memory store) each minute.
func BenchmarkRollupTick(b *testing.B) {
	ts, ticks := simTicks(b, 3600)
	r := NewRoller(RollerOptions{Store: newMemStore()})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := i % len(ticks)
		r.Tick(ts[k].Add(time.Duration(i/len(ticks))*Hour), ticks[k])
		i++
	}
}

// BenchmarkFlatten is the scanner alone, over one tick's payloads.
func BenchmarkFlatten(b *testing.B) {
	_, ticks := simTicks(b, 1)
	var f Flattener
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range ticks[0] {
			f.Flatten(s.Data, func([]byte, float64) {}, nil)
		}
	}
}

// BenchmarkFill is a simulated day, one tick every 20 s, through the
// roller into a bbolt store.
func BenchmarkFill(b *testing.B) {
	for b.Loop() {
		db, _ := openTestDB(b)
		s, err := OpenBolt(db, defaultKeep)
		if err != nil {
			b.Fatal(err)
		}
		fillEvery(b, s, t0, 24*Hour, 20*time.Second)
	}
}

// twoYears fills a store with two simulated years once per benchmark,
// or opens the history file VITALS_BENCH_HISTORY names (one that
// "vitals history fill --years 2" filled), which saves the minutes the
// fill takes on a busy machine.
func twoYears(b *testing.B) (*BoltStore, string) {
	b.Helper()
	if path := os.Getenv("VITALS_BENCH_HISTORY"); path != "" {
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		s, err := OpenBolt(db, defaultKeep)
		if err != nil {
			b.Fatal(err)
		}
		return s, path
	}
	db, path := openTestDB(b)
	s, err := OpenBolt(db, defaultKeep)
	if err != nil {
		b.Fatal(err)
	}
	fillEvery(b, s, t0, 730*24*Hour, 30*time.Second)
	return s, path
}

// BenchmarkTwoYears reports the file size after two simulated years with
// the default retention, and the read times of the long ranges.
func BenchmarkTwoYears(b *testing.B) {
	s, path := twoYears(b)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	newest, _, _ := s.Newest(Hour, "cpu")
	end := time.UnixMilli(newest + 1)
	b.Run("year-of-hours", func(b *testing.B) {
		for b.Loop() {
			n := 0
			s.Points(Hour, "disk", end.Add(-365*24*Hour), end, func(Point) bool { n++; return true })
		}
	})
	b.Run("90d-of-minutes", func(b *testing.B) {
		for b.Loop() {
			s.Points(Minute, "cpu", end.Add(-90*24*Hour), end, func(Point) bool { return true })
		}
	})
	b.Run("90d-of-minutes-series", func(b *testing.B) {
		for b.Loop() {
			s.Series(Minute, "cpu", []string{"total", "user", "system", "iowait"}, end.Add(-90*24*Hour), end,
				func(int64, uint32, []Stat, []Mark) bool { return true })
		}
	})
	b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB")
	b.ReportMetric(float64(s.Bytes(Minute))/(1<<20), "minutes-MiB")
	b.ReportMetric(float64(s.Bytes(Hour))/(1<<20), "hours-MiB")
}

// BenchmarkMinuteWrite is what the roller pays once a minute: writing
// every topic's minute into blocks that are nearly full (the worst case,
// each block rewritten whole), in one bbolt transaction.
func BenchmarkMinuteWrite(b *testing.B) {
	db, _ := openTestDB(b)
	s, err := OpenBolt(db, defaultKeep)
	if err != nil {
		b.Fatal(err)
	}
	start := time.UnixMilli(floor(t0.UnixMilli(), blockSpan(Minute)))
	fillEvery(b, s, start, blockSpan(Minute)-2*Minute, 20*time.Second)
	last := start.Add(blockSpan(Minute) - 3*Minute).UnixMilli()
	var minute []Point
	for _, topic := range []string{"cpu", "memory", "load", "disk", "network", "processes"} {
		s.Points(Minute, topic, time.UnixMilli(last), time.UnixMilli(last+1), func(p Point) bool {
			p.T += 2 * Minute.Milliseconds()
			minute = append(minute, p)
			return true
		})
	}
	if len(minute) != 6 {
		b.Fatalf("%d points to write, want 6", len(minute))
	}
	for b.Loop() {
		if err := s.Write(minute); err != nil {
			b.Fatal(err)
		}
	}
}
