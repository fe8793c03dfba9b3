package notify

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vitals/alerts"
	"vitals/internal/logtest"
)

func TestRedact(t *testing.T) {
	tests := map[string]string{
		"ntfy://ntfy.sh/private-topic":                       "ntfy://ntfy.sh/***",
		"ntfy://alice:s3cret@ntfy.example.org/topic?tags=up": "ntfy://***@ntfy.example.org/***?***",
		"https://hooks.example.org/T000/B000/XXXX":           "https://hooks.example.org/***",
		"https://example.org?token=abc":                      "https://example.org?***",
		"telegram://123456:AAF-token@telegram?chats=@ops":    "telegram://***@telegram?***",
		"smtp://mail.example.org:587/?from=a@b&to=c@d":       "smtp://mail.example.org:587?***",
		"not a url": "***",
	}
	for in, want := range tests {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	file := filepath.Join(t.TempDir(), "url")
	if err := os.WriteFile(file, []byte("ntfy://ntfy.sh/from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"NTFY": "ntfy://ntfy.sh/from-env"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		spec, name string
		min        alerts.Severity
		err        string
	}{
		{"ntfy://ntfy.sh/t", "ntfy://ntfy.sh/***", alerts.SevWarning, ""},
		{"https://example.org/hook#min=critical", "https://example.org/***", alerts.SevCritical, ""},
		{"file:" + file, "ntfy://ntfy.sh/***", alerts.SevWarning, ""},
		{"env:NTFY#min=critical", "ntfy://ntfy.sh/***", alerts.SevCritical, ""},
		{"env:MISSING", "", "", "environment variable MISSING is empty or unset"},
		{"file:/nonexistent/url", "", "", "read the URL"},
		{"ntfy://ntfy.sh/t#min=info", "", "", `min="info": valid: warning, critical`},
		{"nosuchservice://x/secret-path", "", "", "nosuchservice://x/***"},
		{"just words", "", "", "not a URL"},
	}
	for _, tc := range tests {
		tg, err := ParseTarget(tc.spec, getenv)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "secret-path") {
				t.Errorf("%s: err = %v, want it to say %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil || tg.Name != tc.name || tg.MinSeverity != tc.min || len(tg.ID) != 16 {
			t.Errorf("%s: %+v %v", tc.spec, tg, err)
		}
	}
	a, _ := ParseTarget("ntfy://ntfy.sh/from-env", getenv)
	b, _ := ParseTarget("env:NTFY", getenv)
	if a.ID != b.ID {
		t.Error("the same URL by two routes has two outbox ids")
	}
}

func TestSecretsNeverReachTheLog(t *testing.T) {
	rcv := newReceiver(t)
	rcv.down.Store(true)
	// Nothing listens on a port that was just closed: the ntfy target
	// fails with the library's own error text, which names its URL.
	gone := httptest.NewServer(http.NotFoundHandler())
	closed := gone.Listener.Addr().String()
	gone.Close()
	secretsIn := []string{
		strings.Replace(rcv.URL, "http://", "http://hookuser:hookpass1@", 1) + "/hook-secret-path?token=tok-secret-1",
		"ntfy://ntfyuser:ntfypass1@" + closed + "/ntfy-secret-topic?scheme=http",
	}
	var targets []Target
	for _, u := range secretsIn {
		targets = append(targets, mustTarget(t, u))
	}
	var logs logtest.Buffer
	db := openDB(t, filepath.Join(t.TempDir(), "h.db"))
	defer db.Close()
	cfg := fastConfig(db, targets...)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Enqueue(firing("x", alerts.SevCritical)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "retries of both", func() bool { return strings.Count(logs.String(), "will retry") >= 4 })
	d.Close()
	out := logs.String()
	if !strings.Contains(out, "connection refused") {
		t.Fatalf("the ntfy failure is not the library's own error:\n%s", out)
	}
	for _, secret := range []string{"hookuser", "hookpass1", "hook-secret-path", "tok-secret-1", "ntfyuser", "ntfypass1", "ntfy-secret-topic"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log shows %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "ntfy://***@"+closed+"/***?***") {
		t.Fatalf("log does not name the target:\n%s", out)
	}
}

func TestBackoffDoublesToItsCapWithJitter(t *testing.T) {
	d := &Dispatcher{cfg: Options{MinBackoff: time.Second, MaxBackoff: 10 * time.Second, Jitter: func() float64 { return 1 }}}
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, d.backoff(n))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("backoffs = %v, want %v", got, want)
		}
	}
	d.cfg.Jitter = func() float64 { return 0 }
	if b := d.backoff(3); b != 2*time.Second {
		t.Fatalf("least jittered third backoff = %s, want half of 4s", b)
	}
}
