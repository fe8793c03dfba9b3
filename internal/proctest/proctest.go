package proctest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"vitals/internal/logtest"
)

// Proc is one started child process.
type Proc struct {
	Cmd *exec.Cmd // ProcessState is set once Exited is closed

	stderr *logtest.Buffer // nil when the caller gave Cmd.Stderr
	exited chan struct{}   // closed when the process has been reaped
}

// Start starts cmd and a goroutine that waits for it. When cmd.Stderr is
// nil the process's stderr is kept for Stderr; a nil cmd.Stdout goes to
// the null device, as exec does.
func Start(cmd *exec.Cmd) (*Proc, error) {
	p := &Proc{Cmd: cmd, exited: make(chan struct{})}
	if cmd.Stderr == nil {
		p.stderr = &logtest.Buffer{}
		cmd.Stderr = p.stderr
	}
	if cmd.WaitDelay == 0 {
		// A grandchild that inherited the stderr pipe must not keep Wait,
		// and so Stop, waiting after the process itself is gone.
		cmd.WaitDelay = time.Second
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", filepath.Base(cmd.Path), err)
	}
	go func() { // owned by p: ends when the process exits; Stop and Kill wait for it
		cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// PID is the process's id.
func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// Exited is closed once the process has exited and been reaped.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Stderr is what the process wrote to stderr so far ("" when the caller
// gave its own Cmd.Stderr).
func (p *Proc) Stderr() string {
	if p.stderr == nil {
		return ""
	}
	return p.stderr.String()
}

// Stop sends SIGTERM and waits for the exit; after grace it sends SIGKILL
// and waits again. killed says the process needed the SIGKILL. A process
// that has already exited is left as it is.
func (p *Proc) Stop(grace time.Duration) (killed bool) {
	select {
	case <-p.exited:
		return false
	default:
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.exited:
		return false
	case <-timer.C:
		p.Kill()
		return true
	}
}

// Kill sends SIGKILL, as a crash would, and waits for the exit.
func (p *Proc) Kill() {
	p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// WaitReady calls ready every 50 ms until it returns nil. It gives up,
// without stopping the process, when the process exits, ctx ends, or
// timeout passes; the error then holds ready's last error and the stderr.
func (p *Proc) WaitReady(ctx context.Context, timeout time.Duration, ready func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name := filepath.Base(p.Cmd.Path)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := ready()
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited during start (%v): %s", name, p.Cmd.ProcessState, p.Stderr())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %v: %w\n%s", name, timeout, err, p.Stderr())
		case <-tick.C:
		}
	}
}

// Healthy is a ready check: GET base+"/healthz" answers 200.
func Healthy(base string) func() error {
	return HealthyVia(&http.Client{}, base)
}

// HealthyVia is Healthy through client (one that trusts a test
// certificate, for an https base). Each try is bounded to 5 s.
func HealthyVia(client *http.Client, base string) func() error {
	return Answers(client, base+"/healthz")
}

// Answers is a ready check: GET url through client answers 200 (a server
// that has no /healthz, such as netdata). Each try is bounded to 5 s.
func Answers(client *http.Client, url string) func() error {
	// A hung server must not hang the wait: each try has its own bound.
	client = &http.Client{Transport: client.Transport, Timeout: 5 * time.Second}
	return func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	}
}

// Listening is a ready check for a server without a health route: a TCP
// connection to addr is accepted.
func Listening(addr string) func() error {
	return func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// FreeAddr returns a loopback address ("127.0.0.1:port") whose port was
// free a moment ago. Another process may take it before the caller
// listens; tests accept that small race for real ports.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
