package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"vitals/handlers"
	"vitals/history"
	"vitals/internal/buildinfo"
	"vitals/internal/telemetry"
	"vitals/metrics"
	"vitals/static"
)

// shutdownGrace bounds a graceful stop: streams are told to reconnect and
// closed at once, so this only covers slow ordinary requests.
const shutdownGrace = 4 * time.Second

// Run is the whole program: it returns when ctx is cancelled (after a clean
// shutdown) or when something fails to start. args are the command-line
// arguments without the program name; getenv reads VITALS_* and HOST_*
// variables; the startup line goes to stdout and logs to stderr. With -h it
// (or --version) it prints the usage (or the version) to stdout and
// returns [ErrHelp].
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	mopts := metrics.Options{Logger: log, HostProc: cfg.HostProc, HostSys: cfg.HostSys, HostEtc: cfg.HostEtc}

	tel := telemetry.New(log, buildinfo.Read())
	host, err := metrics.ReadHost(ctx, mopts)
	if err != nil {
		return fmt.Errorf("read host info: %w", err)
	}
	collectors, err := metrics.NewCollectors(mopts)
	if err != nil {
		return fmt.Errorf("start collectors: %w", err)
	}
	defer metrics.CloseCollectors(collectors) // after the sampler's Run has returned (wg.Wait below)
	tel.WatchCollectors(collectors)
	hostInfo := handlers.HostInfo{
		Hostname: host.Hostname, OS: host.OS, Platform: host.Platform, PlatformVersion: host.PlatformVersion,
		Kernel: host.Kernel, Arch: host.Arch, CPUs: host.CPUs, BootTime: host.BootTime,
	}
	if cfg.Name != "" {
		hostInfo.Hostname = cfg.Name
	}
	// One history backend: the embedded bbolt broker, or with --redis the
	// Redis publisher and hub (redis.go). Exactly one of the two is set.
	var (
		broker  *history.Broker
		rh      *redisHistory
		events  handlers.EventSource
		sources handlers.Sources
		publish func(time.Time, []history.Sample)
		stats   = func() history.Stats { return history.Stats{} }
	)
	if cfg.Redis != "" {
		rh, err = openRedisHistory(ctx, cfg, hostInfo, metrics.Topics(), log)
		if err != nil {
			return err
		}
		defer rh.Close()
		tel.WatchRedis(rh.pub.Stats, rh.hub.Following)
		sources, publish = rh, rh.Publish
	} else {
		if err := checkDataDir(cfg.DataDir); err != nil {
			return err
		}
		broker, err = history.Open(history.Options{
			Dir:               cfg.DataDir,
			Topics:            metrics.Topics(),
			Retention:         cfg.History,
			MaxBytes:          cfg.HistoryBytes,
			Logger:            log,
			ObserveStoreWrite: tel.ObserveStore,
		})
		if err != nil {
			return err
		}
		tel.WatchBroker(broker.Stats, broker.Latest)
		defer broker.Close()
		events, stats = broker, broker.Stats
		// Store errors are logged by the broker; the tick still went out
		// to viewers from memory.
		publish = func(t time.Time, s []history.Sample) { broker.Publish(t, s) }
	}

	sampler, err := metrics.NewSampler(metrics.SamplerConfig{
		Interval:   cfg.Interval,
		Collectors: collectors,
		Logger:     log,
		Observe:    tel.ObserveSample,
		Publish: func(t time.Time, readings []metrics.Reading) {
			samples := make([]history.Sample, len(readings))
			for i, r := range readings {
				samples[i] = history.Sample{Topic: r.Topic, Data: r.Data}
			}
			publish(t, samples)
		},
	})
	if err != nil {
		return err
	}

	started := time.Now()
	gin.SetMode(gin.ReleaseMode) // gin's only switch for its debug prints is global
	handler, err := handlers.New(handlers.Config{
		Events:    events,
		Sources:   sources,
		Host:      hostInfo,
		Instance:  newInstanceID(),
		Interval:  cfg.Interval,
		Retention: cfg.History,
		Retry:     cfg.Retry,
		Heartbeat: cfg.Heartbeat,
		Static:    static.FS(),
		Health:    healthCheck(cfg.Interval, started, sampler.LastTick, stats),
		Degraded:  degraded(rh),
		Logger:    log,
		Access: handlers.Access{
			Token: cfg.Token, ReadToken: cfg.ReadToken, MetricsPublic: cfg.MetricsPublic,
			CORSOrigins: cfg.CORSOrigins, LoopbackOnly: isLoopbackAddr(cfg.Addr), AllowedHosts: cfg.AllowedHosts,
		},
		Limits:   handlers.Limits{MaxClients: cfg.MaxClients},
		Metrics:  tel.Handler(),
		Observer: tel,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on --addr %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler: handler,
		// No ReadTimeout or WriteTimeout: they would cut long-lived
		// streams. Headers must arrive promptly; streams set a deadline
		// on every write themselves.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// Above the handlers' own 64 KiB limit, so oversized headers get
		// their JSON 431; past this net/http answers a plain 431 itself.
		MaxHeaderBytes: 1 << 20,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	fmt.Fprintf(stdout, "vitals serving on http://%s\n", ln.Addr())
	if w := plainHTTPWarning(cfg.Addr, cfg.Token); w != "" {
		log.Warn(w)
	}
	if broker != nil {
		log.Info("started", "addr", ln.Addr().String(), "data_dir", cfg.DataDir, "interval", cfg.Interval.String(),
			"history", cfg.History.String(), "epoch", broker.Epoch())
	} else {
		log.Info("started", "addr", ln.Addr().String(), "redis", redactURL(cfg.Redis, cfg.Redis), "name", hostInfo.Hostname,
			"interval", cfg.Interval.String(), "history", cfg.History.String())
	}

	if cfg.Pprof != "" {
		stopPprof, err := startPprof(cfg.Pprof, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopPprof()
	}

	var wg sync.WaitGroup
	samplerCtx, stopSampler := context.WithCancel(context.Background())
	defer stopSampler()
	wg.Go(func() { sampler.Run(samplerCtx) })
	serveErr := make(chan error, 1)
	wg.Go(func() { serveErr <- srv.Serve(ln) })

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
	}
	// Reverse order of start: sampler, broker (ends every stream with a
	// short retry), HTTP server, then the store (deferred Close).
	stopSampler()
	if broker != nil {
		broker.Shutdown()
	} else {
		rh.Shutdown()
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		srv.Close()
	}
	// Streams own their (hijacked) connections: wait for their goodbyes.
	if werr := handler.Wait(sctx); werr != nil {
		log.Warn("streams still open at shutdown deadline", "err", werr)
	}
	wg.Wait()
	var cerr error
	if broker != nil {
		cerr = broker.Close()
	} else {
		cerr = rh.Close()
	}
	if cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// healthCheck reports the sampler stalled when no tick completed for three
// intervals (after the same grace at start), and the store failing while
// its last write failed.
func healthCheck(interval time.Duration, started time.Time, lastTick func() time.Time, stats func() history.Stats) func() error {
	return func() error {
		last := lastTick()
		if last.IsZero() {
			last = started
		}
		if since := time.Since(last); since > 3*interval {
			return fmt.Errorf("sampler stalled: no sample for %v", since.Round(time.Millisecond))
		}
		if err := stats().LastStoreError; err != nil {
			return fmt.Errorf("history store failing: %v", err)
		}
		return nil
	}
}

func newInstanceID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
