package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "listen address")
	interval := flag.Duration("interval", time.Second, "tick interval")
	size := flag.Int("tick-bytes", 1500, "bytes written to each connection per tick (vitals' tick body for the same topics)")
	flag.Parse()
	if *size < 5*len(eventHead("network", 0)) {
		fmt.Fprintln(os.Stderr, "floor: -tick-bytes too small for five events")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *interval, *size); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

const head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"

var topics = []string{"cpu", "memory", "load", "disk", "network"}

func eventHead(topic string, t int64) string {
	return "event: " + topic + "\ndata: {\"t\":" + strconv.FormatInt(t, 10) + ",\"pad\":\""
}

// block is one tick: five events padded to size bytes in all.
func block(t int64, size int) []byte {
	b := make([]byte, 0, size)
	per := size / len(topics)
	for i, topic := range topics {
		n := per
		if i == len(topics)-1 {
			n = size - len(b)
		}
		start := len(b)
		b = append(b, eventHead(topic, t)...)
		for len(b)-start < n-len("\"}\n\n") {
			b = append(b, 'x')
		}
		b = append(b, "\"}\n\n"...)
	}
	return b
}

// writer owns a share of the connections and writes each tick to them.
type writer struct {
	mu    sync.Mutex // guards conns
	conns []net.Conn
	tick  chan []byte
}

func (w *writer) add(c net.Conn) {
	w.mu.Lock()
	w.conns = append(w.conns, c)
	w.mu.Unlock()
}

func (w *writer) run() {
	for b := range w.tick {
		w.mu.Lock()
		kept := w.conns[:0]
		for _, c := range w.conns {
			if _, err := c.Write(b); err != nil {
				c.Close()
				continue
			}
			kept = append(kept, c)
		}
		clear(w.conns[len(kept):])
		w.conns = kept
		w.mu.Unlock()
	}
	for _, c := range w.conns {
		c.Close()
	}
}

func run(ctx context.Context, addr string, interval time.Duration, size int) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ws := make([]*writer, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range ws {
		ws[i] = &writer{tick: make(chan []byte, 1)}
		wg.Go(ws[i].run)
	}
	var accepts sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			w := ws[i%len(ws)]
			accepts.Go(func() {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReaderSize(c, 1024)
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						c.Close()
						return
					}
					if len(bytes.TrimRight(line, "\r\n")) == 0 {
						break
					}
				}
				if _, err := c.Write([]byte(head)); err != nil {
					c.Close()
					return
				}
				w.add(c)
			})
		}
	})
	fmt.Printf("floor serving on http://%s\n", ln.Addr())
	for {
		next := time.Now().Truncate(interval).Add(interval)
		select {
		case <-ctx.Done():
			ln.Close()
			accepts.Wait()
			for _, w := range ws {
				close(w.tick)
			}
			wg.Wait()
			return nil
		case <-time.After(time.Until(next)):
		}
		b := block(next.UnixMilli(), size)
		for _, w := range ws {
			select {
			case w.tick <- b:
			default: // a writer still on the last tick skips this one
			}
		}
	}
}
