package notify

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"go.etcd.io/bbolt"

	"vitals/alerts"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func firing(id string, sev alerts.Severity) alerts.Transition {
	return alerts.Transition{Kind: alerts.KindTransition, ID: id + ".2", Alert: id, Rule: "filesystem-full",
		Item: "/backup", Host: "h1", From: alerts.StatePending, To: alerts.StateFiring, Severity: sev, Peak: sev,
		Value: 96, Thresh: 95, Unit: "%", Time: t0, Since: t0.Add(-5 * time.Minute), Summary: "filesystem full"}
}

func resolved(id string, peak alerts.Severity) alerts.Transition {
	tr := firing(id, alerts.SevWarning)
	tr.ID, tr.From, tr.To, tr.Peak, tr.Value, tr.Thresh = id+".3", alerts.StateFiring, alerts.StateResolved, peak, 80, 85
	return tr
}

func openDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// receiver is a real webhook endpoint that refuses while down.
type receiver struct {
	*httptest.Server
	down     atomic.Bool
	attempts atomic.Int64
	mu       sync.Mutex // guards got
	got      map[string]int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{got: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// Read before counting: a test that saw an attempt counted knows
		// which answer it got, whatever it changes next.
		down := r.down.Load()
		r.attempts.Add(1)
		if down {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		var m message
		if err := json.NewDecoder(req.Body).Decode(&m); err != nil || req.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.got[m.Transition.ID]++
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) deliveries() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.got {
		out[k] = v
	}
	return out
}

// eventually polls cond for up to 20 s: generous for a loaded machine, and
// never a fixed sleep.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fastConfig(db *bbolt.DB, targets ...Target) Options {
	return Options{DB: db, Targets: targets, MinBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond}
}

func mustTarget(t *testing.T, spec string) Target {
	t.Helper()
	tg, err := ParseTarget(spec, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestWebhookDownThenUpDeliversOnce(t *testing.T) {
	rcv := newReceiver(t)
	rcv.down.Store(true)
	db := openDB(t, filepath.Join(t.TempDir(), "h.db"))
	defer db.Close()
	d, err := New(fastConfig(db, mustTarget(t, rcv.URL+"/hook")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Enqueue(firing("a", alerts.SevWarning), resolved("a", alerts.SevWarning)); err != nil {
		t.Fatal(err)
	}
	// The target refuses for a while: retried, with backoff, not dropped.
	eventually(t, "five refused attempts", func() bool { return rcv.attempts.Load() >= 5 })
	if w, _ := d.Waiting(); w[Redact(rcv.URL+"/hook")] != 2 {
		t.Fatalf("waiting = %v", w)
	}
	rcv.down.Store(false)
	eventually(t, "both delivered", func() bool { return len(rcv.deliveries()) == 2 })
	// Enqueueing the same transitions again (a replay) sends nothing.
	if err := d.Enqueue(firing("a", alerts.SevWarning), resolved("a", alerts.SevWarning)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "an empty queue", func() bool { w, _ := d.Waiting(); return w[Redact(rcv.URL+"/hook")] == 0 })
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if got := rcv.deliveries(); got["a.2"] != 1 || got["a.3"] != 1 {
		t.Fatalf("deliveries = %v, want each once", got)
	}
}

func TestRestartWhileWaitingDeliversOnceAfterReopen(t *testing.T) {
	rcv := newReceiver(t)
	rcv.down.Store(true)
	path := filepath.Join(t.TempDir(), "h.db")
	target := rcv.URL + "/hook"

	db := openDB(t, path)
	// One refused attempt, then a wait far longer than the test: no retry
	// is in flight when the process stops. (A retry cancelled by Close
	// may still reach the receiver after it is up again, and count as a
	// delivery the outbox never heard of: at-least-once, by design.)
	first := fastConfig(db, mustTarget(t, target))
	first.MinBackoff, first.MaxBackoff = time.Hour, time.Hour
	d, err := New(first)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Enqueue(firing("b", alerts.SevCritical)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a refused attempt", func() bool { return rcv.attempts.Load() >= 1 })
	eventually(t, "the retry stored", func() bool { return storedAttempts(t, db) == 1 })
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if len(rcv.deliveries()) != 0 {
		t.Fatal("delivered while down")
	}

	// A new process: the same file, the same target, the target back, and
	// a clock past the stored retry.
	rcv.down.Store(false)
	db = openDB(t, path)
	defer db.Close()
	second := fastConfig(db, mustTarget(t, target))
	second.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	d, err = New(second)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// The app replays its log and enqueues again: still once.
	if err := d.Enqueue(firing("b", alerts.SevCritical)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delivery after the restart", func() bool { return rcv.deliveries()["b.2"] == 1 })
	eventually(t, "an empty queue", func() bool { w, _ := d.Waiting(); return w[Redact(target)] == 0 })
	d.Close()
	if got := rcv.deliveries(); len(got) != 1 || got["b.2"] != 1 {
		t.Fatalf("deliveries = %v", got)
	}
}

// storedAttempts is the attempts recorded on the head of the outbox's
// queue (0 with none waiting).
func storedAttempts(t *testing.T, db *bbolt.DB) int {
	t.Helper()
	n := 0
	err := db.View(func(tx *bbolt.Tx) error {
		r := tx.Bucket([]byte("alerts-outbox"))
		if r == nil || r.Bucket(bucketQueue) == nil {
			return nil
		}
		_, v := r.Bucket(bucketQueue).Cursor().First()
		if v == nil {
			return nil
		}
		var e entry
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		n = e.Attempts
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMinimumSeverityPerTarget(t *testing.T) {
	all, crit := newReceiver(t), newReceiver(t)
	db := openDB(t, filepath.Join(t.TempDir(), "h.db"))
	defer db.Close()
	d, err := New(fastConfig(db, mustTarget(t, all.URL), mustTarget(t, crit.URL+"#min=critical")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pending := firing("p", alerts.SevWarning)
	pending.ID, pending.From, pending.To = "p.1", alerts.StateOK, alerts.StatePending
	silenced := firing("s", alerts.SevCritical)
	silenced.Silenced = true
	err = d.Enqueue(pending, silenced,
		firing("w", alerts.SevWarning), resolved("w", alerts.SevWarning),
		firing("c", alerts.SevCritical), resolved("c", alerts.SevCritical))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "deliveries", func() bool { return len(all.deliveries()) == 4 && len(crit.deliveries()) == 2 })
	d.Close()
	if got := crit.deliveries(); got["c.2"] != 1 || got["c.3"] != 1 {
		t.Fatalf("critical target got %v", got)
	}
	if got := all.deliveries(); got["p.1"] != 0 || got["s.2"] != 0 {
		t.Fatalf("pending or silenced notified: %v", got)
	}
}

// mailbox is a real SMTP server that refuses the first refuse messages.
type mailbox struct {
	mu     sync.Mutex // guards msgs and refuse
	msgs   []string
	refuse int
}

type mailSession struct{ box *mailbox }

func (s mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s mailSession) Reset()                               {}
func (s mailSession) Logout() error                        { return nil }
func (s mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	if s.box.refuse > 0 {
		s.box.refuse--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.box.msgs = append(s.box.msgs, string(b))
	return nil
}

func (m *mailbox) messages() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.msgs...)
}

func startSMTP(t *testing.T, box *mailbox) string {
	t.Helper()
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return mailSession{box}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return l.Addr().String()
}

func TestEmailThroughShoutrrrSMTP(t *testing.T) {
	box := &mailbox{refuse: 2}
	addr := startSMTP(t, box)
	url := fmt.Sprintf("smtp://%s/?from=vitals@example.org&to=ops@example.org&auth=None&encryption=None&usestarttls=No", addr)
	tg, err := ParseTarget("env:VITALS_MAIL", func(k string) string { return map[string]string{"VITALS_MAIL": url}[k] })
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t, filepath.Join(t.TempDir(), "h.db"))
	defer db.Close()
	d, err := New(fastConfig(db, tg))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Enqueue(firing("m", alerts.SevCritical), resolved("m", alerts.SevCritical)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "two mails", func() bool { return len(box.messages()) == 2 })
	d.Close()
	msgs := box.messages()
	if len(msgs) != 2 {
		t.Fatalf("%d mails, want 2", len(msgs))
	}
	if !strings.Contains(msgs[0], "Subject: CRITICAL filesystem full /backup on h1") ||
		!strings.Contains(msgs[0], "alert: m") || !strings.Contains(msgs[1], "RESOLVED") {
		t.Fatalf("mails:\n%s\n---\n%s", msgs[0], msgs[1])
	}
}
