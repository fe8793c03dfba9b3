// Package redistest runs a real, throwaway redis-server for tests: on a
// free loopback port, with persistence off and its files in a temp dir.
// Without redis-server on PATH the test is skipped, or fails when CI=true
// (CI must run the Redis tests; .ci/run installs the package). Launch
// starts one outside a test, for the benchmark report.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is one redis-server process started by a test.
type Server struct {
	Addr string // 127.0.0.1:port
	URL  string // redis://127.0.0.1:port/0
	dir  string
	bin  string
	args []string
	cmd  *exec.Cmd
	exit chan struct{} // closed when the process has been reaped
	log  string        // the server's output, for failure messages
}

// ErrNotInstalled is Launch's error when redis-server is not on PATH.
var ErrNotInstalled = errors.New("redis-server not found on PATH")

// Start runs a redis-server for the test and stops it at cleanup.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	s, err := Launch(t.TempDir(), extra...)
	if errors.Is(err, ErrNotInstalled) {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed; CI must run the Redis tests (.ci/run installs it)")
		}
		t.Skip("redis-server not found on PATH: install Debian's redis-server package to run the Redis tests")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Launch runs a redis-server outside a test (the benchmark report uses
// it), with its files in dir, which it creates if missing. The caller
// stops it with Close. Without redis-server on PATH the error is
// ErrNotInstalled.
func Launch(dir string, extra ...string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotInstalled, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		Addr: "127.0.0.1:" + strconv.Itoa(port),
		dir:  dir,
		bin:  bin,
	}
	s.URL = "redis://" + s.Addr + "/0"
	s.args = append([]string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no",
		"--loglevel", "warning",
	}, extra...)
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) start() error {
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Dir = s.dir
	s.log = filepath.Join(s.dir, "redis.log")
	out, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer out.Close() // the child has its own copy
	s.cmd.Stdout, s.cmd.Stderr = out, out
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.exit = make(chan struct{})
	go func(cmd *exec.Cmd, exit chan struct{}) { // owned by s: Close waits for it
		cmd.Wait()
		close(exit)
	}(s.cmd, s.exit)
	deadline := time.Now().Add(10 * time.Second)
	for !s.ping() {
		if time.Now().After(deadline) {
			s.Close()
			logged, _ := os.ReadFile(s.log)
			return fmt.Errorf("redis-server on %s did not answer PING: %s", s.Addr, logged)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// PID is the server process's id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop ends the server (SIGTERM to its PID, SIGKILL after 5 s) and waits.
func (s *Server) Stop(t testing.TB) { s.Close() }

// Close is Stop outside a test.
func (s *Server) Close() {
	select {
	case <-s.exit:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exit:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.exit
	}
}

// Restart stops the server and starts it again on the same port. With
// persistence off it comes back empty, as a Redis without a disk would.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop(t)
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

// Do sends one command and returns the first reply line (for quick
// checks without a client library).
func (s *Server) Do(t testing.TB, args ...string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c, "$%d\r\n%s\r\n", len(a), a)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(line)
}

func (s *Server) ping() bool {
	c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
