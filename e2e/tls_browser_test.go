package e2e

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"vitals/internal/ssetest"
	"vitals/internal/tlstest"
)

// TestBrowserHTTPSAndHTTP2 serves the dashboard with --tls-cert and a
// certificate made here, which Chromium is told to accept by its public
// key (not by turning certificate checks off). The page must be reached
// over HTTP/2, go live, and catch up exactly after a reconnect; the stream
// itself must be served over HTTP/2 too, where vitals can't hijack the
// connection and writes through net/http.
func TestBrowserHTTPSAndHTTP2(t *testing.T) {
	pair, err := tlstest.Write(t.TempDir(), "vitals")
	if err != nil {
		t.Fatal(err)
	}
	p := newPageWith(t, chromedp.Flag("ignore-certificate-errors-spki-list", pair.SPKIHash()))
	srv := startVitals(t, t.TempDir(), "--tls-cert", pair.CertFile, "--tls-key", pair.KeyFile)
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("URL %s", srv.URL)
	}
	p.openLive(srv.URL, 10)

	// Every request the page made (the page, its scripts and styles, the
	// history) went over h2; the stream shares their connection.
	protos, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](
		`performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource")).map((e) => e.name + " " + e.nextHopProtocol)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(protos) < 2 {
		t.Fatalf("performance entries: %v", protos)
	}
	for _, e := range protos {
		if !strings.HasSuffix(e, " h2") {
			t.Errorf("not over HTTP/2: %s", e)
		}
	}

	s := ssetest.OpenWith(t, srv.Client, srv.URL+"/events?topics=cpu")
	if s.Resp.ProtoMajor != 2 || s.NextEvent(t).Event != "hello" || s.NextEvent(t).Event != "cpu" {
		t.Fatalf("/events over %s: %d", s.Resp.Proto, s.Resp.StatusCode)
	}
	s.Close()

	p.checkReconnectExact(srv)
}

func TestBadTLSPairStopsStartupWithOneLine(t *testing.T) {
	cert, key, err := tlstest.WriteMismatched(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(vitalsBinary(t), "--addr", freeAddr(t), "--data-dir", t.TempDir(),
		"--tls-cert", cert, "--tls-key", key).CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err == nil || len(lines) != 1 || !strings.Contains(lines[0], "--tls-cert") || !strings.Contains(lines[0], "does not match") {
		t.Fatalf("err %v, output %q", err, out)
	}
}
