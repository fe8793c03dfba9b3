package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// It is 100 on every Linux architecture Go supports.
const clockTicks = 100

// procSample is one reading of a process from /proc.
type procSample struct {
	at       time.Time
	cpuTicks int64 // utime + stime
	rssKiB   int64
	threads  int64
}

func readProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the command name, which is in parentheses and may
	// itself hold spaces.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of stat
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	s.cpuTicks = ut + st
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		v = strings.TrimSuffix(strings.TrimSpace(v), " kB")
		switch k {
		case "VmRSS":
			s.rssKiB, _ = strconv.ParseInt(v, 10, 64)
		case "Threads":
			s.threads, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return s, nil
}

// cpuPercent is the CPU used between two samples in percent of one core.
func cpuPercent(a, b procSample) float64 {
	el := b.at.Sub(a.at).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(b.cpuTicks-a.cpuTicks) / clockTicks / el * 100
}

// pprofStats reads the goroutine count and heap in use from a server
// started with --pprof (base like http://127.0.0.1:6060).
func pprofStats(base string) (goroutines int64, heapInuse int64, err error) {
	get := func(path string) ([]byte, error) {
		c := http.Client{Timeout: 10 * time.Second}
		resp, err := c.Get(base + path)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, err = buf.ReadFrom(resp.Body)
		return buf.Bytes(), err
	}
	g, err := get("/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, 0, err
	}
	first, _, _ := bytes.Cut(g, []byte("\n"))
	if _, n, ok := strings.Cut(string(first), "total "); ok {
		goroutines, _ = strconv.ParseInt(strings.TrimSpace(n), 10, 64)
	}
	h, err := get("/debug/pprof/heap?debug=1")
	if err != nil {
		return goroutines, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(h))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# HeapInuse = "); ok {
			heapInuse, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return goroutines, heapInuse, nil
}
