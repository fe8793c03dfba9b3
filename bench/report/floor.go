package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"vitals/internal/proctest"
)

// startFloor starts bench/floor writing tickBytes per connection per tick.
func (rep *report) startFloor(ctx context.Context, tickBytes int) (*server, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", rep.o.nextPort())
	s := &server{url: "http://" + addr, bin: filepath.Join(rep.o.binDir, "floor"),
		args: []string{"-addr", addr, "-tick-bytes", strconv.Itoa(tickBytes)}}
	return s, s.start(ctx, proctest.Listening(addr))
}

// tickBytes reads one live tick of vitals' stream for topics, as the
// load generator asks for it, and returns the size of its body (the
// chunk's payload: what the floor writes per tick). The first chunk is
// retry and hello; each later one is one tick (one writev). The larger of
// two ticks is taken, in case one was sampled while a collector was
// still warming up.
func tickBytes(rawURL, topics string) (int, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, err
	}
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET /events?topics=%s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", topics, u.Host)
	br := bufio.NewReader(c)
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return 0, fmt.Errorf("read head: %w", err)
		}
		if strings.TrimRight(l, "\r\n") == "" {
			break
		}
	}
	best := 0
	for i := range 3 {
		l, err := br.ReadString('\n')
		if err != nil {
			return 0, fmt.Errorf("read chunk: %w", err)
		}
		n, err := strconv.ParseInt(strings.TrimRight(l, "\r\n"), 16, 64)
		if err != nil {
			return 0, fmt.Errorf("chunk size %q: %w", l, err)
		}
		if _, err := br.Discard(int(n) + 2); err != nil {
			return 0, err
		}
		if i > 0 {
			best = max(best, int(n))
		}
	}
	return best, nil
}

// fdRoom is how many streams one process can hold under the hard
// open-file limit, leaving room for the server's own files.
func fdRoom() int {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return 0
	}
	return int(min(l.Max, 1<<30)) - 1000
}

// kernelKiB reads the kernel's slab memory from /proc/meminfo: where
// the kernel keeps each connection's socket, its TCP state, its file and
// its epoll entry. Socket buffers hold only bytes not yet read, which on
// loopback between ticks is next to nothing.
func kernelKiB() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Slab:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}
