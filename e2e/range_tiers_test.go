package e2e

import (
	"encoding/json"
	"os/exec"
	"slices"
	"testing"
	"time"

	"vitals/internal/redistest"
)

// rangeAnswer is the part of a GET /api/range answer these tests read.
type rangeAnswer struct {
	Tier   string
	Step   int64
	From   int64 // the range asked, [From, To)
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

// TestRedisRollsUpAndAnyInstanceReadsTheMinutes: in --redis mode a host
// rolls its minutes up into its tier streams and publishes each as an
// opt-in "rollup" event; another instance draws that host's minutes from
// Redis (/api/range?host=), and answers that name no topic carry none.
func TestRedisRollsUpAndAnyInstanceReadsTheMinutes(t *testing.T) {
	srv := redistest.Start(t)
	startVitals(t, t.TempDir(), "--redis", srv.URL, "--name", "a")
	other := startVitals(t, t.TempDir(), "--redis", srv.URL, "--name", "i2")

	// The first minute a completes (up to two minute boundaries away on a
	// busy machine).
	var minute int64
	eventually(t, "host a's first rollup event", 150*time.Second, func() bool {
		for m := range rollupEvents(t, other.URL+"/api/history?host=a&topics=rollup") {
			minute = m
			return true
		}
		return false
	})
	var r rangeAnswer
	eventually(t, "host a's minute in /api/range", 30*time.Second, func() bool {
		r = getJSON[rangeAnswer](t, other.URL+"/api/range?host=a&topic=cpu&fields=total&from=-2d&to=now&points=2880")
		for i, at := range r.T {
			if at <= minute && minute < at+r.Step && r.Series["total"].Mean[i] != nil {
				return true
			}
		}
		return false
	})
	if r.Tier != "1m" {
		t.Errorf("tier %q, want 1m", r.Tier)
	}
	plain := getJSON[struct{ Events []struct{ Topic string } }](t, other.URL+"/api/history?host=a")
	snap := getJSON[map[string]json.RawMessage](t, other.URL+"/api/snapshot?host=a")
	for _, e := range plain.Events {
		if e.Topic == "rollup" {
			t.Fatal("/api/history with no topics carries rollup events")
		}
	}
	if _, ok := snap["rollup"]; ok || len(snap) == 0 {
		t.Errorf("/api/snapshot: %d topics, rollup among them: %v", len(snap), ok)
	}
}
