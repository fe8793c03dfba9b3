package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"vitals/internal/proctest"
	"vitals/internal/tlstest"
)

type mode struct {
	name      string
	h2        bool
	perTransp int // streams sharing one transport (and so one connection)
}

type result struct {
	held           int64
	missed         int64
	events         int64
	p50, p99, max  time.Duration
	cpu            float64
	rssKiB, perKiB float64
	conns          int
	holdSecs       float64
	expectedPerSec float64
}

func main() {
	n := flag.Int("n", 1000, "streams per mode")
	hold := flag.Duration("hold", 20*time.Second, "measuring window")
	bin := flag.String("bin", "bin/vitals", "the vitals binary")
	flag.Parse()
	modes := []mode{{"HTTP/1.1, a connection per stream", false, 1}, {"HTTP/2, a connection per stream", true, 1},
		{"HTTP/2, 100 streams per connection", true, 100}}
	fmt.Printf("| mode | streams held | TLS connections | missed ids | events/s (expected) | p50 / p99 / max ms | server CPU %% of a core | server RSS | RSS per stream |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, m := range modes {
		r, err := run(*bin, m, *n, *hold)
		if err != nil {
			fmt.Fprintf(os.Stderr, "h2fanout: %s: %v\n", m.name, err)
			os.Exit(1)
		}
		fmt.Printf("| %s | %d | %d | %d | %.0f (%.0f) | %.1f / %.1f / %.1f | %.1f | %.1f MiB | %.1f KiB |\n",
			m.name, r.held, r.conns, r.missed, float64(r.events)/r.holdSecs, r.expectedPerSec,
			ms(r.p50), ms(r.p99), ms(r.max), r.cpu, r.rssKiB/1024, r.perKiB)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func run(bin string, m mode, n int, hold time.Duration) (result, error) {
	var res result
	dir, err := os.MkdirTemp("", "h2fanout-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	pair, err := tlstest.Write(dir, "vitals")
	if err != nil {
		return res, err
	}
	addr, err := proctest.FreeAddr()
	if err != nil {
		return res, err
	}
	p, err := proctest.Start(exec.Command(bin, "--addr", addr, "--data-dir", filepath.Join(dir, "data"), "--interval", "1s",
		"--tls-cert", pair.CertFile, "--tls-key", pair.KeyFile, "--max-clients", strconv.Itoa(n+100), "--log-level", "warn"))
	if err != nil {
		return res, err
	}
	defer p.Stop(10 * time.Second)
	base := "https://" + addr
	newTransport := func() *http.Transport {
		t := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pair.CertPool()}, ForceAttemptHTTP2: m.h2}
		if !m.h2 {
			t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // HTTP/1.1 only
		}
		return t
	}
	if err := p.WaitReady(context.Background(), 30*time.Second,
		proctest.HealthyVia(&http.Client{Transport: newTransport()}, base)); err != nil {
		return res, err
	}
	before, err := proctest.ReadUsage(p.PID())
	if err != nil {
		return res, err
	}

	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg        sync.WaitGroup
		held      atomic.Int64
		recording atomic.Bool
		mu        sync.Mutex
		lat       []time.Duration // guarded by mu
		events    atomic.Int64
		missed    atomic.Int64
	)
	var transports []*http.Transport
	var client *http.Client
	for i := range n {
		if i%m.perTransp == 0 {
			t := newTransport()
			transports = append(transports, t)
			client = &http.Client{Transport: t}
		}
		c := client
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events", nil)
			resp, err := c.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			if m.h2 != (resp.ProtoMajor == 2) {
				fmt.Fprintf(os.Stderr, "h2fanout: %s: got %s\n", m.name, resp.Proto)
				return
			}
			held.Add(1)
			defer held.Add(-1)
			br := bufio.NewReaderSize(resp.Body, 8<<10)
			var lastSeq int64 = -1
			var mine []time.Duration
			defer func() {
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
			for {
				line, err := br.ReadSlice('\n')
				if err != nil {
					return
				}
				if id, ok := bytes.CutPrefix(line, []byte("id: ")); ok {
					_, seqText, _ := bytes.Cut(bytes.TrimSpace(id), []byte("."))
					seq, _ := strconv.ParseInt(string(seqText), 10, 64)
					if lastSeq >= 0 && seq != lastSeq+1 && recording.Load() {
						missed.Add(seq - lastSeq - 1)
					}
					lastSeq = seq
					continue
				}
				if data, ok := bytes.CutPrefix(line, []byte(`data: {"t":`)); ok && recording.Load() {
					end := bytes.IndexByte(data, ',')
					if t, err := strconv.ParseInt(string(data[:max(end, 0)]), 10, 64); err == nil {
						mine = append(mine, time.Since(time.UnixMilli(t)))
						events.Add(1)
					}
				}
			}
		})
	}
	start := time.Now()
	for held.Load() < int64(n) && time.Since(start) < time.Minute {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // settle: the connect burst's garbage collected, ticks flowing
	a, err := proctest.ReadUsage(p.PID())
	if err != nil {
		cancel()
		wg.Wait()
		return res, err
	}
	recording.Store(true)
	time.Sleep(hold)
	recording.Store(false)
	b, err := proctest.ReadUsage(p.PID())
	res.held = held.Load()
	cancel()
	wg.Wait()
	for _, t := range transports {
		t.CloseIdleConnections()
	}
	if err != nil {
		return res, err
	}
	res.conns = len(transports)
	res.holdSecs = b.At.Sub(a.At).Seconds()
	res.expectedPerSec = float64(res.held) * 5 // five topics at 1 Hz
	res.events, res.missed = events.Load(), missed.Load()
	res.cpu = proctest.CPUPercent(a, b)
	res.rssKiB = float64(b.RSSKiB)
	res.perKiB = float64(b.RSSKiB-before.RSSKiB) / float64(max(res.held, 1))
	slices.Sort(lat)
	if len(lat) > 0 {
		res.p50, res.p99, res.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return res, nil
}
