package tier

import (
	"reflect"
	"testing"
	"time"
)

// TestSimPartsRollUpAsOneRun: rolling each part up with its own roller
// (as the parallel fill does) stores exactly the points of one roller fed
// the whole run, downtime and clock step included.
func TestSimPartsRollUpAsOneRun(t *testing.T) {
	sim := Simulation{From: t0.Add(17 * time.Minute), Span: 150 * 24 * Hour, Every: 10 * time.Minute, Seed: 3}
	// rollUp feeds run's ticks to a new roller into store, then flushes.
	rollUp := func(store Store, run func(tick func(time.Time, []Sample, uint32) error) error) {
		r := NewRoller(RollerOptions{Store: store})
		if err := run(func(at time.Time, samples []Sample, w uint32) error {
			r.TickWeighted(at, samples, w)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	whole := newMemStore()
	rollUp(whole, sim.Run)
	plan, err := sim.Plan()
	if err != nil {
		t.Fatal(err)
	}
	parts := newMemStore()
	for i := range plan.Parts() { // a roller per part, as if each ran on its own
		rollUp(parts, func(tick func(time.Time, []Sample, uint32) error) error {
			_, err := plan.RunPart(i, tick)
			return err
		})
	}
	marks := map[string]int{}
	if len(whole.points[Hour]["cpu"]) < 24*140 {
		t.Fatalf("%d hours of cpu from 150 days", len(whole.points[Hour]["cpu"]))
	}
	for step, topics := range whole.points {
		for topic, want := range topics {
			if got := parts.points[step][topic]; !reflect.DeepEqual(got, want) {
				t.Fatalf("%v %s: %d points from one roller, %d from the parts', or they differ", step, topic, len(want), len(got))
			}
		}
	}
	if len(parts.points[Minute]) != len(whole.points[Minute]) {
		t.Fatalf("the parts wrote topics %v, one roller %v", len(parts.points[Minute]), len(whole.points[Minute]))
	}
	for _, p := range whole.points[Minute]["cpu"] {
		for _, m := range p.Marks {
			marks[m.Kind]++
		}
	}
	// 150 days: restarts and an outage or so, and the one clock step.
	if marks[MarkRestart] < 2 || marks[MarkClockStep] != 1 {
		t.Errorf("marks %v, want restarts and one clock step", marks)
	}
}

// TestSimSeedRepeats: the same seed draws the same host again.
// TestSimPartSpanIsAMinuteBlock: the parts end where minute blocks do.
func TestSimPartSpanIsAMinuteBlock(t *testing.T) {
	if SimPartSpan != blockSpan(Minute) {
		t.Errorf("SimPartSpan %v, minute blocks %v", SimPartSpan, blockSpan(Minute))
	}
}

func TestSimSeedRepeats(t *testing.T) {
	run := func(seed uint64) (out []string) {
		sim := Simulation{From: t0, Span: 3 * 24 * Hour, Every: time.Minute, Seed: seed}
		if err := sim.Run(func(_ time.Time, samples []Sample, _ uint32) error {
			out = append(out, string(samples[0].Data))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b, c := run(9), run(9), run(10)
	if !reflect.DeepEqual(a, b) || reflect.DeepEqual(a, c) {
		t.Error("seed 9 twice differs, or seed 10 draws the same as 9")
	}
}
