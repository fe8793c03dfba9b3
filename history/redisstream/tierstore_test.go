package redisstream

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/history/tier"
	"vitals/internal/redistest"
)

// fieldShape is one numeric field of a simulated host.
type fieldShape struct {
	path  string
	base  float64 // typical value
	swing float64 // how far it moves within a bucket; 0: constant
}

// hostShape is a realistic 2-core host with a few disks and interfaces:
// what bench/cluster.md measures and the tests write.
var hostShape = map[string][]fieldShape{
	"cpu": {{"total", 12, 30}, {"user", 8, 20}, {"system", 3, 8}, {"iowait", 0.5, 2}, {"steal", 0, 0}, {"idle", 88, 30},
		{"cores.0", 13, 40}, {"cores.1", 11, 40}},
	"memory": {{"total", 4_100_000_000, 0}, {"used", 1_300_000_000, 60_000_000}, {"available", 2_600_000_000, 60_000_000},
		{"cached", 900_000_000, 10_000_000}, {"buffers", 80_000_000, 1_000_000}, {"percent", 31.7, 1.5},
		{"swap_total", 1_000_000_000, 0}, {"swap_used", 0, 0}},
	"load": {{"load1", 0.6, 1.2}, {"load5", 0.5, 0.4}, {"load15", 0.45, 0.1}, {"cpus", 2, 0}},
	"disk": {{"read_bps", 40_000, 900_000}, {"write_bps", 300_000, 2_000_000}, {"read_iops", 3, 90}, {"write_iops", 25, 200},
		{"devices.vda.read_bps", 38_000, 800_000}, {"devices.vda.write_bps", 280_000, 1_800_000},
		{"devices.vda.read_iops", 3, 80}, {"devices.vda.write_iops", 22, 180},
		{"devices.vdb.read_bps", 2_000, 100_000}, {"devices.vdb.write_bps", 20_000, 200_000},
		{"devices.vdb.read_iops", 0.2, 10}, {"devices.vdb.write_iops", 3, 20},
		{"filesystems./.total", 40_000_000_000, 0}, {"filesystems./.used", 12_000_000_000, 5_000_000},
		{"filesystems./.avail", 26_000_000_000, 5_000_000}, {"filesystems./.percent", 31.6, 0.01},
		{"filesystems./boot.total", 500_000_000, 0}, {"filesystems./boot.used", 120_000_000, 0},
		{"filesystems./boot.avail", 350_000_000, 0}, {"filesystems./boot.percent", 25.5, 0},
		{"filesystems./var/lib/data.total", 200_000_000_000, 0}, {"filesystems./var/lib/data.used", 90_000_000_000, 20_000_000},
		{"filesystems./var/lib/data.avail", 100_000_000_000, 20_000_000}, {"filesystems./var/lib/data.percent", 47.4, 0.01}},
	"network": {{"rx_bps", 120_000, 2_000_000}, {"tx_bps", 90_000, 1_500_000}, {"rx_pps", 150, 1500}, {"tx_pps", 120, 1200},
		{"interfaces.eth0.rx_bps", 118_000, 2_000_000}, {"interfaces.eth0.tx_bps", 88_000, 1_500_000},
		{"interfaces.eth0.rx_pps", 148, 1500}, {"interfaces.eth0.tx_pps", 118, 1200},
		{"interfaces.docker0.rx_bps", 2_000, 50_000}, {"interfaces.docker0.tx_bps", 2_000, 50_000},
		{"interfaces.docker0.rx_pps", 2, 50}, {"interfaces.docker0.tx_pps", 2, 50}},
}

var shapeTopics = []string{"cpu", "memory", "load", "disk", "network"}

// wideShape is a big host: 16 cores, 4 disks, 10 filesystems and 10
// interfaces (about 150 fields), for the byte caps.
func wideShape() map[string][]fieldShape {
	w := map[string][]fieldShape{"memory": hostShape["memory"], "load": hostShape["load"]}
	w["cpu"] = slices.Clone(hostShape["cpu"][:6])
	for i := range 16 {
		w["cpu"] = append(w["cpu"], fieldShape{"cores." + strconv.Itoa(i), 13, 40})
	}
	w["disk"] = slices.Clone(hostShape["disk"][:4])
	for i := range 4 {
		for _, f := range []string{"read_bps", "write_bps", "read_iops", "write_iops"} {
			w["disk"] = append(w["disk"], fieldShape{"devices.sd" + string(rune('a'+i)) + "." + f, 30_000, 500_000})
		}
	}
	for i := range 10 {
		m := "filesystems./srv/vol" + strconv.Itoa(i) + "."
		w["disk"] = append(w["disk"], fieldShape{m + "total", 100_000_000_000, 0}, fieldShape{m + "used", 40_000_000_000, 10_000_000},
			fieldShape{m + "avail", 60_000_000_000, 10_000_000}, fieldShape{m + "percent", 40.1, 0.01})
	}
	w["network"] = slices.Clone(hostShape["network"][:4])
	for i := range 10 {
		n := "interfaces.veth" + strconv.Itoa(i) + "."
		for _, f := range []string{"rx_bps", "tx_bps", "rx_pps", "tx_pps"} {
			w["network"] = append(w["network"], fieldShape{n + f, 20_000, 400_000})
		}
	}
	return w
}

// hostBucket is every topic's point of one bucket of hostShape, made of
// ticks samples, with values drawn from rng (rounded as the collectors
// round them: two decimals, whole bytes).
func hostBucket(rng *rand.Rand, t int64, step time.Duration, ticks uint32) []tier.Point {
	return shapeBucket(hostShape, rng, t, step, ticks)
}

// shapeBucket is hostBucket for any shape.
func shapeBucket(shape map[string][]fieldShape, rng *rand.Rand, t int64, step time.Duration, ticks uint32) []tier.Point {
	out := make([]tier.Point, 0, len(shapeTopics))
	for _, topic := range shapeTopics {
		p := tier.Point{Topic: topic, T: t, Step: step, Count: ticks, Fields: map[string]tier.Stat{}}
		for _, f := range shape[topic] {
			round := func(v float64) float64 {
				if f.base >= 1000 {
					return math.Round(v)
				}
				return math.Round(v*100) / 100
			}
			if f.swing == 0 {
				v := round(f.base)
				p.Fields[f.path] = tier.Stat{Min: v, Max: v, Sum: v * float64(ticks), N: ticks}
				continue
			}
			lo := round(max(f.base-f.swing*rng.Float64()*0.2, 0))
			hi := round(f.base + f.swing*rng.Float64())
			mean := round(lo + (hi-lo)*rng.Float64()*0.5)
			p.Fields[f.path] = tier.Stat{Min: lo, Max: hi, Sum: mean * float64(ticks), N: ticks}
		}
		out = append(out, p)
	}
	return out
}

// fillTiers writes n buckets of step ending just before end through s, a
// day's worth per Write.
func fillTiers(t testing.TB, s *TierStore, rng *rand.Rand, end time.Time, step time.Duration, n int) {
	t.Helper()
	fillShape(t, hostShape, s, rng, end, step, n)
}

func fillShape(t testing.TB, shape map[string][]fieldShape, s *TierStore, rng *rand.Rand, end time.Time, step time.Duration, n int) {
	t.Helper()
	ticks := uint32(step / time.Second)
	first := end.Truncate(step).Add(-time.Duration(n) * step)
	perWrite := max(int(24*time.Hour/step), 1)
	for i := 0; i < n; i += perWrite {
		var batch []tier.Point
		for j := i; j < min(i+perWrite, n); j++ {
			batch = append(batch, shapeBucket(shape, rng, first.Add(time.Duration(j)*step).UnixMilli(), step, ticks)...)
		}
		if err := s.Write(batch); err != nil {
			t.Fatal(err)
		}
	}
}

// float32ish is p as the store gives it back: each value at float32
// precision, the sum as mean times N.
func float32ish(p tier.Point) tier.Point {
	q := p
	q.Fields = make(map[string]tier.Stat, len(p.Fields))
	for k, st := range p.Fields {
		mean := float64(float32(st.Sum / float64(st.N)))
		q.Fields[k] = tier.Stat{Min: float64(float32(st.Min)), Max: float64(float32(st.Max)), Sum: mean * float64(st.N), N: st.N}
	}
	return q
}

func readPoints(t testing.TB, s *TierStore, step time.Duration, topic string, from, to time.Time) []tier.Point {
	t.Helper()
	var out []tier.Point
	if err := s.Points(step, topic, from, to, func(p tier.Point) bool { out = append(out, p); return true }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTierStoreRoundTrip(t *testing.T) {
	srv := redistest.Start(t)
	s := NewTierStore(newRedisClient(t, srv), "h1", TierOptions{})
	const t0 = 1_795_598_940_000 // a minute's start
	points := []tier.Point{
		{Topic: "cpu", T: t0, Step: tier.Minute, Count: 60, Fields: map[string]tier.Stat{
			"total":   {Min: 1.5, Max: 97.25, Sum: 1234.5, N: 60},
			"steal":   {Min: 0, Max: 0, Sum: 0, N: 60},
			"cores.1": {Min: 3, Max: 3, Sum: 60, N: 20}, // the core came online mid-minute
		}, Marks: []tier.Mark{{T: t0 + 41_000, Kind: "restart", Value: 93_000}}},
		{Topic: "memory", T: t0, Step: tier.Minute, Count: 59, Fields: map[string]tier.Stat{
			"used": {Min: 1_300_000_000, Max: 1_360_000_123, Sum: 59 * 1_320_000_000, N: 59},
		}},
		{Topic: "cpu", T: t0 + 60_000, Step: tier.Minute, Count: 1, Fields: map[string]tier.Stat{"total": {Min: 7, Max: 7, Sum: 7, N: 1}}},
		{Topic: "cpu", T: t0 - t0%3_600_000, Step: tier.Hour, Count: 3600, Fields: map[string]tier.Stat{"total": {Min: 0.5, Max: 100, Sum: 36_000, N: 3600}}},
	}
	if err := s.Write(points); err != nil {
		t.Fatal(err)
	}
	from, to := time.UnixMilli(t0), time.UnixMilli(t0+120_000)
	got := readPoints(t, s, tier.Minute, "cpu", from, to)
	want := []tier.Point{float32ish(points[0]), float32ish(points[2])}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cpu minutes:\n got %+v\nwant %+v", got, want)
	}
	if got := readPoints(t, s, tier.Minute, "memory", from, to); len(got) != 1 || !reflect.DeepEqual(got[0], float32ish(points[1])) {
		t.Errorf("memory minutes: %+v", got)
	}
	if got := readPoints(t, s, tier.Minute, "cpu", from, time.UnixMilli(t0+60_000)); len(got) != 1 || got[0].T != t0 {
		t.Errorf("[from, to) must leave out the bucket at to: %+v", got)
	}
	if got := readPoints(t, s, tier.Hour, "cpu", time.UnixMilli(0), to); len(got) != 1 || got[0].Count != 3600 {
		t.Errorf("hours: %+v", got)
	}
	n := 0
	s.Points(tier.Minute, "cpu", from, to, func(tier.Point) bool { n++; return false })
	if n != 1 {
		t.Errorf("fn returned false: called %d times, want 1", n)
	}
	if err := s.Points(time.Second, "cpu", from, to, func(tier.Point) bool { return true }); err == nil {
		t.Error("a step that is no tier: no error")
	}
}

// TestTierStoreReplacesTheNewestBucket: a bucket written again (a roller
// that crashed after its write) replaces the stored one; one older than
// the stream's newest is kept as first written, and counted.
func TestTierStoreReplacesTheNewestBucket(t *testing.T) {
	srv := redistest.Start(t)
	c := newRedisClient(t, srv)
	s := NewTierStore(c, "h1", TierOptions{})
	const t0 = 1_795_598_940_000
	pt := func(t int64, count uint32) tier.Point {
		return tier.Point{Topic: "cpu", T: t, Step: tier.Minute, Count: count,
			Fields: map[string]tier.Stat{"total": {Min: 1, Max: 2, Sum: float64(count), N: count}}}
	}
	for _, p := range []tier.Point{pt(t0, 30), pt(t0+60_000, 10), pt(t0+60_000, 60), pt(t0+60_000, 60), pt(t0, 5)} {
		if err := s.Write([]tier.Point{p}); err != nil {
			t.Fatal(err)
		}
	}
	got := readPoints(t, s, tier.Minute, "cpu", time.UnixMilli(t0), time.UnixMilli(t0+120_000))
	if len(got) != 2 || got[0].Count != 30 || got[1].Count != 60 {
		t.Errorf("read %+v, want the first bucket as first written and the second as last written", got)
	}
	if n := c.XLen(context.Background(), TierKey("h1", tier.Minute, "cpu")).Val(); n != 2 {
		t.Errorf("XLEN %d, want 2: replaced entries are deleted", n)
	}
	if s.Skipped() != 1 {
		t.Errorf("skipped %d, want 1", s.Skipped())
	}
}

// TestTierStoreTrimsByRetention: a stream keeps its retention, measured
// from its newest bucket, never less, and not much more (Redis trims
// whole nodes).
func TestTierStoreTrimsByRetention(t *testing.T) {
	srv := redistest.Start(t)
	c := newRedisClient(t, srv)
	s := NewTierStore(c, "h1", TierOptions{MinuteRetention: time.Hour, HourRetention: 48 * time.Hour})
	end := time.UnixMilli(1_795_598_940_000)
	rng := rand.New(rand.NewPCG(1, 2))
	fillTiers(t, s, rng, end, tier.Minute, 6*60)
	fillTiers(t, s, rng, end, tier.Hour, 10*24)
	for _, tc := range []struct {
		step time.Duration
		keep int
	}{{tier.Minute, 60}, {tier.Hour, 48}} {
		got := readPoints(t, s, tc.step, "disk", time.UnixMilli(0), end)
		newest := got[len(got)-1].T
		if newest-got[0].T < int64(tc.keep-1)*tc.step.Milliseconds() {
			t.Errorf("%v: kept %d buckets, want at least %d", tc.step, len(got), tc.keep)
		}
		// ~ trimming frees whole listpack nodes (at most 100 entries).
		if len(got) > tc.keep+100 {
			t.Errorf("%v: kept %d buckets, want about %d", tc.step, len(got), tc.keep)
		}
	}
}

// tierMemory is what every tier stream of host takes in Redis: the sum of
// MEMORY USAGE (SAMPLES 0: every node counted) over its keys.
func tierMemory(t testing.TB, c redis.UniversalClient, host string) (bytes int64) {
	t.Helper()
	ctx := context.Background()
	for _, step := range []time.Duration{tier.Minute, tier.Hour} {
		for _, topic := range shapeTopics {
			n, err := c.MemoryUsage(ctx, TierKey(host, step, topic), 0).Result()
			if err != nil && err != redis.Nil {
				t.Fatal(err)
			}
			bytes += n
		}
	}
	return bytes
}

// BenchmarkTierStoreMemory measures the Redis memory one host's tiers take
// after 90 days of minutes and 2 years of hours of a 2-core host with two
// disks, three filesystems and two interfaces are written: with the
// Redis-mode defaults, and with the history file's retention (90 days,
// 2 years) for comparison. Figures in bench/cluster.md.
func BenchmarkTierStoreMemory(b *testing.B) {
	c := redistest.Start(b).Client(b)
	end := time.UnixMilli(1_795_598_940_000)
	for _, tc := range []struct {
		name  string
		shape map[string][]fieldShape
		o     TierOptions
	}{
		{"defaults", hostShape, TierOptions{}},
		{"90d-2y-uncapped", hostShape, TierOptions{MinuteRetention: 90 * 24 * time.Hour, HourRetention: 2 * 365 * 24 * time.Hour,
			MinuteBytes: 1 << 40, HourBytes: 1 << 40}},
		{"wide-host-defaults", wideShape(), TierOptions{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			host := "h-" + tc.name
			for b.Loop() {
				c.FlushAll(context.Background())
				s := NewTierStore(c, host, tc.o)
				rng := rand.New(rand.NewPCG(1, 2))
				fillShape(b, tc.shape, s, rng, end, tier.Minute, 90*24*60)
				fillShape(b, tc.shape, s, rng, end, tier.Hour, 2*365*24)
			}
			total := tierMemory(b, c, host)
			var mins, hours int64
			for _, topic := range shapeTopics {
				mins += c.XLen(context.Background(), TierKey(host, tier.Minute, topic)).Val()
				hours += c.XLen(context.Background(), TierKey(host, tier.Hour, topic)).Val()
			}
			b.ReportMetric(float64(total)/(1<<20), "MiB/host")
			b.ReportMetric(float64(total)/float64(mins+hours)*float64(len(shapeTopics)), "B/bucket")
			b.ReportMetric(float64(mins)/float64(len(shapeTopics)), "minutes")
			b.ReportMetric(float64(hours)/float64(len(shapeTopics)), "hours")
		})
	}
}

// TestTierStoreOnCluster: three hosts write their tiers through one
// instance's cluster client into a real three-master Redis Cluster; another
// instance reads a 30-day range of each back exactly (at the hour step,
// which a 30-day chart draws) and the last days of minutes. Every tier key
// of a host is in the slot of its event stream.
func TestTierStoreOnCluster(t *testing.T) {
	cl := redistest.StartCluster(t)
	writer, reader := cl.Client(t), cl.Client(t)
	end := time.UnixMilli(1_795_598_940_000).Truncate(time.Hour)
	from := end.Add(-30 * 24 * time.Hour)
	const minuteDays = 2
	rng := rand.New(rand.NewPCG(3, 4))
	for _, host := range []string{"a", "b", "c"} {
		s := NewTierStore(writer, host, TierOptions{})
		var hours []tier.Point
		for t0 := from; t0.Before(end); t0 = t0.Add(time.Hour) {
			hours = append(hours, hostBucket(rng, t0.UnixMilli(), tier.Hour, 3600)...)
		}
		if err := s.Write(hours); err != nil {
			t.Fatal(err)
		}
		fillTiers(t, s, rng, end, tier.Minute, minuteDays*24*60)

		r := NewTierStore(reader, host, TierOptions{})
		for i, topic := range shapeTopics {
			got := readPoints(t, r, tier.Hour, topic, from, end)
			if len(got) != 30*24 {
				t.Fatalf("%s %s: read %d hours of 30 days", host, topic, len(got))
			}
			for j, p := range got {
				if want := float32ish(hours[j*len(shapeTopics)+i]); !reflect.DeepEqual(p, want) {
					t.Fatalf("%s %s hour %d:\n got %+v\nwant %+v", host, topic, j, p, want)
				}
			}
			mins := readPoints(t, r, tier.Minute, topic, end.Add(-minuteDays*24*time.Hour), end)
			if len(mins) != minuteDays*24*60 {
				t.Errorf("%s %s: read %d minutes of %d days", host, topic, len(mins), minuteDays)
			}
			slot := cl.KeySlot(t, StreamKey(host))
			for _, step := range []time.Duration{tier.Minute, tier.Hour} {
				if got := cl.KeySlot(t, TierKey(host, step, topic)); got != slot {
					t.Errorf("%s in slot %d, its events in %d", TierKey(host, step, topic), got, slot)
				}
			}
		}
	}
}

// BenchmarkTierStorePoints reads what a chart of one topic needs from
// Redis: a year of hours, and a day of minutes, of the busiest topic
// (disk: 24 fields). Figures in bench/cluster.md.
func BenchmarkTierStorePoints(b *testing.B) {
	c := redistest.Start(b).Client(b)
	end := time.UnixMilli(1_795_598_940_000).Truncate(time.Hour)
	s := NewTierStore(c, "h", TierOptions{})
	rng := rand.New(rand.NewPCG(1, 2))
	fillTiers(b, s, rng, end, tier.Hour, 400*24)
	fillTiers(b, s, rng, end, tier.Minute, 3*24*60)
	for _, tc := range []struct {
		name string
		step time.Duration
		span time.Duration
		want int
	}{{"year-of-hours", tier.Hour, 365 * 24 * time.Hour, 365 * 24}, {"day-of-minutes", tier.Minute, 24 * time.Hour, 24 * 60}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				n := 0
				if err := s.Points(tc.step, "disk", end.Add(-tc.span), end, func(tier.Point) bool { n++; return true }); err != nil {
					b.Fatal(err)
				}
				if n != tc.want {
					b.Fatalf("read %d points, want %d", n, tc.want)
				}
			}
		})
	}
}

// TestTierEntryDecodesOnlyWhatWasWritten: a packed value one byte short or
// long, or a count that isn't a number, is an error, not a wrong point.
func TestTierEntryDecodesOnlyWhatWasWritten(t *testing.T) {
	p := tier.Point{Topic: "cpu", T: 60_000, Step: tier.Minute, Count: 60, Fields: map[string]tier.Stat{
		"total": {Min: 1, Max: 9, Sum: 120, N: 60}, "steal": {N: 60}, "cores.1": {Min: 2, Max: 2, Sum: 40, N: 20}}}
	values, err := encodePoint(p)
	if err != nil {
		t.Fatal(err)
	}
	entry := func(vs []string) redis.XMessage {
		m := redis.XMessage{ID: "60000-0", Values: map[string]any{}}
		for i := 0; i < len(vs); i += 2 {
			m.Values[vs[i]] = vs[i+1]
		}
		return m
	}
	var cache pathCache
	got, err := decodePoint(entry(values), "cpu", tier.Minute, &cache)
	if err != nil || !reflect.DeepEqual(got, float32ish(p)) {
		t.Fatalf("decoded %+v, %v\nwant %+v", got, err, float32ish(p))
	}
	for name, edit := range map[string]func([]string){
		"short":         func(vs []string) { vs[3] = vs[3][:len(vs[3])-1] },
		"long":          func(vs []string) { vs[3] += "\x00" },
		"empty":         func(vs []string) { vs[3] = "" },
		"bad count":     func(vs []string) { vs[1] = "sixty" },
		"one path more": func(vs []string) { vs[2] += "\nuser" },
	} {
		vs := slices.Clone(values)
		edit(vs)
		if _, err := decodePoint(entry(vs), "cpu", tier.Minute, &cache); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := encodePoint(tier.Point{Topic: "x", Count: 1, Fields: map[string]tier.Stat{"a\nb": {N: 1}}}); err == nil {
		t.Error("a path with a newline: no error")
	}
}

// TestTierStoreCapsBytes: a tier past its byte cap loses its oldest
// buckets, every topic alike, and keeps its newest; the other tier,
// under its own cap, keeps its retention.
func TestTierStoreCapsBytes(t *testing.T) {
	c := redistest.Start(t).Client(t)
	const limit = 256 << 10
	s := NewTierStore(c, "h1", TierOptions{MinuteBytes: limit})
	end := time.UnixMilli(1_795_598_940_000)
	rng := rand.New(rand.NewPCG(5, 6))
	fillTiers(t, s, rng, end, tier.Minute, 2*24*60) // about 2.6 MB uncapped
	fillTiers(t, s, rng, end, tier.Hour, 48)
	var used int64
	var oldest []int64
	for _, topic := range shapeTopics {
		n, err := c.MemoryUsage(context.Background(), TierKey("h1", tier.Minute, topic), 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		used += n
		got := readPoints(t, s, tier.Minute, topic, time.UnixMilli(0), end)
		if got[len(got)-1].T != end.Add(-time.Minute).UnixMilli() {
			t.Errorf("%s: newest bucket %d, want the last written", topic, got[len(got)-1].T)
		}
		oldest = append(oldest, got[0].T)
	}
	if used > limit {
		t.Errorf("minutes take %d bytes, cap %d", used, limit)
	}
	if used < limit/2 {
		t.Errorf("minutes take %d bytes: cut far below the cap %d", used, limit)
	}
	for i := range oldest {
		if oldest[i] != oldest[0] {
			t.Errorf("oldest minute per topic %v: want one time for all", oldest)
			break
		}
	}
	if got := readPoints(t, s, tier.Hour, "disk", time.UnixMilli(0), end); len(got) != 48 {
		t.Errorf("hours: %d kept, want all 48", len(got))
	}
}

// TestTierStoreNewest: Newest is the newest bucket's T, per step and
// topic, and says when a stream holds none (a roller restores from it).
func TestTierStoreNewest(t *testing.T) {
	c := newRedisClient(t, redistest.Start(t))
	s := NewTierStore(c, "h1", TierOptions{})
	if _, found, err := s.Newest(tier.Minute, "cpu"); found || err != nil {
		t.Fatalf("empty store: found %v, err %v", found, err)
	}
	const t0 = 1_795_598_940_000
	var pts []tier.Point
	for i := range int64(3) {
		pts = append(pts, tier.Point{Topic: "cpu", T: t0 + i*60_000, Step: tier.Minute, Count: 60,
			Fields: map[string]tier.Stat{"total": {Min: 1, Max: 2, Sum: 90, N: 60}}})
	}
	if err := s.Write(pts); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(pts[2:]); err != nil { // written again: "<T>-1"
		t.Fatal(err)
	}
	if got, found, err := s.Newest(tier.Minute, "cpu"); got != t0+120_000 || !found || err != nil {
		t.Errorf("Newest = %d, %v, %v; want %d", got, found, err, int64(t0+120_000))
	}
	if _, found, _ := s.Newest(tier.Hour, "cpu"); found {
		t.Error("the hour tier holds nothing, yet Newest found a point")
	}
	if _, _, err := s.Newest(time.Second, "cpu"); err == nil {
		t.Error("a step that is no tier: no error")
	}
}
