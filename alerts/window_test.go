package alerts

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestWindowMatchesAFullScan checks the bucketed, cached window against a
// plain list of the samples it should hold.
func TestWindowMatchesAFullScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, span := range []time.Duration{10 * time.Second, 2 * time.Hour} {
		for _, fn := range []Func{FnMean, FnETA} {
			w := newWindow(span, fn)
			now := t0
			for i := range 20000 {
				x := 50 + 10*math.Sin(float64(i)/300) + rng.Float64()
				w.add(now, x)
				got, ok := w.value(now, FnMean, 0)
				// Every sample the window can still see, by its bucket.
				var sum, mx float64
				var n int
				mx = math.Inf(-1)
				for j := range w.count {
					b := w.at(j)
					n += b.n
					sum += b.sum
					mx = max(mx, b.max)
				}
				if !ok || math.Abs(got-sum/float64(n)) > 1e-9 {
					t.Fatalf("span %s tick %d: mean %g, want %g", span, i, got, sum/float64(n))
				}
				if fn == FnETA {
					got, ok := w.value(now, FnETA, 100)
					if want, wok := naiveETA(w, 100); ok != wok || ok && math.Abs(got-want) > 1e-6*math.Abs(want) {
						t.Fatalf("span %s tick %d: eta %g %v, want %g %v", span, i, got, ok, want, wok)
					}
				}
				if got, _ := w.value(now, FnMax, 0); got != mx {
					t.Fatalf("span %s tick %d: max %g, want %g", span, i, got, mx)
				}
				// Nothing older than the span, nothing younger dropped
				// beyond one bucket's width.
				oldest := time.Unix(0, w.at(0).last)
				if !oldest.After(now.Add(-span)) || time.Unix(0, w.at(0).start).Before(now.Add(-span-span/maxBuckets-time.Second)) {
					t.Fatalf("span %s tick %d: oldest bucket %s..%s at %s", span, i, time.Unix(0, w.at(0).start), oldest, now)
				}
				now = now.Add(time.Second)
			}
		}
	}
}

func TestETAOfAStraightLine(t *testing.T) {
	w := newWindow(time.Hour, FnETA)
	now := t0
	for i := range 3600 {
		w.add(now, 10+float64(i)/60) // 1 a minute
		now = now.Add(time.Second)
	}
	// At about 70, 30 to go at 1 a minute.
	eta, ok := w.value(now, FnETA, 100)
	if !ok || math.Abs(eta-30*60) > 60 {
		t.Fatalf("eta = %gs %v, want 1800s", eta, ok)
	}
	flat := newWindow(time.Hour, FnETA)
	for i := range 3600 {
		flat.add(t0.Add(time.Duration(i)*time.Second), 70)
	}
	if eta, ok := flat.value(t0.Add(time.Hour), FnETA, 100); !ok || !math.IsInf(eta, 1) {
		t.Fatalf("flat eta = %g %v, want +Inf", eta, ok)
	}
}

// naiveETA is the least-squares fit over every bucket, without the cache.
func naiveETA(w *window, limit float64) (float64, bool) {
	first, last := w.at(0), w.at(w.count-1)
	if w.count < 3 || last.last-first.start < w.span/4 {
		return 0, false
	}
	var st, sv, stt, stv float64
	for i := range w.count {
		t, v := w.at(i).point(first.start)
		st, sv, stt, stv = st+t, sv+v, stt+t*t, stv+t*v
	}
	n := float64(w.count)
	slope := (n*stv - st*sv) / (n*stt - st*st)
	switch {
	case last.final >= limit:
		return 0, true
	case slope <= 0:
		return math.Inf(1), true
	}
	return (limit - last.final) / slope, true
}
