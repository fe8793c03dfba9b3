package query

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"time"

	"vitals/history/tier"
)

// accum folds samples and rollup points into the answer's buckets.
type accum struct {
	start, step int64
	count       []uint32
	all         bool                 // every field is wanted (no fields asked)
	wanted      []string             // the fields asked for, in order
	fields      map[string]*fieldAcc // every field met, wanted or not
	marks       []tier.Mark
	newestEnd   int64 // end of the newest point or tick folded in, unix ms
}

// fieldAcc is one field's buckets: col is nil for a field not asked for,
// which is only noted as met. One map lookup per field and point finds
// it: the reduction's cost is that lookup on a long range.
type fieldAcc struct {
	want bool
	col  []tier.Stat
}

func newAccum(start, step int64, n int, fields []string) *accum {
	a := &accum{start: start, step: step, count: make([]uint32, n), all: fields == nil, wanted: fields,
		fields: map[string]*fieldAcc{}}
	for _, f := range fields {
		a.fields[f] = &fieldAcc{want: true}
	}
	return a
}

// field is f's accumulator, made on first sight.
func (a *accum) field(f string) *fieldAcc {
	fa, ok := a.fields[f]
	if !ok {
		fa = &fieldAcc{want: a.all}
		a.fields[f] = fa
	}
	if fa.want && fa.col == nil {
		fa.col = make([]tier.Stat, len(a.count))
	}
	return fa
}

// seen says whether field f was met in the data read.
func (a *accum) seen(f string) bool {
	fa, ok := a.fields[f]
	return ok && (fa.col != nil || !fa.want)
}

// seenFields lists the fields met, sorted.
func (a *accum) seenFields() []string {
	m := map[string]bool{}
	for f := range a.fields {
		if a.seen(f) {
			m[f] = true
		}
	}
	return sortedKeys(m)
}

// index is the bucket t falls in.
func (a *accum) index(t int64) (int, bool) {
	i := floorDiv(t-a.start, a.step)
	return int(i), i >= 0 && i < int64(len(a.count))
}

// add counts one raw sample of field in bucket i.
func (a *accum) add(i int, field []byte, v float64) {
	fa, ok := a.fields[string(field)] // a lookup by bytes: no allocation
	if !ok || (fa.want && fa.col == nil) {
		fa = a.field(string(field))
	}
	if fa.want {
		fa.col[i].Add(v)
	}
}

// addPoint merges a rollup point into its bucket; it always asks for more.
func (a *accum) addPoint(p tier.Point) bool {
	i, ok := a.index(p.T)
	if !ok {
		return true
	}
	a.count[i] += p.Count
	a.newestEnd = max(a.newestEnd, p.T+p.Step.Milliseconds())
	for f, st := range p.Fields {
		if fa := a.field(f); fa.want {
			fa.col[i].Merge(st)
		}
	}
	a.marks = append(a.marks, p.Marks...)
	return true
}

// addStats merges one point of the fields asked for (stats[i] is
// a.wanted[i]'s, from a tier.SeriesReader) into its bucket.
func (a *accum) addStats(t int64, step time.Duration, count uint32, stats []tier.Stat, marks []tier.Mark) {
	i, ok := a.index(t)
	if !ok {
		return
	}
	a.count[i] += count
	a.newestEnd = max(a.newestEnd, t+step.Milliseconds())
	for j, st := range stats {
		if st.N > 0 {
			a.field(a.wanted[j]).col[i].Merge(st)
		}
	}
	a.marks = append(a.marks, marks...)
}

// read folds store's points of topic at step in [from, to) into a, by the
// store's SeriesReader when it has one and only some fields are wanted
// (the fast path: no map per point), else by Points. It returns the end
// of the newest point read, from when there was none.
func (a *accum) read(store tier.Store, step time.Duration, topic string, from, to time.Time) (time.Time, error) {
	end := from.UnixMilli()
	if sr, ok := store.(tier.SeriesReader); ok && !a.all {
		err := sr.Series(step, topic, a.wanted, from, to, func(t int64, count uint32, stats []tier.Stat, marks []tier.Mark) bool {
			a.addStats(t, step, count, stats, marks)
			end = max(end, t+step.Milliseconds())
			return true
		})
		return time.UnixMilli(end), err
	}
	err := store.Points(step, topic, from, to, func(p tier.Point) bool {
		end = max(end, p.T+p.Step.Milliseconds())
		return a.addPoint(p)
	})
	return time.UnixMilli(end), err
}

// series is field's columns: NaN where a bucket has no sample of it.
func (a *accum) series(field string) Series {
	n := len(a.count)
	s := Series{Mean: make(Values, n), Min: make(Values, n), Max: make(Values, n), N: make([]uint32, n)}
	var col []tier.Stat
	if fa := a.fields[field]; fa != nil {
		col = fa.col
	}
	for i := range n {
		if col == nil || col[i].N == 0 {
			s.Mean[i], s.Min[i], s.Max[i] = math.NaN(), math.NaN(), math.NaN()
			continue
		}
		s.Mean[i], s.Min[i], s.Max[i], s.N[i] = col[i].Mean(), col[i].Min, col[i].Max, col[i].N
	}
	return s
}

// gaps lists the spans with no samples in [from, to): first those the
// server's marks explain, then every run of empty buckets after the first
// sample that no mark covers, as "offline". Empty buckets before the first
// sample are history that was never kept, not a gap; a trailing run within
// two base steps of now is the bucket still being filled.
func (e Engine) gaps(a *accum, from, to, now, base int64) []Gap {
	interval := e.Interval.Milliseconds()
	var out, covered []Gap
	slices.SortFunc(a.marks, func(x, y tier.Mark) int { return cmp.Compare(x.T, y.T) })
	for _, m := range a.marks {
		var g Gap
		switch m.Kind {
		case tier.MarkRestart:
			g = Gap{From: m.T - m.Value, To: m.T, Kind: GapRestart}
		case tier.MarkSkipped:
			g = Gap{From: m.T - (m.Value+1)*interval, To: m.T, Kind: GapLate}
		case tier.MarkClockStep:
			g = Gap{From: m.T - interval, To: m.T, Kind: GapClock, Step: m.Value}
		default:
			continue
		}
		g.From, g.To = max(g.From, from), min(g.To, to)
		if g.From >= g.To {
			continue
		}
		covered = append(covered, g)
		// One skipped tick is not worth a band (as on the live view): the
		// line just misses one point.
		if g.Kind != GapLate || m.Value >= 2 {
			out = append(out, g)
		}
	}
	first := slices.IndexFunc(a.count, func(c uint32) bool { return c > 0 })
	if first < 0 {
		return out
	}
	n := len(a.count)
	for i := first; i < n; {
		if a.count[i] > 0 {
			i++
			continue
		}
		j := i
		for j < n && a.count[j] == 0 {
			j++
		}
		g := Gap{From: a.start + int64(i)*a.step, To: a.start + int64(j)*a.step, Kind: GapOffline}
		if j == n {
			g.To = min(to, now)
			if g.From >= now-2*base {
				break
			}
		}
		g.From, g.To = max(g.From, from), min(g.To, to)
		if g.From < g.To && !slices.ContainsFunc(covered, func(c Gap) bool { return c.From < g.To && g.From < c.To }) {
			out = append(out, g)
		}
		i = j
	}
	slices.SortFunc(out, func(x, y Gap) int { return cmp.Compare(x.From, y.From) })
	return out
}

// Values is one column of a series; NaN (no value) is null in JSON.
type Values []float64

// MarshalJSON writes the numbers in their shortest exact form.
func (v Values) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(v)*8)
	b = append(b, '[')
	for i, f := range v {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, f, 'g', -1, 64)
	}
	return append(b, ']'), nil
}
