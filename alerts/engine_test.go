package alerts

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ptr(x float64) *float64 { return &x }

// cpuRule fires on cpu.total's latest sample, so each tick decides alone.
func cpuRule(mod func(*Rule)) Rule {
	r := Rule{Name: "busy", Topic: "cpu", Field: "total", Fn: FnLast, Warn: ptr(85), Clear: 75}
	if mod != nil {
		mod(&r)
	}
	return r
}

// clock drives an engine one tick per second from t0.
type clock struct {
	t   *testing.T
	e   *Engine
	now time.Time
	log []Transition
}

func newClock(t *testing.T, rules ...Rule) *clock {
	t.Helper()
	e, err := NewEngine(Options{Rules: rules, Host: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	return &clock{t: t, e: e, now: t0}
}

// feed runs one tick with the given topic payloads and advances a second.
func (c *clock) feed(payloads map[string]string) []Transition {
	c.t.Helper()
	samples := map[string][]byte{}
	for k, v := range payloads {
		samples[k] = []byte(v)
	}
	ts, err := c.e.Tick(c.now, samples)
	if err != nil {
		c.t.Fatal(err)
	}
	c.now = c.now.Add(time.Second)
	c.log = append(c.log, ts...)
	return ts
}

func (c *clock) cpu(total float64) []Transition {
	return c.feed(map[string]string{"cpu": fmt.Sprintf(`{"t":1,"total":%g}`, total)})
}

// moves renders transitions compactly: "from>to:severity".
func moves(ts []Transition) string {
	var s []string
	for _, t := range ts {
		m := string(t.From) + ">" + string(t.To)
		if t.Severity != "" {
			m += ":" + string(t.Severity)
		}
		if t.Item != "" {
			m = t.Item + " " + m
		}
		if t.Repeat {
			m += "+repeat"
		}
		s = append(s, m)
	}
	return strings.Join(s, ", ")
}

func TestEngineSteps(t *testing.T) {
	tests := []struct {
		name   string
		rule   Rule
		values []float64
		want   []string // transitions after each value, "" for none
	}{
		{"hysteresis: fires above warn, holds in the band, clears under clear", cpuRule(nil),
			[]float64{80, 86, 80, 76, 74, 80, 86},
			[]string{"", "ok>firing:warning", "", "", "firing>resolved:warning", "", "resolved>firing:warning"}},
		{"for: pending until held, a dip starts over", cpuRule(func(r *Rule) { r.For = 3 * time.Second }),
			[]float64{90, 90, 84, 90, 90, 90, 90, 90},
			[]string{"ok>pending:warning", "", "pending>ok", "ok>pending:warning", "", "", "pending>firing:warning", ""}},
		{"critical escalates at once and eases back below warn", cpuRule(func(r *Rule) { r.Crit = ptr(95) }),
			[]float64{90, 96, 90, 84, 70},
			[]string{"ok>firing:warning", "firing>firing:critical", "", "firing>firing:warning", "firing>resolved:warning"}},
		{"crit only", cpuRule(func(r *Rule) { r.Warn, r.Crit = nil, ptr(95) }),
			[]float64{90, 96, 80, 74},
			[]string{"", "ok>firing:critical", "", "firing>resolved:critical"}},
		{"repeat while firing", cpuRule(func(r *Rule) { r.Repeat = 2 * time.Second }),
			[]float64{90, 90, 90, 90, 90},
			[]string{"ok>firing:warning", "", "firing>firing:warning+repeat", "", "firing>firing:warning+repeat"}},
		{"below: fires when the value falls", cpuRule(func(r *Rule) {
			r.Field, r.Below, r.Warn, r.Clear = "idle", true, ptr(10), 20
		}),
			nil, nil},
		{"mean over a window smooths a spike", cpuRule(func(r *Rule) { r.Fn, r.Window = FnMean, 4*time.Second }),
			[]float64{50, 100, 50, 50, 100, 100, 100, 50},
			[]string{"", "", "", "", "", "", "ok>firing:warning", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock(t, tc.rule)
			if tc.values == nil { // the "below" case feeds idle
				var got []string
				for _, idle := range []float64{50, 9, 15, 21} {
					got = append(got, moves(c.feed(map[string]string{"cpu": fmt.Sprintf(`{"idle":%g}`, idle)})))
				}
				want := []string{"", "ok>firing:warning", "", "firing>resolved:warning"}
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Fatalf("got %q, want %q", got, want)
				}
				return
			}
			for i, v := range tc.values {
				if got := moves(c.cpu(v)); got != tc.want[i] {
					t.Fatalf("value %d (%g): got %q, want %q; log %s", i, v, got, tc.want[i], moves(c.log))
				}
			}
		})
	}
}

func TestTransitionIDsAndEpisodes(t *testing.T) {
	c := newClock(t, cpuRule(func(r *Rule) { r.For = time.Second }))
	for _, v := range []float64{90, 90, 70, 90, 90} {
		c.cpu(v)
	}
	if len(c.log) != 5 {
		t.Fatalf("log = %s", moves(c.log))
	}
	first, second := c.log[0].Alert, c.log[3].Alert
	if first == second || c.log[1].Alert != first || c.log[2].Alert != first || c.log[4].Alert != second {
		t.Fatalf("episodes: %+v", c.log)
	}
	ids := map[string]bool{}
	for _, tr := range c.log {
		if ids[tr.ID] || !strings.HasPrefix(tr.ID, tr.Alert+".") {
			t.Fatalf("id %q repeated or not of its alert %q", tr.ID, tr.Alert)
		}
		ids[tr.ID] = true
	}
	fired := c.log[1]
	if fired.Host != "h1" || fired.Since != t0 || fired.Time != t0.Add(time.Second) || fired.Value != 90 || fired.Thresh != 85 || !fired.Notify() {
		t.Fatalf("firing transition = %+v", fired)
	}
	if c.log[0].Notify() || !c.log[2].Notify() || c.log[2].Peak != SevWarning {
		t.Fatal("pending must not notify; resolved must, with the peak severity")
	}
}

func fsPayload(percents map[string]float64) string {
	var fs []string
	for mount, p := range percents {
		fs = append(fs, fmt.Sprintf(`{"mount":%q,"fstype":"ext4","total":100,"used":%g,"percent":%g}`, mount, p, p))
	}
	return `{"t":1,"devices":{},"filesystems":[` + strings.Join(fs, ",") + `]}`
}

func TestPerItemRulesAndVanishingItems(t *testing.T) {
	c := newClock(t, Rule{Name: "full", Topic: "disk", Field: "filesystems[*].percent", Fn: FnMean,
		Window: 3 * time.Second, Warn: ptr(90), Clear: 85})
	var got []string
	for _, p := range []map[string]float64{
		{"/": 50, "/backup": 95},
		{"/": 50, "/backup": 96},
		{"/": 50}, // /backup unmounted
		{"/": 50},
		{"/": 50},
		{"/": 50},
	} {
		got = append(got, moves(c.feed(map[string]string{"disk": fsPayload(p)})))
	}
	want := "/backup ok>firing:warning||||/backup firing>resolved:warning|"
	if strings.Join(got, "|") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, "|"), want)
	}
	if last := c.log[len(c.log)-1]; last.Reason != "no data" || !math.IsNaN(float64(last.Value)) {
		t.Fatalf("resolution of a vanished item = %+v", last)
	}
	if n := len(c.e.byName["full"].instances); n != 1 {
		t.Fatalf("%d instances kept, want only /", n)
	}
}

func TestAnItemGoneEndsItsAlertWithoutAWindow(t *testing.T) {
	c := newClock(t, Rule{Name: "full", Topic: "disk", Field: "filesystems[*].percent", Fn: FnLast, Warn: ptr(90), Clear: 85})
	c.feed(map[string]string{"disk": fsPayload(map[string]float64{"/usb": 99})})
	if got := moves(c.feed(map[string]string{"disk": fsPayload(nil)})); got != "/usb firing>resolved:warning" {
		t.Fatalf("after unplugging: %q", got)
	}
}

func TestFillPrediction(t *testing.T) {
	rule := Defaults(MetricsSchema())[7]
	if rule.Name != "filesystem-filling" {
		t.Fatalf("rule 7 is %s", rule.Name)
	}
	rule.For = 0
	c := newClock(t, rule)
	// /data grows 1 % every 6 minutes from 90 %: full in an hour, so half
	// an hour left when a quarter of the window has been seen. /static
	// sits at 97 % and is not growing: nothing to predict.
	step := 30 * time.Second
	var fired *Transition
	for i := 0; i < 240 && fired == nil; i++ {
		data := 90 + float64(i)*step.Minutes()/6
		ts := c.feed(map[string]string{"disk": fsPayload(map[string]float64{"/data": data, "/static": 97})})
		c.now = c.now.Add(step - time.Second)
		for _, tr := range ts {
			if tr.Item != "/data" {
				t.Fatalf("unexpected %s", moves([]Transition{tr}))
			}
			fired = &tr
		}
	}
	if fired == nil {
		t.Fatal("never fired")
	}
	// It needs a quarter of the 2 h window before it predicts anything.
	if age := fired.Time.Sub(t0); age < 30*time.Minute || age > 31*time.Minute {
		t.Fatalf("fired after %s, want at 30 min", age)
	}
	left := time.Duration(float64(fired.Value)) * time.Second
	if fired.Severity != SevCritical || left < 28*time.Minute || left > 32*time.Minute {
		t.Fatalf("fired %s with %s left, want critical with 30 min left", fired.Severity, left)
	}
	if txt := fired.Text(); !strings.Contains(txt, "full in 30m") {
		t.Fatalf("text = %q", txt)
	}
	// The growth stops: the eta goes to +Inf and clears.
	var resolved bool
	for i := 0; i < 240 && !resolved; i++ {
		ts := c.feed(map[string]string{"disk": fsPayload(map[string]float64{"/data": 95, "/static": 97})})
		c.now = c.now.Add(step - time.Second)
		for _, tr := range ts {
			resolved = tr.To == StateResolved
		}
	}
	if !resolved {
		t.Fatal("never resolved after growth stopped")
	}
}

func TestPerDividesByAnotherField(t *testing.T) {
	swap := Defaults(MetricsSchema())[4]
	swap.For = 0
	c := newClock(t, swap)
	mem := func(used, total float64) string {
		return fmt.Sprintf(`{"percent":10,"swap_used":%g,"swap_total":%g}`, used, total)
	}
	if got := moves(c.feed(map[string]string{"memory": `{"percent":10,"swap_used":null,"swap_total":null}`})); got != "" {
		t.Fatalf("no swap: %q", got)
	}
	if got := moves(c.feed(map[string]string{"memory": mem(97, 100)})); got != "ok>firing:critical" {
		t.Fatalf("97 %% of swap: %q", got)
	}
}

func TestSilences(t *testing.T) {
	c := newClock(t, Rule{Name: "full", Topic: "disk", Field: "filesystems[*].percent", Fn: FnLast,
		Warn: ptr(90), Clear: 85})
	s, err := c.e.Silence(Silence{Rule: "full", Item: "/backup", Until: t0.Add(3 * time.Second)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != KindSilence || s.ID == "" || s.Created != t0 {
		t.Fatalf("silence record = %+v", s)
	}
	if _, err := c.e.Silence(Silence{Rule: "nope"}, t0); err == nil {
		t.Fatal("silenced an unknown rule")
	}
	both := map[string]string{"disk": fsPayload(map[string]float64{"/": 95, "/backup": 95})}
	ts := c.feed(both)
	notified := map[string]bool{}
	for _, tr := range ts {
		notified[tr.Item] = tr.Notify()
	}
	if len(ts) != 2 || !notified["/"] || notified["/backup"] {
		t.Fatalf("with /backup silenced: %+v", ts)
	}
	if _, sil := c.e.Snapshot(c.now); len(sil) != 1 {
		t.Fatalf("silences in force: %v", sil)
	}
	c.feed(both)
	c.feed(both)
	// The silence has ended with /backup still firing: it is told now.
	ts = c.feed(both)
	if moves(ts) != "/backup firing>firing:warning+repeat" || !ts[0].Notify() || ts[0].Reason != "unsilenced" {
		t.Fatalf("after the silence: %s %+v", moves(ts), ts)
	}
	if ts := c.feed(both); len(ts) != 0 {
		t.Fatalf("told twice: %s", moves(ts))
	}
}

// replay rebuilds an engine from the records a previous one published.
func replay(t *testing.T, rules []Rule, records []any) *Engine {
	t.Helper()
	e, err := NewEngine(Options{Rules: rules, Host: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range records {
		data, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Replay(data); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func TestRebuildFromTheLogWithAnAlertFiring(t *testing.T) {
	rules := []Rule{cpuRule(func(r *Rule) { r.For = time.Second; r.Crit = ptr(95) }),
		{Name: "full", Topic: "disk", Field: "filesystems[*].percent", Fn: FnLast, Warn: ptr(90), Clear: 85}}
	c := newClock(t, rules...)
	c.cpu(90)
	c.cpu(96)
	sil, err := c.e.Silence(Silence{Rule: "full", Until: t0.Add(time.Hour)}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	c.feed(map[string]string{"disk": fsPayload(map[string]float64{"/": 99})})
	if got := moves(c.log); got != "ok>pending:warning, pending>firing:critical, / ok>firing:warning" {
		t.Fatalf("before the restart: %s", got)
	}
	var records []any
	for _, tr := range c.log {
		records = append(records, tr)
	}
	records = append(records, sil)

	// A new process with the same log: firing stays firing, unannounced.
	restarted := &clock{t: t, e: replay(t, rules, records), now: c.now.Add(time.Minute)}
	firing, silences := restarted.e.Snapshot(restarted.now)
	if len(firing) != 2 || firing[0].Rule != "busy" || firing[0].Severity != SevCritical || firing[0].Since != t0 ||
		!firing[1].Silenced || len(silences) != 1 {
		t.Fatalf("after replay: %+v %+v", firing, silences)
	}
	if ts := restarted.cpu(97); len(ts) != 0 {
		t.Fatalf("re-fired after the restart: %s", moves(ts))
	}
	if ts := restarted.feed(map[string]string{"disk": fsPayload(map[string]float64{"/": 99})}); len(ts) != 0 {
		t.Fatalf("the silenced alert was told after the restart: %s", moves(ts))
	}
	ts := restarted.cpu(50)
	if moves(ts) != "firing>resolved:critical" || ts[0].Alert != c.log[1].Alert || ts[0].ID != c.log[1].Alert+".3" {
		t.Fatalf("resolution after the restart: %+v", ts)
	}

	// Replaying a log that ends resolved gives an engine with nothing open.
	records = append(records, ts[0])
	if firing, _ := replay(t, rules, records).Snapshot(restarted.now); len(firing) != 1 || firing[0].Rule != "full" {
		t.Fatalf("after a resolved replay: %+v", firing)
	}
}

func TestReplaySkipsRulesThatAreGone(t *testing.T) {
	e, err := NewEngine(Options{Rules: []Rule{cpuRule(nil)}})
	if err != nil {
		t.Fatal(err)
	}
	old := Transition{Kind: KindTransition, ID: "x.1", Alert: "x", Rule: "removed", From: StateOK, To: StateFiring}
	data, _ := json.Marshal(old)
	if err := e.Replay(data); err != nil {
		t.Fatal(err)
	}
	if err := e.Replay([]byte(`{"kind":"other"}`)); err == nil {
		t.Fatal("an unknown record kind was accepted")
	}
}

func TestSetRulesKeepsState(t *testing.T) {
	c := newClock(t, cpuRule(nil))
	c.cpu(90)
	if err := c.e.SetRules([]Rule{cpuRule(func(r *Rule) { r.Warn, r.Clear = ptr(80), 70 })}); err != nil {
		t.Fatal(err)
	}
	if ts := c.cpu(82); len(ts) != 0 {
		t.Fatalf("a reload re-fired: %s", moves(ts))
	}
	if ts := c.cpu(60); moves(ts) != "firing>resolved:warning" {
		t.Fatalf("after a reload: %s", moves(ts))
	}
}

func TestNumberJSON(t *testing.T) {
	b, err := json.Marshal([]Number{1.5, Number(math.Inf(1)), Number(math.NaN())})
	if err != nil || string(b) != "[1.5,null,null]" {
		t.Fatalf("%s %v", b, err)
	}
}
