package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"vitals/internal/redistest"
)

// alwaysRules fire on any machine at the first tick: CPU busy at or above
// 0 %, cleared only below -1. The threshold line sits on the CPU chart.
const alwaysRules = `defaults: false
rules:
  - name: always
    summary: always firing
    topic: cpu
    field: total
    fn: last
    warn: 0
    clear: -1
`

const secondRule = `  - name: second
    topic: cpu
    field: user
    fn: last
    warn: 0
    clear: -1
`

func writeRules(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

type alertsState struct {
	Firing []struct {
		Rule  string `json:"rule"`
		Alert string `json:"alert"`
	} `json:"firing"`
	Targets []struct {
		Name string `json:"name"`
	} `json:"targets"`
	Waiting map[string]int `json:"waiting"`
}

func getAlerts(t *testing.T, base string) alertsState {
	t.Helper()
	return getJSON[alertsState](t, base+"/api/alerts")
}

func eventually(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	if !poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// poll checks cond every 100 ms until it holds or timeout passes, and
// reports whether it held.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

// waitTicks polls until the server at base has published n more cpu ticks
// after the newest event it holds now: time measured in what the server
// says it did, never in wall time.
func waitTicks(t *testing.T, base string, n int) {
	t.Helper()
	from := getHistory(t, base, "?limit=1").Head
	eventually(t, fmt.Sprintf("%d ticks after %s", n, from), 30*time.Second, func() bool {
		return len(getHistory(t, base, "?topics=cpu&after="+url.QueryEscape(from)).Events) >= n
	})
}

// webhook is a JSON webhook receiver: it counts deliveries per transition.
type webhook struct {
	mu  sync.Mutex
	ids map[string]int
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var body struct {
		Transition struct {
			ID string `json:"id"`
		} `json:"transition"`
	}
	data, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(data, &body); err != nil || body.Transition.ID == "" {
		http.Error(rw, "bad body", http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.ids[body.Transition.ID]++
	w.mu.Unlock()
}

func (w *webhook) deliveries() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]int{}
	for k, v := range w.ids {
		out[k] = v
	}
	return out
}

// TestAlertNotificationSurvivesKill9ExactlyOnce: a rule fires while the
// webhook is down, so the notification waits in the outbox; vitals is
// killed with SIGKILL, the receiver comes up, vitals restarts: the
// notification arrives once, and the restart does not fire the alert again.
func TestAlertNotificationSurvivesKill9ExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	writeRules(t, rules, alwaysRules)
	hookAddr := freeAddr(t) // nothing listens yet: the target is down
	p := startVitals(t, filepath.Join(dir, "data"), "--alerts", rules, "--notify", "http://"+hookAddr+"/hook/secret-path")

	var target string
	eventually(t, "the notification to wait in the outbox", 20*time.Second, func() bool {
		s := getAlerts(t, p.URL)
		if len(s.Targets) == 1 {
			target = s.Targets[0].Name
		}
		return len(s.Firing) == 1 && s.Waiting[target] >= 1
	})
	if strings.Contains(target, "secret") {
		t.Fatalf("the target's path reached the API: %q", target)
	}
	firingAlert := getAlerts(t, p.URL).Firing[0].Alert
	p.Kill9(t)

	rcv := &webhook{ids: map[string]int{}}
	ln, err := net.Listen("tcp", hookAddr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rcv}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	p2 := p.Restart(t)
	eventually(t, "the delivery after the restart", 40*time.Second, func() bool { return len(rcv.deliveries()) >= 1 })
	// Room for a duplicate to show up: the outbox is empty and the engine
	// has evaluated ten more ticks.
	eventually(t, "the outbox to empty", 20*time.Second, func() bool { return getAlerts(t, p2.URL).Waiting[target] == 0 })
	waitTicks(t, p2.URL, 10)
	got := rcv.deliveries()
	if len(got) != 1 {
		t.Fatalf("deliveries %v, want one transition", got)
	}
	for id, n := range got {
		if n != 1 || !strings.HasPrefix(id, firingAlert+".") {
			t.Fatalf("delivered %s %d times; want the firing of %s once", id, n, firingAlert)
		}
	}
	s := getAlerts(t, p2.URL)
	if len(s.Firing) != 1 || s.Firing[0].Alert != firingAlert || s.Waiting[target] != 0 {
		t.Fatalf("after the restart: %+v; want the same alert firing, nothing waiting", s)
	}
	if strings.Contains(p.Stderr()+p2.Stderr(), "secret-path") {
		t.Fatal("the target's secret reached the log")
	}
}

func TestAlertsCheckAndBadFileAtStartup(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	writeRules(t, good, alwaysRules)
	if out, err := exec.Command(vitalsBinary(t), "alerts", "check", good).CombinedOutput(); err != nil {
		t.Fatalf("check of a good file: %v %s", err, out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	writeRules(t, bad, strings.Replace(alwaysRules, "topic: cpu", "topic: cpuu", 1))
	for _, args := range [][]string{{"alerts", "check", bad}, {"--alerts", bad, "--addr", freeAddr(t), "--data-dir", dir}} {
		out, err := exec.Command(vitalsBinary(t), args...).CombinedOutput()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if err == nil || len(lines) != 1 || !strings.Contains(lines[0], bad+":5:") || !strings.Contains(lines[0], "cpu") {
			t.Fatalf("%v: err %v, output %q; want one line %s:5: naming the valid topics", args, err, out, bad)
		}
	}
}

// TestBrowserAlertBadgePanelAndMissedTransition: a rule that fires on this
// machine shows as the badge, in the panel, as a threshold line and a band
// on the CPU chart; a transition that happens while the page is
// disconnected appears after the reconnect, through Last-Event-ID.
func TestBrowserAlertBadgePanelAndMissedTransition(t *testing.T) {
	p := newPage(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	writeRules(t, rules, alwaysRules)
	srv := startVitals(t, filepath.Join(dir, "data"), "--alerts", rules)
	p.openLive(srv.URL, 3)
	p.waitFor("the badge, the panel, the threshold line and the band",
		`s.alerts.counts.firing === 1 && !document.getElementById("alerts-badge").hidden &&
		 document.querySelectorAll('#alerts-firing li[data-rule="always"]').length === 1 &&
		 s.alerts.thresholds.cpu.some((l) => l.rule === "always" && l.level === "warn") &&
		 s.alerts.bands.cpu.length === 1`, 10*time.Second)

	// The position is read once the stream is closed: read before, live
	// events could still move it.
	p.disconnect()
	lastID := p.snap().LastID
	writeRules(t, rules, alwaysRules+secondRule)
	if err := srv.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second rule to fire on the server", 10*time.Second, func() bool { return len(getAlerts(t, srv.URL).Firing) == 2 })
	waitTicks(t, srv.URL, 3) // a few ticks after it, so the page's position is before it
	p.reconnect(lastID)
	p.waitFor("the missed transition", fmt.Sprintf(`s.alerts.counts.firing === 2 && document.getElementById("alerts-badge").textContent === %q &&
		document.querySelectorAll('#alerts-firing li[data-rule="second"]').length === 1`, "2 alerts"), 10*time.Second)
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestRedisAlertStateSurvivesKill9: with --redis the alert records go into
// the host's stream; a vitals killed and restarted rebuilds its state from
// there: the same alert is firing, not fired again, and another instance
// lists it for that host.
func TestRedisAlertStateSurvivesKill9(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	writeRules(t, rules, alwaysRules)
	p := startVitals(t, filepath.Join(dir, "a"), "--redis", srv.URL, "--name", "web1", "--alerts", rules)
	eventually(t, "the alert to fire", 20*time.Second, func() bool { return len(getAlerts(t, p.URL).Firing) == 1 })
	alert := getAlerts(t, p.URL).Firing[0].Alert
	p.Kill9(t)
	p2 := p.Restart(t)
	waitTicks(t, p2.URL, 10) // ten ticks after the restart
	s := getAlerts(t, p2.URL)
	if len(s.Firing) != 1 || s.Firing[0].Alert != alert {
		t.Fatalf("after the restart: %+v, want %s still firing", s.Firing, alert)
	}
	other := startVitals(t, filepath.Join(dir, "b"), "--redis", srv.URL, "--name", "viewer")
	type records struct {
		Records []struct {
			Record struct {
				ID, Alert, To string
			} `json:"record"`
		} `json:"records"`
	}
	h := getJSON[records](t, other.URL+"/api/alerts/history?host=web1")
	if len(h.Records) != 1 || h.Records[0].Record.Alert != alert || h.Records[0].Record.To != "firing" {
		t.Fatalf("history of web1 from another instance: %+v, want the one firing of %s", h.Records, alert)
	}
}
