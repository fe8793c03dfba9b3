package tiertest

import (
	"testing"
	"time"

	"vitals/history/tier"
)

func TestMemReplacesAndReadsHalfOpen(t *testing.T) {
	m := NewMem()
	pt := func(min int64, n uint32) tier.Point {
		return tier.Point{Topic: "cpu", T: min * 60_000, Step: tier.Minute, Count: n}
	}
	if err := m.Write([]tier.Point{pt(3, 1), pt(1, 1), pt(2, 1)}); err != nil {
		t.Fatal(err)
	}
	if err := m.Write([]tier.Point{pt(2, 9), {Topic: "cpu", T: 0, Step: tier.Hour, Count: 7}}); err != nil {
		t.Fatal(err)
	}
	var got []tier.Point
	err := m.Points(tier.Minute, "cpu", time.UnixMilli(60_000), time.UnixMilli(3*60_000), func(p tier.Point) bool {
		got = append(got, p)
		return true
	})
	if err != nil || len(got) != 2 || got[0].T != 60_000 || got[1].Count != 9 {
		t.Fatalf("points [1 min, 3 min) = %+v, %v; want minutes 1 and 2, the second rewritten", got, err)
	}
	n := 0
	m.Points(tier.Minute, "cpu", time.UnixMilli(0), time.UnixMilli(1<<40), func(tier.Point) bool { n++; return false })
	if n != 1 {
		t.Errorf("fn returned false, yet %d points came", n)
	}
}
