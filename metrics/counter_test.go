package metrics

import (
	"encoding/json"
	"testing"
)

// TestCounterRate feeds a counter one reading after another and checks the
// rate each one publishes (nil: null).
func TestCounterRate(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	type reading struct {
		v    uint64
		secs float64
		want *float64
	}
	const limit = 1e9 // bytes per second the device can move
	tests := []struct {
		name            string
		start           uint64
		readings        []reading
		wantImplausible int
	}{
		{name: "steady", start: 1000, readings: []reading{{3000, 2, f(1000)}}},
		{name: "fraction of a second", readings: []reading{{10, 0.5, f(20)}}},
		{name: "rounded to two decimals", readings: []reading{{1, 3, f(0.33)}}},
		{name: "unchanged", start: 5, readings: []reading{{5, 1, f(0)}}},
		{name: "huge counters keep precision of the delta", start: 1 << 63, readings: []reading{{1<<63 + 1000, 1, f(1000)}}},
		{name: "zero elapsed is no rate", readings: []reading{{100, 0, nil}}},
		{name: "negative elapsed is no rate", readings: []reading{{100, -1, nil}}},
		{
			name:  "a glitch to 0 is a dip, then the average since, never a spike",
			start: 1 << 40,
			readings: []reading{
				{0, 1, f(0)},
				{1<<40 + 2000, 1, f(1000)}, // 2000 over the 2 s since the last good reading
				{1<<40 + 3000, 1, f(1000)},
			},
		},
		{
			name:  "a real reset is a dip, then counts from the new start",
			start: 1 << 40,
			readings: []reading{
				{500, 1, f(0)},
				{1500, 1, f(1000)},
				{2500, 1, f(1000)},
			},
		},
		{
			name:     "a 32-bit counter wrapping is a dip, not 4 GB/s",
			start:    1<<32 - 100,
			readings: []reading{{200, 1, f(0)}, {1200, 1, f(1000)}},
		},
		{
			name:  "dropping twice keeps the value from before the first drop",
			start: 10000,
			readings: []reading{
				{0, 1, f(0)},
				{0, 1, f(0)},
				{13000, 1, f(1000)}, // 3000 over 3 s
			},
		},
		{
			name:            "more than the device can move is null and counted",
			start:           1000,
			readings:        []reading{{1000 + 1<<40, 1, nil}, {2000 + 1<<40, 1, f(1000)}},
			wantImplausible: 1,
		},
		{
			name:     "a burst the driver's counter lag explains is kept",
			readings: []reading{{2.5e9, 1, f(2.5e9)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := counter{last: tt.start}
			implausible := 0
			for i, r := range tt.readings {
				got := c.rate(r.v, r.secs, limit, &implausible)
				switch {
				case r.want == nil && got.OK:
					t.Errorf("reading %d (%d): rate %v, want null", i, r.v, got.V)
				case r.want != nil && (!got.OK || got.V != *r.want):
					t.Errorf("reading %d (%d): rate %+v, want %v", i, r.v, got, *r.want)
				}
			}
			if implausible != tt.wantImplausible {
				t.Errorf("implausible = %d, want %d", implausible, tt.wantImplausible)
			}
		})
	}
}

func TestMaybeJSON(t *testing.T) {
	b, err := json.Marshal([]maybe{some(1.5), {}, some(0), some(1e6).plus(maybe{})})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `[1.5,null,0,null]`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
