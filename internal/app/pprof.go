package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"
)

// --pprof serves net/http/pprof on a listener of its own, never on --addr:
// profiles expose internals (heap contents, goroutine stacks with request
// paths), so they stay off the address browsers and proxies reach, out of
// the token and CORS rules made for the public routes, and can't be turned
// on by a route added to the main router by mistake. The address must be
// loopback; reach it through an SSH tunnel from elsewhere.

// checkPprofAddr accepts "" (off) or a loopback host:port.
func checkPprofAddr(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--pprof %q: want a loopback host:port like 127.0.0.1:6060", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--pprof %q must be a loopback address: profiles expose the process's memory", addr)
	}
	return nil
}

// startPprof serves the profiling endpoints on addr until the returned stop
// is called; stop closes the listener and waits for the serving goroutine.
func startPprof(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on --pprof %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof server stopped", "addr", addr, "err", err)
		}
	})
	log.Info("pprof serving", "addr", ln.Addr().String())
	return func() {
		srv.Close() // a CPU profile in progress is cut: this is a debug port
		wg.Wait()
	}, nil
}
