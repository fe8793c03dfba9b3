package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// rollupEvents reads the minute rollups an /api/history URL (asking for
// topics=rollup) answers, by minute start.
func rollupEvents(t *testing.T, url string) map[int64]struct {
	Points map[string]struct{ Count int }
} {
	t.Helper()
	page := getJSON[struct {
		Events []struct{ Data json.RawMessage }
	}](t, url)
	out := map[int64]struct {
		Points map[string]struct{ Count int }
	}{}
	for _, e := range page.Events {
		var r struct {
			T      int64
			Points map[string]struct{ Count int }
		}
		if err := json.Unmarshal(e.Data, &r); err != nil {
			t.Fatalf("rollup event %s: %v", e.Data, err)
		}
		out[r.T] = struct {
			Points map[string]struct{ Count int }
		}{r.Points}
	}
	return out
}

// cpuTicksIn counts the cpu events of the raw history in the minute
// starting at m (unix ms).
func cpuTicksIn(t *testing.T, base string, m int64) int {
	t.Helper()
	page := getJSON[struct {
		Events []struct {
			Data struct{ T int64 }
		}
	}](t, base+"/api/history?topics=cpu")
	n := 0
	for _, e := range page.Events {
		if e.Data.T >= m && e.Data.T < m+60_000 {
			n++
		}
	}
	return n
}

// TestKill9MidMinuteLosesNothingFromTheTiers: the server is killed hard in
// the middle of a minute and started again; that minute's rollup, once it
// completes, counts every tick of it, from before the kill and after.
func TestKill9MidMinuteLosesNothingFromTheTiers(t *testing.T) {
	dir := t.TempDir()
	p := startVitals(t, dir)
	// Kill in the middle of a minute: at least 5 s in and 10 s before
	// its end, so both runs tick in it.
	var minute int64
	eventually(t, "a minute's middle", 90*time.Second, func() bool {
		now := time.Now().UnixMilli()
		minute = now - now%60_000
		return now-minute > 5_000 && now-minute < 50_000 && cpuTicksIn(t, p.URL, minute) > 0
	})
	before := cpuTicksIn(t, p.URL, minute)
	p.Kill9(t)
	p2 := p.Restart(t)

	var got int
	eventually(t, "the killed minute's rollup", 150*time.Second, func() bool {
		r, ok := rollupEvents(t, p2.URL+"/api/history?topics=rollup")[minute]
		got = r.Points["cpu"].Count
		return ok
	})
	want := cpuTicksIn(t, p2.URL, minute)
	if got != want || want <= before {
		t.Fatalf("the minute's rollup counts %d cpu ticks; the raw history holds %d (%d before the kill)", got, want, before)
	}
}

func TestBadTierFlagStopsStartupWithOneLine(t *testing.T) {
	for _, args := range [][]string{{"--history-minutes", "3 months"}, {"--history-hours-bytes", "1KiB"}} {
		out, err := exec.Command(vitalsBinary(t), args...).CombinedOutput()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if err == nil || len(lines) != 1 || !strings.Contains(lines[0], args[0]) {
			t.Errorf("%v: err %v, output %q", args, err, out)
		}
	}
}
