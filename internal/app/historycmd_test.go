package app

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"vitals/history"
	"vitals/history/tier"
)

// The fill command leaves minutes and hours a server then reads.
func TestHistoryFill(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	err := runHistoryCommand([]string{"fill", "--years", "0.003", "--every", "1m", "--data-dir", dir}, env(), &out)
	if err != nil || !strings.Contains(out.String(), "filled "+dir) {
		t.Fatalf("fill: %v, output %q", err, out.String())
	}
	b, err := history.Open(history.Options{Dir: dir, Topics: []string{"cpu"}, Retention: time.Hour, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, err := tier.OpenBolt(b.DB(), Tiers{Minutes: time.Hour * 24, Hours: time.Hour * 48, MinutesBytes: 1 << 30, HoursBytes: 1 << 30}.keep())
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []time.Duration{tier.Minute, tier.Hour} {
		n := 0
		s.Points(step, "cpu", time.Now().Add(-48*time.Hour), time.Now().Add(time.Hour), func(p tier.Point) bool {
			if p.Count != 60 && step == tier.Minute && len(p.Marks) == 0 {
				t.Errorf("a minute of %d ticks, want 60 (a tick a minute counted as 60)", p.Count)
			}
			n++
			return true
		})
		if n == 0 {
			t.Errorf("no points at step %v", step)
		}
	}
}

func TestHistoryCommandRejects(t *testing.T) {
	for _, args := range [][]string{{"wipe"}, {"fill", "--years", "0"}, {"fill", "--every", "1500ms"}, {"fill", "--history-minutes", "x"}} {
		err := runHistoryCommand(args, env(), &bytes.Buffer{})
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: err %v, want one line", args, err)
		}
	}
}

// BenchmarkHistoryFill is "vitals history fill --years 0.05" (18 days, a
// tick per 30 s): the whole path, payloads to the history file, per
// simulated day.
func BenchmarkHistoryFill(b *testing.B) {
	for b.Loop() {
		var out bytes.Buffer
		if err := runHistoryCommand([]string{"fill", "--years", "0.05", "--seed", "1", "--data-dir", b.TempDir()}, env(), &out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/(0.05*365), "ns/day")
}
