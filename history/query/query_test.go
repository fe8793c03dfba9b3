package query

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"testing"
	"time"

	"vitals/history"
	"vitals/history/tier"
	"vitals/history/tier/tiertest"
)

var topics = []string{"cpu", "memory", "alerts"}

// t0 is a round time: every tier's buckets start on it.
var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// newBroker is a real history on a temp file whose clocks stand at now.
func newBroker(t testing.TB, now time.Time) *history.Broker {
	t.Helper()
	b, err := history.Open(history.Options{Dir: t.TempDir(), Topics: topics, Retention: time.Hour, MaxBytes: 64 << 20,
		Now: func() time.Time { return now }, Elapsed: func() time.Duration { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func publish(t *testing.T, b *history.Broker, at time.Time, cpu string) {
	t.Helper()
	data := fmt.Sprintf(`{"t":%d,%s}`, at.UnixMilli(), cpu)
	if err := b.Publish(at, []history.Sample{{Topic: "cpu", Data: []byte(data)}}); err != nil {
		t.Fatal(err)
	}
}

func engine(now time.Time) Engine {
	return Engine{Interval: time.Second, Raw: time.Hour, Now: func() time.Time { return now }}
}

func minute(t time.Time, count uint32, fields map[string]tier.Stat, marks ...tier.Mark) tier.Point {
	return tier.Point{Topic: "cpu", T: t.UnixMilli(), Step: tier.Minute, Count: count, Fields: fields, Marks: marks}
}

func stat(vs ...float64) tier.Stat {
	var s tier.Stat
	for _, v := range vs {
		s.Add(v)
	}
	return s
}

func TestParseTime(t *testing.T) {
	now := t0.Add(12 * time.Hour)
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "now", want: now},
		{in: "", want: now},
		{in: "-15m", want: now.Add(-15 * time.Minute)},
		{in: "-7d", want: now.Add(-7 * 24 * time.Hour)},
		{in: "now-1d12h", want: now.Add(-36 * time.Hour)},
		{in: "-1y", want: now.Add(-365 * 24 * time.Hour)},
		{in: "-2w", want: now.Add(-14 * 24 * time.Hour)},
		{in: "1795598979000", want: time.UnixMilli(1795598979000)},
		{in: "1795598979", want: time.Unix(1795598979, 0)}, // unix seconds, as Prometheus gives them
		{in: "0", want: time.Unix(0, 0)},
		{in: "-57y", bad: true}, // before 1970
		{in: "1969-12-31T23:00:00Z", bad: true},
		{in: "2026-11-01T00:00:00 01:00", bad: true}, // a + the URL turned into a space
		{in: "2026-11-01T00:00:00Z", want: t0},
		{in: "-0s", bad: true},
		{in: "-7x", bad: true},
		{in: "-d", bad: true},
		{in: "-1000y", bad: true},
		{in: "yesterday", bad: true},
		{in: "-1", bad: true},
	} {
		got, err := ParseTime(tc.in, now)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseTime(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseRequestNamesTheBadParameter(t *testing.T) {
	for name, tc := range map[string]struct{ query, param string }{
		"no topic":         {"fields=total", "topic"},
		"bad from":         {"topic=cpu&from=yesterday", "from"},
		"bad to":           {"topic=cpu&to=-7q", "to"},
		"empty range":      {"topic=cpu&from=-1h&to=-2h", "from"},
		"zero points":      {"topic=cpu&points=0", "points"},
		"one point":        {"topic=cpu&points=1", "points"},
		"absurd points":    {"topic=cpu&points=1000000", "points"},
		"points not whole": {"topic=cpu&points=1.5", "points"},
	} {
		q, _ := url.ParseQuery(tc.query)
		_, err := ParseRequest(q, t0)
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != tc.param {
			t.Errorf("%s: err %v, want a ParamError on %q", name, err, tc.param)
		}
	}
	q, _ := url.ParseQuery("topic=cpu&fields=total,,user,total&from=-7d&points=800")
	r, err := ParseRequest(q, t0)
	if err != nil || r.Topic != "cpu" || fmt.Sprint(r.Fields) != "[total user]" || !r.From.Equal(t0.Add(-7*24*time.Hour)) ||
		!r.To.Equal(t0) || r.Points != 800 {
		t.Errorf("ParseRequest = %+v, %v", r, err)
	}
}

func TestQueryRejects(t *testing.T) {
	now := t0.Add(time.Hour)
	b := newBroker(t, now)
	publish(t, b, now.Add(-time.Second), `"total":5,"user":3`)
	for name, tc := range map[string]struct {
		req   Request
		param string
	}{
		"unknown topic":  {Request{Topic: "gpu0", From: t0, To: now}, "topic"},
		"alerts":         {Request{Topic: "alerts", From: t0, To: now}, "topic"},
		"unknown field":  {Request{Topic: "cpu", Fields: []string{"total", "nope"}, From: t0, To: now}, "fields"},
		"reversed range": {Request{Topic: "cpu", From: now, To: t0}, "from"},
		"points":         {Request{Topic: "cpu", From: t0, To: now, Points: MaxPoints + 1}, "points"},
	} {
		_, err := engine(now).Query(b, tiertest.NewMem(), tc.req)
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != tc.param {
			t.Errorf("%s: err %v, want a ParamError on %q", name, err, tc.param)
		}
	}
}

func TestTierAndStep(t *testing.T) {
	now := t0.Add(400 * 24 * time.Hour)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name     string
		span     time.Duration
		points   int
		noStore  bool
		tier     string
		step     time.Duration
		maxCount int
	}{
		{"5m at 1500 is every tick", 5 * time.Minute, 1500, false, TierRaw, time.Second, 300},
		{"1h at 1500: 3 s", time.Hour, 1500, false, TierRaw, 3 * time.Second, 1500},
		{"1h at 600: 6 s", time.Hour, 600, false, TierRaw, 6 * time.Second, 600},
		{"6h: minutes", 6 * time.Hour, 1500, false, TierMinute, time.Minute, 1500},
		{"7d: 7 min", 7 * day, 1500, false, TierMinute, 7 * time.Minute, 1500},
		{"90d: minutes, 87 min", 90 * day, 1500, false, TierMinute, 87 * time.Minute, 1500},
		{"1y: hours, 6 h", 365 * day, 1500, false, TierHour, 6 * time.Hour, 1500},
		{"1y at 10000: every hour", 365 * day, 10000, false, TierHour, time.Hour, 8761},
		{"7d without a store: raw", 7 * day, 1500, true, TierRaw, 404 * time.Second, 1500},
	} {
		var store tier.Store
		if !tc.noStore {
			store = tiertest.NewMem()
		}
		b := newBroker(t, now)
		publish(t, b, now.Add(-time.Second), `"total":5`)
		res, err := engine(now).Query(b, store, Request{Topic: "cpu", From: now.Add(-tc.span), To: now, Points: tc.points})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Tier != tc.tier || res.Step != tc.step.Milliseconds() || len(res.T) > tc.maxCount || len(res.T) > tc.points {
			t.Errorf("%s: tier %s step %d ms, %d points; want %s, %v, at most %d", tc.name, res.Tier, res.Step, len(res.T),
				tc.tier, tc.step, min(tc.maxCount, tc.points))
		}
		if wantTiers := map[bool]int{true: 1, false: 3}[tc.noStore]; len(res.Tiers) != wantTiers {
			t.Errorf("%s: tiers %v", tc.name, res.Tiers)
		}
		for i := 1; i < len(res.T); i++ {
			if res.T[i]-res.T[i-1] != res.Step || res.T[i]%res.Step != 0 {
				t.Fatalf("%s: t not aligned steps: %v", tc.name, res.T[i-1:i+1])
			}
		}
	}
}

func TestRawReductionKeepsSpikes(t *testing.T) {
	now := t0.Add(time.Hour)
	b := newBroker(t, now)
	// Ten minutes of 1 s ticks at 10 %, one spike to 100 % and one dip to 0.
	start := now.Add(-10 * time.Minute)
	for i := range 600 {
		v := 10.0
		switch i {
		case 137:
			v = 100
		case 401:
			v = 0
		}
		publish(t, b, start.Add(time.Duration(i)*time.Second), fmt.Sprintf(`"total":%g,"cores":[%g,1],"core_ids":[0,2]`, v, v))
	}
	res, err := engine(now).Query(b, nil, Request{Topic: "cpu", From: start, To: now, Points: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tier != TierRaw || res.Step != 30_000 || len(res.T) != 20 {
		t.Fatalf("tier %s step %d len %d", res.Tier, res.Step, len(res.T))
	}
	tot := res.Series["total"]
	if tot.Max[137/30] != 100 || tot.Min[401/30] != 0 || res.Count[0] != 30 {
		t.Errorf("spike lost: max %v min %v count %v", tot.Max, tot.Min, res.Count)
	}
	if want := (29*10.0 + 100) / 30; math.Abs(tot.Mean[137/30]-want) > 1e-9 {
		t.Errorf("mean %v, want %v", tot.Mean[137/30], want)
	}
	if _, ok := res.Series["cores.2"]; !ok {
		t.Errorf("cores keyed by position, not CPU number: %v", keys(res.Series))
	}
	if len(res.Gaps) != 0 || res.NewestEnd != now.UnixMilli() {
		t.Errorf("gaps %v, newest_end %d", res.Gaps, res.NewestEnd)
	}
	if n := tot.N[137/30]; n != 30 {
		t.Errorf("n %d, want 30", n)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestReductionProperty: however the buckets fall, reducing rollup points
// keeps the global min, max, sample count and count-weighted mean.
func TestReductionProperty(t *testing.T) {
	now := t0.Add(60 * 24 * time.Hour)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 30 {
		store := tiertest.NewMem()
		var all tier.Stat
		var ticks uint32
		from := now.Add(-time.Duration(1+rng.IntN(30*24)) * time.Hour)
		var pts []tier.Point
		for m := from.Truncate(time.Minute); m.Before(now); m = m.Add(time.Minute) {
			if rng.IntN(10) == 0 {
				continue // a gap
			}
			var s tier.Stat
			n := 1 + rng.IntN(60)
			for range n {
				s.Add(rng.NormFloat64()*20 + 50)
			}
			if m.Before(from) {
				continue
			}
			all.Merge(s)
			ticks += uint32(n)
			pts = append(pts, minute(m, uint32(n), map[string]tier.Stat{"total": s}))
		}
		if err := store.Write(pts); err != nil {
			t.Fatal(err)
		}
		b := newBroker(t, now)
		points := 2 + rng.IntN(3000)
		res, err := engine(now).Query(b, store, Request{Topic: "cpu", Fields: []string{"total"}, From: from, To: now, Points: points})
		if err != nil {
			t.Fatal(err)
		}
		var got tier.Stat
		var gotTicks uint32
		s := res.Series["total"]
		for i := range res.T {
			gotTicks += res.Count[i]
			if math.IsNaN(s.Mean[i]) {
				if res.Count[i] != 0 {
					t.Fatalf("round %d: point %d has %d ticks and no value", round, i, res.Count[i])
				}
				continue
			}
			if s.Min[i] > s.Mean[i] || s.Mean[i] > s.Max[i] {
				t.Fatalf("round %d: point %d min %v mean %v max %v", round, i, s.Min[i], s.Mean[i], s.Max[i])
			}
			got.Merge(tier.Stat{Min: s.Min[i], Max: s.Max[i], Sum: s.Mean[i] * float64(res.Count[i]), N: res.Count[i]})
		}
		if len(res.T) > points || got.Min != all.Min || got.Max != all.Max || gotTicks != ticks ||
			math.Abs(got.Mean()-all.Mean()) > 1e-9*math.Abs(all.Mean()) {
			t.Fatalf("round %d (%d points of %d): got min %v max %v mean %v ticks %d; want %v %v %v %d", round, len(res.T), points,
				got.Min, got.Max, got.Mean(), gotTicks, all.Min, all.Max, all.Mean(), ticks)
		}
	}
}

func TestGaps(t *testing.T) {
	now := t0.Add(30 * 24 * time.Hour)
	store := tiertest.NewMem()
	from := now.Add(-2 * 24 * time.Hour)
	var pts []tier.Point
	down := from.Add(10 * time.Hour)                                                      // offline with no mark: 3 hours
	restartAt := from.Add(20 * time.Hour)                                                 // down 2 h before it, said by a restart mark
	lateAt := from.Add(30 * time.Hour)                                                    // 5 skipped ticks
	for m := from.Add(time.Hour); m.Before(now.Add(-time.Hour)); m = m.Add(time.Minute) { // the first hour was never kept
		if !m.Before(down) && m.Before(down.Add(3*time.Hour)) || !m.Before(restartAt.Add(-2*time.Hour)) && m.Before(restartAt) {
			continue
		}
		p := minute(m, 60, map[string]tier.Stat{"total": stat(1, 2)})
		switch m {
		case restartAt:
			p.Marks = []tier.Mark{{T: m.UnixMilli() + 1000, Kind: "restart", Value: (2*time.Hour + time.Second).Milliseconds()}}
		case lateAt:
			p.Marks = []tier.Mark{{T: m.UnixMilli() + 5000, Kind: "skipped", Value: 5}, {T: m.UnixMilli() + 9000, Kind: "skipped", Value: 1}}
		}
		pts = append(pts, p)
	}
	if err := store.Write(pts); err != nil {
		t.Fatal(err)
	}
	b := newBroker(t, now)
	res, err := engine(now).Query(b, store, Request{Topic: "cpu", Fields: []string{"total"}, From: from, To: now, Points: 2 * 24 * 60})
	if err != nil {
		t.Fatal(err)
	}
	want := []Gap{
		{From: down.UnixMilli(), To: down.Add(3 * time.Hour).UnixMilli(), Kind: GapOffline},
		{From: restartAt.Add(-2 * time.Hour).UnixMilli(), To: restartAt.UnixMilli() + 1000, Kind: GapRestart},
		{From: lateAt.UnixMilli() - 1000, To: lateAt.UnixMilli() + 5000, Kind: GapLate}, // from the tick before the skipped ones
		{From: now.Add(-time.Hour).UnixMilli(), To: now.UnixMilli(), Kind: GapOffline},
	}
	if fmt.Sprint(res.Gaps) != fmt.Sprint(want) {
		t.Errorf("gaps\n got %v\nwant %v", res.Gaps, want)
	}
	if c := res.Count[0]; c != 0 || !math.IsNaN(res.Series["total"].Mean[0]) {
		t.Errorf("never-kept minute has count %d mean %v", c, res.Series["total"].Mean[0])
	}
}

func TestHoursThenMinutesOfTheHourInProgress(t *testing.T) {
	now := t0.Add(400*24*time.Hour + 42*time.Minute)
	store := tiertest.NewMem()
	var pts []tier.Point
	hourNow := now.Truncate(time.Hour)
	for h := hourNow.Add(-24 * time.Hour); h.Before(hourNow); h = h.Add(time.Hour) {
		pts = append(pts, tier.Point{Topic: "cpu", T: h.UnixMilli(), Step: tier.Hour, Count: 3600,
			Fields: map[string]tier.Stat{"total": {Min: 1, Max: 3, Sum: 7200, N: 3600}}})
	}
	// A partial point of the hour in progress (a simulated fill that
	// ended mid-hour): the minutes answer for that hour, not it.
	pts = append(pts, tier.Point{Topic: "cpu", T: hourNow.UnixMilli(), Step: tier.Hour, Count: 600,
		Fields: map[string]tier.Stat{"total": {Min: 50, Max: 50, Sum: 30000, N: 600}}})
	// Minutes of the last stored hour (must not count twice) and of the
	// hour in progress.
	for m := hourNow.Add(-time.Hour); m.Before(now); m = m.Add(time.Minute) {
		pts = append(pts, minute(m, 60, map[string]tier.Stat{"total": {Min: 0, Max: 9, Sum: 60 * 4, N: 60}}))
	}
	if err := store.Write(pts); err != nil {
		t.Fatal(err)
	}
	b := newBroker(t, now)
	res, err := engine(now).Query(b, store, Request{Topic: "cpu", From: now.Add(-200 * 24 * time.Hour), To: now, Points: 10000})
	if err != nil {
		t.Fatal(err)
	}
	last := len(res.T) - 1
	if res.Tier != TierHour || res.Step != time.Hour.Milliseconds() || res.T[last] != hourNow.UnixMilli() {
		t.Fatalf("tier %s step %d last %d", res.Tier, res.Step, res.T[last])
	}
	if res.NewestEnd != now.UnixMilli() {
		t.Errorf("newest_end %d, want the end of the newest minute %d", res.NewestEnd, now.UnixMilli())
	}
	if res.Count[last] != 42*60 || res.Count[last-1] != 3600 || res.Series["total"].Max[last] != 9 || res.Series["total"].Max[last-1] != 3 {
		t.Errorf("last hours: count %v max %v", res.Count[last-1:], res.Series["total"].Max[last-1:])
	}
}

func TestValuesJSON(t *testing.T) {
	b, _ := Values{1, math.NaN(), 0.1, 1e21, -2}.MarshalJSON()
	if string(b) != "[1,null,0.1,1e+21,-2]" {
		t.Errorf("got %s", b)
	}
}

// The raw window and the tiers name a field by one rule (the tier
// package's flattener), so a chart's series keep their names from 1 h to
// 1 y: items by their name field, constant leaves left out.
func TestRawFieldsAreTheTiersFields(t *testing.T) {
	now := t0.Add(time.Hour)
	b := newBroker(t, now)
	payload := `"total":5,"cores":[1,2],"core_ids":[4,6],"sensors":[{"id":"cpu0","temp":50,"crit":95}],"filesystems":[{"mount":"/","name":"vda1","used":3}]`
	publish(t, b, now.Add(-time.Minute), payload)
	res, err := engine(now).Query(b, nil, Request{Topic: "cpu", From: now.Add(-2 * time.Minute), To: now, Points: 10})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	var f tier.Flattener
	if err := f.Flatten([]byte("{"+payload+"}"), func(p []byte, _ float64) { want = append(want, string(p)) }, nil); err != nil {
		t.Fatal(err)
	}
	got := keys(res.Series)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || !slices.Contains(got, "sensors.cpu0.temp") || slices.Contains(got, "sensors.cpu0.crit") {
		t.Fatalf("raw fields %v, tier fields %v", got, want)
	}
}

// A store's fast path (tier.SeriesReader: the history file's Series)
// answers exactly what its Points does: the same columns, counts and gaps.
func TestSeriesReaderAnswersAsPoints(t *testing.T) {
	now := t0.Add(30 * 24 * time.Hour)
	pts := benchPoints(now, tier.Minute, 2*24*time.Hour)
	pts[100].Marks = []tier.Mark{{T: pts[100].T + 5000, Kind: tier.MarkRestart, Value: 120_000}}
	pts = slices.Delete(pts, 200, 260) // an hour offline
	src := newBroker(t, now)
	bolt := boltStore(t, src, now, tier.Minute, 0)
	if err := bolt.Write(pts); err != nil {
		t.Fatal(err)
	}
	pointsOnly := struct{ tier.Store }{bolt} // hides Series
	for _, fields := range [][]string{{"total", "cores.1"}, {"total", "nope"}} {
		req := Request{Topic: "cpu", Fields: fields, From: now.Add(-2 * 24 * time.Hour), To: now, Points: 300}
		want, wantErr := engine(now).Query(src, pointsOnly, req)
		got, gotErr := engine(now).Query(src, bolt, req)
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) || string(w) != string(g) {
			t.Errorf("fields %v: Series answered %.300s (%v), Points %.300s (%v)", fields, g, gotErr, w, wantErr)
		}
		if wantErr == nil && (len(want.Gaps) != 2 || want.Series["total"].N[0] == 0) {
			t.Errorf("fields %v: gaps %v, n %v", fields, want.Gaps, want.Series["total"].N[:3])
		}
	}
}
