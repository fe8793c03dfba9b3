package app

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"vitals/internal/logtest"
	"vitals/internal/tlstest"
)

func TestTLSFlags(t *testing.T) {
	c, err := parseConfig(nil, env("VITALS_TLS_CERT", "/etc/vitals/cert.pem", "VITALS_TLS_KEY", "/etc/vitals/key.pem"), io.Discard)
	if err != nil || c.TLSCert != "/etc/vitals/cert.pem" || c.TLSKey != "/etc/vitals/key.pem" {
		t.Fatalf("from the environment: %v %+v", err, c.Operations)
	}
	for _, args := range [][]string{{"--tls-cert", "c.pem"}, {"--tls-key", "k.pem"}} {
		if _, err := parseConfig(args, env(), io.Discard); err == nil || !strings.Contains(err.Error(), "--tls-cert and --tls-key go together") {
			t.Errorf("%v: %v", args, err)
		}
	}
}

func TestPlainHTTPWarningNotWithTLS(t *testing.T) {
	if w := plainHTTPWarning("0.0.0.0:8443", goodToken, true); w != "" {
		t.Errorf("TLS warned: %q", w)
	}
	if w := plainHTTPWarning("0.0.0.0:8080", goodToken, false); !strings.Contains(w, "--tls-cert") {
		t.Errorf("the warning doesn't point to --tls-cert: %q", w)
	}
}

func TestLoadCertificateBadPairIsOneLine(t *testing.T) {
	dir := t.TempDir()
	cert, key, err := tlstest.WriteMismatched(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, files := range map[string][2]string{
		"key of another certificate": {cert, key},
		"missing file":               {dir + "/nope.crt", key},
	} {
		_, err := loadCertificate(files[0], files[1])
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "--tls-cert") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestCertificateReloadsOnSIGHUP renews the files under a running reloader:
// a SIGHUP swaps the pair in; a bad pair on the next SIGHUP is logged and
// the good one kept.
func TestCertificateReloadsOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	old, err := tlstest.Write(dir, "live")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := loadCertificate(old.CertFile, old.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	var logs logtest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	stop := onHangup(log, []func(){func() { cert.reloadLogged(log) }})
	defer stop()
	serving := func() []byte {
		c, _ := cert.getCertificate(nil)
		return c.Certificate[0]
	}
	if !bytes.Equal(serving(), old.Cert.Raw) {
		t.Fatal("not serving the loaded certificate")
	}

	renewed, err := tlstest.Write(t.TempDir(), "renewed")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range [][2]string{{renewed.CertFile, old.CertFile}, {renewed.KeyFile, old.KeyFile}} {
		if err := os.Rename(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	hup := func(until func() bool) {
		t.Helper()
		syscall.Kill(os.Getpid(), syscall.SIGHUP)
		for deadline := time.Now().Add(10 * time.Second); !until(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("SIGHUP had no effect; logs:\n%s", logs.String())
			}
		}
	}
	hup(func() bool { return bytes.Equal(serving(), renewed.Cert.Raw) })

	if err := os.WriteFile(old.CertFile, []byte("half-written"), 0o644); err != nil {
		t.Fatal(err)
	}
	hup(func() bool { return strings.Contains(logs.String(), "TLS certificate not reloaded") })
	if !bytes.Equal(serving(), renewed.Cert.Raw) {
		t.Fatal("a bad pair replaced the good one")
	}
}
