package main

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"
)

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
