package e2e

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"vitals/internal/logtest"
	"vitals/internal/proctest"
	"vitals/internal/ssetest"
)

type historyPage struct {
	Head, Oldest string
	Complete     bool
	Events       []struct{ ID, Event string }
}

func getHistory(t testing.TB, base, query string) historyPage {
	t.Helper()
	return getJSON[historyPage](t, base+"/api/history"+query)
}

// getJSON GETs url and decodes its JSON answer.
func getJSON[T any](t testing.TB, url string) T {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v T
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// readCatchup connects with lastID and returns the ids between
// catchup-start and catchup-end, and the catchup-start data.
func readCatchup(t *testing.T, base, lastID string) (ids []string, start map[string]any) {
	t.Helper()
	s := ssetest.Open(t, base+"/events", "Last-Event-ID: "+lastID)
	defer s.Close()
	for {
		e := s.NextEvent(t)
		switch {
		case e.Event == "catchup-start":
			json.Unmarshal([]byte(e.Data), &start)
		case e.Event == "catchup-end":
			return ids, start
		case start != nil && e.ID != "":
			ids = append(ids, e.ID)
		}
	}
}

// TestKill9RestartContinuesIDsAndResumesExactly is the product's promise:
// kill the server hard, start it again on the same data dir, and a client
// resuming with its last id gets exactly the events published since.
func TestKill9RestartContinuesIDsAndResumesExactly(t *testing.T) {
	dir := t.TempDir()
	p := startVitals(t, dir)
	waitHistory(t, p.URL, 10)
	before := getHistory(t, p.URL, "")
	seen := before.Head // the client's Last-Event-ID

	p.Kill9(t)
	p2 := p.Restart(t)
	waitHistory(t, p2.URL, len(before.Events)+10)

	ids, start := readCatchup(t, p2.URL, seen)
	if start["complete"] != true {
		t.Fatalf("catchup-start after restart = %v", start)
	}
	after := getHistory(t, p2.URL, "?after="+seen)
	var want []string
	for _, e := range after.Events {
		want = append(want, e.ID)
	}
	if len(ids) < len(want) || strings.Join(ids[:len(want)], ",") != strings.Join(want, ",") {
		t.Fatalf("resumed with %v\nwant (at least) %v", ids, want)
	}
	// Ids continue above the old ones: none of the new ids was issued
	// before the kill.
	old := map[string]bool{}
	for _, e := range before.Events {
		old[e.ID] = true
	}
	for _, id := range ids {
		if old[id] {
			t.Fatalf("id %s was reused after restart", id)
		}
	}
	if !strings.HasPrefix(ids[0], strings.SplitN(seen, ".", 2)[0]+".") {
		t.Fatalf("epoch changed across restart: %s then %s", seen, ids[0])
	}
}

func TestSecondProcessOnSameDataDirFailsClearly(t *testing.T) {
	dir := t.TempDir()
	startVitals(t, dir)
	cmd := exec.Command(vitalsBinary(t), "--addr", freeAddr(t), "--data-dir", dir)
	var buf logtest.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	p, err := proctest.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	case <-time.After(30 * time.Second):
		p.Kill()
		t.Fatal("second vitals on a locked data dir hung")
	}
	out := buf.String()
	if p.Cmd.ProcessState.Success() || !strings.Contains(out, "locked by another process") || !strings.Contains(out, dir) {
		t.Fatalf("exit %v, output %s", p.Cmd.ProcessState, out)
	}
}

func TestBadFlagStopsStartupWithOneLine(t *testing.T) {
	out, err := exec.Command(vitalsBinary(t), "--interval", "1ms").CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err == nil || len(lines) != 1 || !strings.Contains(lines[0], "--interval") {
		t.Fatalf("err %v, output %q", err, out)
	}
}

func waitHistory(t testing.TB, base string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(getHistory(t, base, "").Events) < n {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d events after 30s", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The build's version is one value wherever it is shown: --version, the
// stream's hello, /healthz and vitals_build_info.
func TestVersionIsTheSameEverywhere(t *testing.T) {
	out, err := exec.Command(vitalsBinary(t), "--version").Output()
	fields := strings.Fields(string(out))
	if err != nil || len(fields) < 2 || fields[0] != "vitals" {
		t.Fatalf("--version: %v %q", err, out)
	}
	version := fields[1]
	p := startVitals(t, t.TempDir())

	_, body := ssetest.Do(t, "GET", p.URL+"/healthz")
	var health struct{ Status, Version string }
	if json.Unmarshal([]byte(body), &health) != nil || health.Version != version {
		t.Errorf("/healthz %s, want version %q", body, version)
	}
	s := ssetest.Open(t, p.URL+"/events?topics=cpu")
	var hello struct{ Version string }
	if ev := s.NextEvent(t); ev.Event != "hello" || json.Unmarshal([]byte(ev.Data), &hello) != nil || hello.Version != version {
		t.Errorf("hello %+v, want version %q", ev, version)
	}
	s.Close()
	if _, body := ssetest.Do(t, "GET", p.URL+"/metrics"); !strings.Contains(body, `version="`+version+`"`) {
		t.Errorf("vitals_build_info lacks version %q", version)
	}
}
