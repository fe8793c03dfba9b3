package app

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"vitals/alerts"
	"vitals/history"
	"vitals/metrics"
)

const testRules = `defaults: false
rules:
  - name: busy
    topic: cpu
    field: total
    fn: last
    warn: 50
    clear: 40
`

func openTestBroker(t *testing.T, dir string, retention time.Duration, now *time.Time) *history.Broker {
	t.Helper()
	b, err := history.Open(history.Options{Dir: dir, Topics: logTopics(metrics.Topics()), Retention: retention, MaxBytes: 1 << 20,
		Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cpuReading(total float64) []metrics.Reading {
	return []metrics.Reading{{Topic: "cpu", Data: fmt.Appendf(nil, `{"total":%g}`, total)}}
}

// publishTick does what Run's Publish does.
func publishTick(t *testing.T, b *history.Broker, a *alerting, now time.Time, total float64) []alerts.Transition {
	t.Helper()
	samples, ts := a.tick(now, cpuReading(total), 0)
	if err := b.Publish(now, append([]history.Sample{{Topic: "cpu", Data: cpuReading(total)[0].Data}}, samples...)); err != nil {
		t.Fatal(err)
	}
	a.published(ts)
	return ts
}

func alertRecords(t *testing.T, b *history.Broker) []map[string]any {
	t.Helper()
	page, err := b.Range("", []string{alertTopic}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, e := range page.Events {
		var m map[string]any
		if err := json.Unmarshal(e.Data, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestAlertStateSurvivesRestartAndRetention: an alert firing before a
// restart is still firing after it, is not announced again, and stays in
// the retained window however long it fires, by being copied forward.
func TestAlertStateSurvivesRestartAndRetention(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte(testRules), 0o600); err != nil {
		t.Fatal(err)
	}
	const retention = 10 * time.Second
	cfg := Config{DataDir: dir, History: retention, Alerting: Alerting{AlertsFile: rules}}
	now := time.Now().Truncate(time.Second)
	start := func() (*history.Broker, *alerting) {
		b := openTestBroker(t, dir, retention, &now)
		a, closeFn, err := newAlerting(cfg, "h1", b.DB(), func() error { return nil }, os.Getenv, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(closeFn)
		if err := a.replay(b, now); err != nil {
			t.Fatal(err)
		}
		return b, a
	}

	b, a := start()
	if ts := publishTick(t, b, a, now, 90); len(ts) != 1 || ts[0].To != alerts.StateFiring {
		t.Fatalf("first tick: %+v, want one firing", ts)
	}
	b.Close()

	b, a = start()
	defer b.Close()
	for i := 1; i <= 30; i++ { // three retentions of firing
		now = now.Add(time.Second)
		if ts := publishTick(t, b, a, now, 95); len(ts) != 0 {
			t.Fatalf("tick %d after restart: %+v, want nothing new", i, ts)
		}
	}
	firing := a.Current(now) // the API's view
	data, _ := json.Marshal(firing)
	var cur struct {
		Firing []alerts.Instance `json:"firing"`
	}
	json.Unmarshal(data, &cur)
	if len(cur.Firing) != 1 || cur.Firing[0].Rule != "busy" {
		t.Fatalf("after restart: %s", data)
	}
	recs := alertRecords(t, b)
	if len(recs) == 0 {
		t.Fatal("the firing alert fell out of the retained window")
	}
	ids := map[any]bool{}
	for _, r := range recs {
		ids[r["id"]] = true
	}
	if len(ids) != 1 || len(recs) < 2 {
		t.Fatalf("retained alert records %v: want copies of the one firing transition", recs)
	}

	// A third start, from the window that holds only copies, still knows.
	b.Close()
	b, a = start()
	defer b.Close()
	now = now.Add(time.Second)
	ts := publishTick(t, b, a, now, 10)
	if len(ts) != 1 || ts[0].To != alerts.StateResolved {
		t.Fatalf("after the copies: %+v, want the resolution", ts)
	}
}

// openTestAlerting opens a broker in a temp dir on the clock *now, with the
// built-in rules evaluating into it; both are closed at the test's end.
func openTestAlerting(t *testing.T, now *time.Time) (*history.Broker, *alerting) {
	t.Helper()
	dir := t.TempDir()
	b := openTestBroker(t, dir, time.Hour, now)
	t.Cleanup(func() { b.Close() })
	a, closeFn, err := newAlerting(Config{DataDir: dir, History: time.Hour}, "h1", b.DB(), func() error { return nil }, os.Getenv, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeFn() })
	return b, a
}

func TestSilenceIsPublishedWithTheNextTick(t *testing.T) {
	now := time.Now()
	b, a := openTestAlerting(t, &now)
	if _, err := a.Silence(alerts.Silence{Rule: "cpu-busy", Until: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Silence(alerts.Silence{Rule: "no-such-rule", Until: now.Add(time.Hour)}, now); err == nil {
		t.Fatal("a silence of an unknown rule was accepted")
	}
	publishTick(t, b, a, now.Add(time.Second), 1)
	recs := alertRecords(t, b)
	if len(recs) != 1 || recs[0]["kind"] != "silence" || recs[0]["rule"] != "cpu-busy" {
		t.Fatalf("records %v, want the silence", recs)
	}
}

func TestReloadKeepsRulesOnABadFile(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	os.WriteFile(rules, []byte(testRules), 0o600)
	a, closeFn, err := newAlerting(Config{DataDir: dir, History: time.Hour, Alerting: Alerting{AlertsFile: rules}}, "h1", nil, func() error { return nil }, os.Getenv, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	names := func() []string {
		var out []string
		for _, r := range a.engine.Rules() {
			out = append(out, r.Name)
		}
		return out
	}
	os.WriteFile(rules, []byte("rules:\n  - name: x\n    topic: nope\n"), 0o600)
	a.reload()
	if got := names(); !slices.Equal(got, []string{"busy"}) {
		t.Fatalf("after a bad reload: %v, want the old rules", got)
	}
	os.WriteFile(rules, []byte(testRules+"  - name: busy2\n    topic: cpu\n    field: user\n    fn: last\n    warn: 50\n"), 0o600)
	a.reload()
	if got := names(); !slices.Equal(got, []string{"busy", "busy2"}) {
		t.Fatalf("after a good reload: %v", got)
	}
}

func TestNotifyTargetList(t *testing.T) {
	var l targetList
	l.Set("ntfy://ntfy.sh/a,env:HOOK#min=critical")
	l.Set("smtp://u:p@mail:25/?from=a@b&toaddresses=x@y,z@w")
	want := targetList{"ntfy://ntfy.sh/a", "env:HOOK#min=critical", "smtp://u:p@mail:25/?from=a@b&toaddresses=x@y,z@w"}
	if !slices.Equal(l, want) {
		t.Fatalf("got %q, want %q", l, want)
	}
	if l.String() != "***" {
		t.Fatal("the flag's value is shown")
	}
}

// TestCurrentSaysWhatARuleMeasures: the API's rules carry per, scale and
// limit, so the page draws no threshold line where the rule's value is not
// the field as the chart draws it (load per CPU is load15 / cpus).
func TestCurrentSaysWhatARuleMeasures(t *testing.T) {
	now := time.Now()
	_, a := openTestAlerting(t, &now)
	raw, err := json.Marshal(a.Current(now))
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Rules []struct{ Name, Per string } `json:"rules"`
	}
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatal(err)
	}
	for _, r := range state.Rules {
		if r.Name == "load-per-cpu" {
			if r.Per != "cpus" {
				t.Fatalf("load-per-cpu has per %q, want cpus", r.Per)
			}
			return
		}
	}
	t.Fatalf("no load-per-cpu rule in %s", raw)
}
