package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
	URL     string // http://127.0.0.1:port
	Addr    string // 127.0.0.1:port
	DataDir string
	Args    []string // extra flags it was started with
	Cmd     *exec.Cmd
	stderr  *lockedBuffer
	exited  chan struct{}
}

// startVitals starts the binary on a free loopback port with a fast
// 200ms interval unless args say otherwise, waits until /healthz answers,
// and kills it at test cleanup.
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
	p := &vitalsProc{URL: "http://" + addr, Addr: addr, DataDir: dataDir, Args: args,
		stderr: &lockedBuffer{}, exited: make(chan struct{})}
	p.Cmd = exec.Command(vitalsBinary(t), full...)
	p.Cmd.Stderr = p.stderr
	p.Cmd.Env = append(os.Environ(), "GORACE=halt_on_error=1")
	stdout, err := p.Cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // owned by p: ends when the process exits (Kill9/cleanup wait on it)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
		}
		p.Cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })
	deadline := time.Now().Add(30 * time.Second) // a -race build starts slowly on a busy machine
	for {
		resp, err := http.Get(p.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("vitals exited during start: %s", p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("vitals did not become healthy: %v\n%s", err, p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill9 kills the process with SIGKILL, as a crash would, and waits.
func (p *vitalsProc) Kill9(t testing.TB) {
	t.Helper()
	p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// Restart starts vitals again on the same address and data dir.
func (p *vitalsProc) Restart(t testing.TB) *vitalsProc {
	t.Helper()
	return startVitalsOn(t, p.Addr, p.DataDir, p.Args...)
}

// Stderr is what the process logged so far.
func (p *vitalsProc) Stderr() string { return p.stderr.String() }

// stop asks for a graceful exit and fails the test if the process needs
// more than the documented 5 s, or if the race detector fired.
func (p *vitalsProc) stop(t testing.TB) {
	select {
	case <-p.exited:
	default:
		p.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			p.Cmd.Process.Kill()
			<-p.exited
			t.Errorf("vitals did not exit after SIGTERM:\n%s", p.Stderr())
		}
	}
	if strings.Contains(p.Stderr(), "WARNING: DATA RACE") {
		t.Errorf("data race in vitals:\n%s", p.Stderr())
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
