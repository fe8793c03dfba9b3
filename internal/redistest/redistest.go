package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/internal/proctest"
)

// Server is one redis-server process started by a test.
type Server struct {
	Addr string // 127.0.0.1:port
	URL  string // redis://127.0.0.1:port/0
	dir  string
	bin  string
	args []string
	proc *proctest.Proc
	log  string // the server's output, for failure messages
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
	addr, err := proctest.FreeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	s := &Server{Addr: addr, URL: "redis://" + addr + "/0", dir: dir, bin: bin}
	s.args = append([]string{
		"--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no",
		"--loglevel", "warning",
	}, extra...)
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) start() error {
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.dir
	s.log = filepath.Join(s.dir, "redis.log")
	out, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer out.Close() // the child has its own copy
	cmd.Stdout, cmd.Stderr = out, out
	if s.proc, err = proctest.Start(cmd); err != nil {
		return err
	}
	if err := s.proc.WaitReady(context.Background(), 10*time.Second, s.ping); err != nil {
		s.Close()
		logged, _ := os.ReadFile(s.log)
		return fmt.Errorf("redis-server on %s did not answer PING: %v\n%s", s.Addr, err, logged)
	}
	return nil
}

// PID is the server process's id.
func (s *Server) PID() int { return s.proc.PID() }

// Stop ends the server (SIGTERM to its PID, SIGKILL after 5 s) and waits.
func (s *Server) Stop(t testing.TB) { s.Close() }

// Close is Stop outside a test.
func (s *Server) Close() { s.proc.Stop(5 * time.Second) }

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

// ping is the ready check: redis-server answers PING with PONG.
func (s *Server) ping() error {
	c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// Client is a go-redis client of the server for the test, closed at
// cleanup.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}
