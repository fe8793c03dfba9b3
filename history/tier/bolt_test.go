package tier

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openTestDB(t testing.TB) (*bolt.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

var defaultKeep = BoltOptions{Minutes: Keep{Age: 90 * 24 * Hour, MaxBytes: 1 << 30}, Hours: Keep{Age: 730 * 24 * Hour, MaxBytes: 1 << 30}}

// fill pushes a simulated span through a real roller into s, a tick a
// minute: enough for the store's tests, and quick under -race.
func fill(t testing.TB, s Store, from time.Time, span time.Duration) {
	t.Helper()
	fillEvery(t, s, from, span, time.Minute)
}

func fillEvery(t testing.TB, s Store, from time.Time, span, every time.Duration) {
	t.Helper()
	r := NewRoller(RollerOptions{Store: &Batch{Store: s, Size: 50000}})
	err := Simulation{From: from, Span: span, Every: every, Seed: 1}.Run(func(at time.Time, samples []Sample, w uint32) error {
		r.TickWeighted(at, samples, w)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Flush()
}

func TestBoltRoundTrip(t *testing.T) {
	db, _ := openTestDB(t)
	s, err := OpenBolt(db, defaultKeep)
	if err != nil {
		t.Fatal(err)
	}
	in := []Point{
		{Topic: "cpu", T: t0.UnixMilli(), Step: Minute, Count: 60, Fields: map[string]Stat{"total": {Min: 1, Max: 99.5, Sum: 600, N: 60}, "cores.0": {Min: 0, Max: 3, Sum: 30, N: 59}},
			Marks: []Mark{{T: t0.UnixMilli() + 1000, Kind: MarkRestart, Value: 90000}}},
		{Topic: "cpu", T: t0.Add(2 * Minute).UnixMilli(), Step: Minute, Count: 1, Fields: map[string]Stat{"total": {Min: 5, Max: 5, Sum: 5, N: 1}}},
	}
	if err := s.Write(in); err != nil {
		t.Fatal(err)
	}
	var out []Point
	if err := s.Points(Minute, "cpu", t0, t0.Add(Hour), func(p Point) bool { out = append(out, p); return true }); err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 {
		t.Fatalf("read %d points, want 2", len(out))
	}
	for i := range in {
		if out[i].T != in[i].T || out[i].Count != in[i].Count || len(out[i].Fields) != len(in[i].Fields) || len(out[i].Marks) != len(in[i].Marks) {
			t.Fatalf("point %d: %+v, want %+v", i, out[i], in[i])
		}
		for k, want := range in[i].Fields {
			got := out[i].Fields[k]
			if got.N != want.N || !near(got.Min, want.Min) || !near(got.Max, want.Max) || !near(got.Sum, want.Sum) {
				t.Errorf("point %d %s: %+v, want %+v", i, k, got, want)
			}
		}
	}
	if out[0].Marks[0] != in[0].Marks[0] {
		t.Errorf("mark %+v, want %+v", out[0].Marks[0], in[0].Marks[0])
	}
	if n, ok, err := s.Newest(Minute, "cpu"); err != nil || !ok || n != in[1].T {
		t.Errorf("Newest = %d %v %v, want %d", n, ok, err, in[1].T)
	}
}

// near: stored floats keep 16 mantissa bits.
func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-4*max(1, a, -a, b, -b)
}

// filledStore is a store with keep, filled with span of a simulated host.
func filledStore(t *testing.T, keep BoltOptions, span time.Duration) (*BoltStore, *bolt.DB) {
	t.Helper()
	db, _ := openTestDB(t)
	s, err := OpenBolt(db, keep)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s, t0, span)
	return s, db
}

func TestBoltRetention(t *testing.T) {
	keep := BoltOptions{Minutes: Keep{Age: 2 * 24 * Hour, MaxBytes: 1 << 30}, Hours: Keep{Age: 30 * 24 * Hour, MaxBytes: 1 << 30}}
	s, _ := filledStore(t, keep, 5*24*Hour)
	newest, _, _ := s.Newest(Minute, "cpu")
	var oldest int64 = -1
	s.Points(Minute, "cpu", time.UnixMilli(0), time.UnixMilli(newest+1), func(p Point) bool { oldest = p.T; return false })
	if age := time.Duration(newest-oldest) * time.Millisecond; age > keep.Minutes.Age+blockSpan(Minute) || age < keep.Minutes.Age-blockSpan(Minute) {
		t.Errorf("minutes span %v, want about %v", age, keep.Minutes.Age)
	}
	s.Points(Hour, "cpu", time.UnixMilli(0), time.UnixMilli(newest+1), func(p Point) bool { oldest = p.T; return false })
	// The simulated clock runs an hour slow until its step: its first
	// tick is stamped t0 - 1h.
	if want := t0.Add(-Hour); oldest != floor(want.UnixMilli(), Hour) {
		t.Errorf("oldest hour %v, want %v: nothing aged out yet", time.UnixMilli(oldest).UTC(), want)
	}
}

func TestBoltByteCap(t *testing.T) {
	keep := BoltOptions{Minutes: Keep{Age: 90 * 24 * Hour, MaxBytes: 48 << 10}, Hours: Keep{Age: 730 * 24 * Hour, MaxBytes: 16 << 10}}
	s, db := filledStore(t, keep, 12*24*Hour)
	for step, k := range map[time.Duration]Keep{Minute: keep.Minutes, Hour: keep.Hours} {
		// The block being filled is never dropped, even past the cap.
		if b := s.Bytes(step); step == Minute && (b > k.MaxBytes || b < k.MaxBytes/4) {
			t.Errorf("step %v holds %d bytes, cap %d", step, b, k.MaxBytes)
		}
		var oldest int64
		s.Points(step, "cpu", t0, t0.Add(Hour*24*365), func(p Point) bool { oldest = p.T; return false })
		if oldest <= t0.UnixMilli() {
			t.Errorf("step %v still holds its oldest point, at %v", step, time.UnixMilli(oldest).UTC())
		}
	}
	// What is counted is what the file holds, as a reopen counts it.
	s2, err := OpenBolt(db, keep)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Bytes(Minute) != s.Bytes(Minute) || s2.Bytes(Hour) != s.Bytes(Hour) {
		t.Errorf("reopen counts %d/%d bytes, the store said %d/%d", s2.Bytes(Minute), s2.Bytes(Hour), s.Bytes(Minute), s.Bytes(Hour))
	}
}

// Series gives the same values as Points, for the fields asked.
func TestBoltSeriesMatchesPoints(t *testing.T) {
	s, _ := filledStore(t, defaultKeep, 2*24*Hour)
	var want []Point
	s.Points(Minute, "disk", t0, t0.Add(48*Hour), func(p Point) bool { want = append(want, p); return true })
	fields := []string{"read_bps", "filesystems./.used", "no.such.field"}
	i := 0
	err := s.Series(Minute, "disk", fields, t0, t0.Add(48*Hour), func(at int64, count uint32, stats []Stat, marks []Mark) bool {
		p := want[i]
		if at != p.T || count != p.Count || len(marks) != len(p.Marks) {
			t.Fatalf("point %d: t %d count %d marks %v, Points says %+v", i, at, count, marks, p)
		}
		for j, f := range fields {
			if stats[j] != p.Fields[f] {
				t.Fatalf("point %d %s: %+v, Points says %+v", i, f, stats[j], p.Fields[f])
			}
		}
		i++
		return true
	})
	if err != nil || i != len(want) || i == 0 {
		t.Fatalf("Series gave %d points of %d (%v)", i, len(want), err)
	}
}
