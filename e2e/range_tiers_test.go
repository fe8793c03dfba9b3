package e2e

import (
	"os/exec"
	"slices"
	"testing"
)

// rangeAnswer is the part of a GET /api/range answer these tests read.
type rangeAnswer struct {
	Tier   string
	Step   int64
	T      []int64
	Series map[string]struct{ Mean, Min, Max []*float64 }
	Gaps   []struct {
		From, To int64
		Kind     string
	}
}

// fillHistory runs "vitals history fill" into dir with args.
func fillHistory(t testing.TB, dir string, args ...string) {
	t.Helper()
	out, err := exec.Command(vitalsBinary(t), append([]string{"history", "fill", "--data-dir", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("vitals history fill: %v\n%s", err, out)
	}
}

// TestRangeReadsTheFilledTiers: a history file filled by "vitals history
// fill" is what the real binary's /api/range answers long ranges from: the
// minute tier for 30 days, the hour tier for a year, each with envelopes
// and with the simulated downtime and clock step as gaps of their kind.
func TestRangeReadsTheFilledTiers(t *testing.T) {
	dir := t.TempDir()
	// Five weeks at one tick a minute: the minute tier's 30 days are
	// whole, and seed 1 draws an outage of hours, three short restarts
	// and the clock step.
	fillHistory(t, dir, "--years", "0.1", "--every", "1m", "--seed", "1")
	p := startVitals(t, dir)
	for _, c := range []struct{ from, tier string }{{"-30d", "1m"}, {"-1y", "1h"}} {
		r := getJSON[rangeAnswer](t, p.URL+"/api/range?topic=cpu&fields=total&points=1500&to=now&from="+c.from)
		if r.Tier != c.tier {
			t.Fatalf("from=%s: tier %q, want %q", c.from, r.Tier, c.tier)
		}
		s := r.Series["total"]
		values, envelope := 0, false
		for i := range s.Mean {
			if s.Mean[i] != nil {
				values++
				envelope = envelope || *s.Min[i] < *s.Max[i]
			}
		}
		// The fill reaches 36 days back: most of that has values.
		if covered := int64(values) * r.Step; covered < 25*24*3600_000 || !envelope {
			t.Errorf("from=%s: %d of %d points of %d ms have a value, an envelope: %v", c.from, values, len(r.T), r.Step, envelope)
		}
		var kinds []string
		for _, g := range r.Gaps {
			if !slices.Contains(kinds, g.Kind) {
				kinds = append(kinds, g.Kind)
			}
		}
		for _, want := range []string{"restart", "clock"} {
			if !slices.Contains(kinds, want) {
				t.Errorf("from=%s: gap kinds %v, want %q among them", c.from, kinds, want)
			}
		}
	}
}
