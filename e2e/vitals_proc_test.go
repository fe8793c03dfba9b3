package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vitals/internal/proctest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error

	// moduleRoot is the directory of go.mod: the binary is built from
	// there and -update writes docs/ there. Set by TestMain.
	moduleRoot string
)

// TestMain finds the module root and removes the binary vitalsBinary
// built, once every test is done.
func TestMain(m *testing.M) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if gomod := strings.TrimSpace(string(out)); err != nil || gomod == "" || gomod == os.DevNull {
		fmt.Fprintf(os.Stderr, "e2e: cannot find the module root (go env GOMOD: %q, %v)\n", out, err)
		os.Exit(1)
	} else {
		moduleRoot = filepath.Dir(gomod)
	}
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// vitalsBinary builds the program once per `go test` run.
func vitalsBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vitals-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "vitals")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		build := exec.Command("go", append(args, ".")...)
		build.Dir = moduleRoot
		out, err := build.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// vitalsProc is one running vitals process.
type vitalsProc struct {
	*proctest.Proc
	URL     string // http://127.0.0.1:port, or https:// with --tls-cert
	Addr    string // 127.0.0.1:port
	DataDir string
	Args    []string // extra flags it was started with
	// Client reaches URL: http.DefaultClient, or with --tls-cert one
	// that trusts that certificate (and speaks HTTP/2).
	Client *http.Client
}

// startVitals starts the binary on a free loopback port with a fast
// 200ms interval unless args say otherwise, waits until /healthz answers,
// and stops it at test cleanup.
func startVitals(t testing.TB, dataDir string, args ...string) *vitalsProc {
	t.Helper()
	return startVitalsOn(t, freeAddr(t), dataDir, args...)
}

func startVitalsOn(t testing.TB, addr, dataDir string, args ...string) *vitalsProc {
	t.Helper()
	full := append([]string{"--addr", addr, "--data-dir", dataDir}, args...)
	if !hasFlag(args, "--interval") {
		full = append(full, "--interval", "200ms")
	}
	cmd := exec.Command(vitalsBinary(t), full...)
	cmd.Env = append(os.Environ(), "GORACE=halt_on_error=1")
	proc, err := proctest.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	p := &vitalsProc{Proc: proc, URL: "http://" + addr, Addr: addr, DataDir: dataDir, Args: args, Client: http.DefaultClient}
	if cert := flagValue(args, "--tls-cert"); cert != "" {
		p.URL, p.Client = "https://"+addr, trustingClient(t, cert)
	}
	t.Cleanup(func() { p.stop(t) })
	// 30 s: a -race build starts slowly on a busy machine.
	if err := p.WaitReady(context.Background(), 30*time.Second, proctest.HealthyVia(p.Client, p.URL)); err != nil {
		t.Fatalf("vitals did not become healthy: %v", err)
	}
	return p
}

// Kill9 kills the process with SIGKILL, as a crash would, and waits.
func (p *vitalsProc) Kill9(t testing.TB) {
	t.Helper()
	p.Kill()
}

// Restart starts vitals again on the same address and data dir.
func (p *vitalsProc) Restart(t testing.TB) *vitalsProc {
	t.Helper()
	return startVitalsOn(t, p.Addr, p.DataDir, p.Args...)
}

// stop asks for a graceful exit and fails the test if the process needs
// more than the documented 5 s (with room for a race build), or if the
// race detector fired.
func (p *vitalsProc) stop(t testing.TB) {
	if killed := p.Stop(15 * time.Second); killed {
		t.Errorf("vitals did not exit after SIGTERM:\n%s", p.Stderr())
	}
	if strings.Contains(p.Stderr(), "WARNING: DATA RACE") {
		t.Errorf("data race in vitals:\n%s", p.Stderr())
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	addr, err := proctest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// flagValue is the value of the flag name in args ("--name value" or
// "--name=value"), "" when absent.
func flagValue(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// trustingClient speaks HTTPS (HTTP/2 when offered) to a server with the
// PEM certificate in certFile, and trusts nothing else.
func trustingClient(t testing.TB, certFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", certFile)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}
