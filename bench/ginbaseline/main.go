package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"vitals/metrics"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	interval := flag.Duration("interval", time.Second, "sampling interval")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *interval); err != nil {
		fmt.Fprintln(os.Stderr, "ginbaseline:", err)
		os.Exit(1)
	}
}

type event struct {
	topic string
	data  string
}

// hub is the shared broadcaster.
type hub struct {
	mu      sync.Mutex // guards clients
	clients map[chan []event]struct{}
}

func (h *hub) add() chan []event {
	// 16 ticks of slack, like a typical tutorial's buffered channel.
	ch := make(chan []event, 16)
	h.mu.Lock()
	h.clients[ch] = struct{}{}
	h.mu.Unlock()
	return ch
}

func (h *hub) remove(ch chan []event) {
	h.mu.Lock()
	delete(h.clients, ch)
	h.mu.Unlock()
}

func (h *hub) broadcast(evs []event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.clients {
		select {
		case ch <- evs:
		default: // client too slow: it misses this tick
		}
	}
}

func run(ctx context.Context, addr string, interval time.Duration) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cs, err := metrics.NewCollectors(metrics.Options{Logger: log})
	if err != nil {
		return err
	}
	defer metrics.CloseCollectors(cs)
	h := &hub{clients: map[chan []event]struct{}{}}
	sampler, err := metrics.NewSampler(metrics.SamplerOptions{
		Interval: interval, Collectors: cs, Logger: log,
		Publish: func(t time.Time, rs []metrics.Reading) {
			evs := make([]event, len(rs))
			for i, r := range rs {
				evs[i] = event{topic: r.Topic, data: string(r.Data)}
			}
			h.broadcast(evs)
		},
	})
	if err != nil {
		return err
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/events", func(c *gin.Context) {
		c.Header("Content-Type", "text/event-stream")
		c.Header("Cache-Control", "no-cache")
		ch := h.add()
		defer h.remove(ch)
		// Send the response head now, not with the first tick: a client
		// (and the load generator's dial slots) waits for it.
		c.Writer.Flush()
		for {
			select {
			case <-c.Request.Context().Done():
				return
			case evs := <-ch:
				for _, e := range evs {
					c.SSEvent(e.topic, e.data)
					c.Writer.Flush()
				}
			}
		}
	})

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	sctx, stopSampler := context.WithCancel(context.Background())
	wg.Go(func() { sampler.Run(sctx) })
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve", "err", err)
		}
	})
	fmt.Printf("ginbaseline serving on http://%s\n", ln.Addr())
	<-ctx.Done()
	stopSampler()
	sd, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if srv.Shutdown(sd) != nil {
		srv.Close() // streams never end by themselves
	}
	wg.Wait()
	return nil
}
