package tier

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// memStore is a Store in a map, for the roller's tests.
type memStore struct {
	points map[time.Duration]map[string][]Point
	writes int
	fail   error
}

func newMemStore() *memStore { return &memStore{points: map[time.Duration]map[string][]Point{}} }

func (m *memStore) Write(ps []Point) error {
	if m.fail != nil {
		return m.fail
	}
	m.writes++
	for _, p := range ps {
		if m.points[p.Step] == nil {
			m.points[p.Step] = map[string][]Point{}
		}
		old := m.points[p.Step][p.Topic]
		i, found := slices.BinarySearchFunc(old, p.T, func(a Point, t int64) int { return int(a.T - t) })
		if found {
			old[i] = p
		} else {
			m.points[p.Step][p.Topic] = slices.Insert(old, i, p)
		}
	}
	return nil
}

func (m *memStore) Points(step time.Duration, topic string, from, to time.Time, fn func(Point) bool) error {
	for _, p := range m.points[step][topic] {
		if p.T >= from.UnixMilli() && p.T < to.UnixMilli() && !fn(p) {
			break
		}
	}
	return nil
}

func (m *memStore) Newest(step time.Duration, topic string) (int64, bool, error) {
	ps := m.points[step][topic]
	if len(ps) == 0 {
		return 0, false, nil
	}
	return ps[len(ps)-1].T, true, nil
}

func cpu(v float64) Sample {
	return Sample{Topic: "cpu", Data: fmt.Appendf(nil, `{"t":0,"total":%g}`, v)}
}

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func TestRollerMinuteArithmetic(t *testing.T) {
	cases := []struct {
		name   string
		ticks  map[time.Duration]float64 // offset in the minute -> cpu total
		want   Stat
		count  uint32
		points int
	}{
		{"one tick", map[time.Duration]float64{0: 5}, Stat{Min: 5, Max: 5, Sum: 5, N: 1}, 1, 1},
		{"spike survives", map[time.Duration]float64{0: 1, time.Second: 100, 2 * time.Second: 1}, Stat{Min: 1, Max: 100, Sum: 102, N: 3}, 3, 1},
		{"negative and zero", map[time.Duration]float64{0: -2, 59 * time.Second: 0}, Stat{Min: -2, Max: 0, Sum: -2, N: 2}, 2, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := newMemStore()
			r := NewRoller(RollerOptions{Store: st})
			for _, off := range slices.Sorted(mapsKeys(c.ticks)) {
				if p := r.Tick(t0.Add(off), []Sample{cpu(c.ticks[off])}); p != nil {
					t.Fatalf("rollup before the minute ended: %s", p)
				}
			}
			if r.Tick(t0.Add(Minute), []Sample{cpu(0)}) == nil {
				t.Fatal("no rollup when the next minute began")
			}
			got := st.points[Minute]["cpu"]
			if len(got) != c.points {
				t.Fatalf("points = %d, want %d", len(got), c.points)
			}
			if got[0].Fields["total"] != c.want || got[0].Count != c.count || got[0].T != t0.UnixMilli() {
				t.Errorf("point %+v, want total %+v count %d", got[0], c.want, c.count)
			}
		})
	}
}

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestRollerProperty: for random ticks over three hours, with random
// gaps, every minute and hour point equals the rollup of its raw samples,
// and merging an hour's minutes gives the hour point.
func TestRollerProperty(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		st := newMemStore()
		r := NewRoller(RollerOptions{Store: st})
		raw := map[time.Duration]map[int64][]float64{Minute: {}, Hour: {}}
		step := time.Duration(1+rng.IntN(10)) * time.Second
		for at := t0; at.Before(t0.Add(3 * Hour)); at = at.Add(step) {
			if rng.IntN(100) < 3 { // a gap of up to 20 minutes
				at = at.Add(time.Duration(rng.IntN(20)) * Minute)
			}
			v := math.Round(rng.NormFloat64()*1000) / 100
			r.Tick(at, []Sample{cpu(v)})
			for _, s := range []time.Duration{Minute, Hour} {
				k := floor(at.UnixMilli(), s)
				raw[s][k] = append(raw[s][k], v)
			}
		}
		r.Tick(t0.Add(5*Hour), nil) // completes the last minute and hour
		for _, s := range []time.Duration{Minute, Hour} {
			got := st.points[s]["cpu"]
			if len(got) != len(raw[s]) {
				t.Fatalf("seed %d step %v: %d points for %d buckets with samples", seed, s, len(got), len(raw[s]))
			}
			for _, p := range got {
				vs := raw[s][p.T]
				want := Stat{Min: slices.Min(vs), Max: slices.Max(vs), N: uint32(len(vs))}
				for _, v := range vs {
					want.Sum += v
				}
				f := p.Fields["total"]
				if f.Min != want.Min || f.Max != want.Max || f.N != want.N || p.Count != want.N ||
					math.Abs(f.Sum-want.Sum) > 1e-9*math.Max(1, math.Abs(want.Sum)) {
					t.Fatalf("seed %d step %v at %d: got %+v (count %d), want %+v", seed, s, p.T, f, p.Count, want)
				}
			}
		}
		for _, h := range st.points[Hour]["cpu"] {
			var merged Stat
			for _, m := range st.points[Minute]["cpu"] {
				if floor(m.T, Hour) == h.T {
					merged.Merge(m.Fields["total"])
				}
			}
			if merged != h.Fields["total"] {
				t.Fatalf("seed %d: hour %d = %+v, merged minutes = %+v", seed, h.T, h.Fields["total"], merged)
			}
		}
	}
}

func TestRollerGapsHaveNoPoint(t *testing.T) {
	st := newMemStore()
	r := NewRoller(RollerOptions{Store: st})
	r.Tick(t0, []Sample{cpu(1)})
	r.Tick(t0.Add(10*Minute), []Sample{cpu(2)}) // down for nine minutes
	r.Tick(t0.Add(11*Minute), []Sample{cpu(3)})
	var ts []int64
	for _, p := range st.points[Minute]["cpu"] {
		ts = append(ts, (p.T-t0.UnixMilli())/60000)
	}
	if !slices.Equal(ts, []int64{0, 10}) {
		t.Errorf("minutes with points: %v, want [0 10]", ts)
	}
}

func TestRollerMarksAndClockStepBack(t *testing.T) {
	st := newMemStore()
	r := NewRoller(RollerOptions{Store: st})
	r.Tick(t0.Add(5*Minute), []Sample{cpu(1)})
	// The clock steps back ten minutes: the tick stays in the open minute.
	back := Sample{Topic: "cpu", Data: []byte(`{"t":0,"total":2,"clock_step":-600000}`)}
	if p := r.Tick(t0.Add(-5*Minute), []Sample{back}); p != nil {
		t.Fatalf("a step back completed a minute: %s", p)
	}
	r.Tick(t0.Add(6*Minute), []Sample{cpu(3)})
	got := st.points[Minute]["cpu"]
	if len(got) != 1 || got[0].T != t0.Add(5*Minute).UnixMilli() || got[0].Count != 2 {
		t.Fatalf("points %+v, want the one minute at +5m with both ticks", got)
	}
	want := []Mark{{T: t0.Add(-5 * Minute).UnixMilli(), Kind: MarkClockStep, Value: -600000}}
	if !slices.Equal(got[0].Marks, want) {
		t.Errorf("marks %v, want %v", got[0].Marks, want)
	}
}

func TestRollerRetriesFailedWrites(t *testing.T) {
	st := newMemStore()
	r := NewRoller(RollerOptions{Store: st})
	st.fail = fmt.Errorf("disk full")
	r.Tick(t0, []Sample{cpu(1)})
	r.Tick(t0.Add(Minute), []Sample{cpu(1)})
	st.fail = nil
	r.Tick(t0.Add(2*Minute), []Sample{cpu(1)})
	if n := len(st.points[Minute]["cpu"]); n != 2 {
		t.Errorf("%d minutes stored after the store recovered, want 2", n)
	}
}

func TestRestoreRebuildsTheMinuteAndHour(t *testing.T) {
	// One run: stored minutes 10:00..10:29, then ticks of 10:30 (only in
	// the raw history) when it was killed.
	st := newMemStore()
	first := NewRoller(RollerOptions{Store: st})
	var raw []time.Time
	for at := t0; at.Before(t0.Add(30*Minute + 30*time.Second)); at = at.Add(time.Second) {
		first.Tick(at, []Sample{cpu(1)})
		raw = append(raw, at)
	}
	second := NewRoller(RollerOptions{Store: st})
	rollups, err := second.Restore([]string{"cpu"}, func(after int64, tick func(time.Time, []Sample)) error {
		for _, at := range raw {
			if at.UnixMilli() > after {
				tick(at, []Sample{cpu(1)})
			}
		}
		return nil
	})
	if err != nil || len(rollups) != 0 {
		t.Fatalf("Restore: %d rollups, %v", len(rollups), err)
	}
	for at := t0.Add(31 * Minute); at.Before(t0.Add(Hour + Minute)); at = at.Add(time.Second) {
		second.Tick(at, []Sample{cpu(1)})
	}
	m := st.points[Minute]["cpu"]
	if p := m[30]; p.T != t0.Add(30*Minute).UnixMilli() || p.Count != 30 {
		t.Errorf("minute 10:30 = %+v, want its 30 ticks from before the kill", p)
	}
	h := st.points[Hour]["cpu"]
	if len(h) != 1 || h[0].Count != 60*60-30 {
		t.Errorf("hour points %+v, want 10:00 with %d ticks", h, 60*60-30)
	}
}

func TestRollupPayload(t *testing.T) {
	p := RollupPayload(60000, []Point{
		{Topic: "cpu", T: 60000, Step: Minute, Count: 2, Fields: map[string]Stat{"total": {Min: 1, Max: 3, Sum: 4, N: 2}},
			Marks: []Mark{{T: 61000, Kind: MarkRestart, Value: 5000}}},
		{Topic: "load", T: 60000, Step: Minute, Count: 2, Fields: map[string]Stat{"load1": {Min: 0.5, Max: 0.5, Sum: 1, N: 2}}},
	})
	want := `{"t":60000,"step":60000,"points":{"cpu":{"count":2,"fields":{"total":[1,3,4,2]},"marks":[{"t":61000,"kind":"restart","value":5000}]},` +
		`"load":{"count":2,"fields":{"load1":[0.5,0.5,1,2]}}}}`
	if string(p) != want {
		t.Errorf("payload\n got %s\nwant %s", p, want)
	}
}
