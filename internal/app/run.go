package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"vitals/alerts"
	"vitals/handlers"
	"vitals/history"
	"vitals/history/tier"
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
//
// "vitals alerts check FILE" and "vitals alerts test URL" are subcommands
// (alertscmd.go), and so is "vitals history fill" (historycmd.go).
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "alerts" {
		return runAlertsCommand(ctx, args[1:], getenv, stdout)
	}
	if len(args) > 0 && args[0] == "history" {
		return runHistoryCommand(args[1:], getenv, stdout)
	}
	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	var cert *certificate
	if cfg.TLSCert != "" {
		// Before anything starts: a bad pair stops start-up with one line.
		if cert, err = loadCertificate(cfg.TLSCert, cfg.TLSKey); err != nil {
			return err
		}
	}
	mopts := metrics.Options{Logger: log, HostProc: cfg.HostProc, HostSys: cfg.HostSys, HostEtc: cfg.HostEtc}

	build := buildinfo.Read()
	tel := telemetry.New(log, build)
	host, err := metrics.ReadHost(ctx, mopts)
	if err != nil {
		return fmt.Errorf("read host info: %w", err)
	}
	collectors, err := metrics.NewCollectors(mopts)
	if err != nil {
		return fmt.Errorf("start collectors: %w", err)
	}
	defer func() { metrics.CloseCollectors(collectors) }() // after the sampler's Run has returned (wg.Wait below)
	tel.WatchCollectors(collectors)
	// What this host can't provide (no GPU, no cgroups) is left out, and
	// so absent from hello, the history and the valid topics.
	whatsUsing, err := metrics.NewWhatsUsing(mopts, metrics.WhatsUsingOptions{
		TopProcesses: cfg.Processes.TopN, ProcessCmdline: cfg.Processes.Cmdline})
	if err != nil {
		return fmt.Errorf("start collectors: %w", err)
	}
	collectors = append(collectors, whatsUsing...)
	topics := metrics.TopicsOf(collectors)
	if cfg.Name != "" {
		host.Hostname = cfg.Name
	}
	host.Interval, host.Retention = cfg.Interval, cfg.History
	// The rules file is checked before anything is opened: a bad one stops
	// start-up with its one "file:line: what" line.
	if cfg.AlertsFile != "" {
		if err := alerts.CheckFile(cfg.AlertsFile, alerts.MetricsSchema()); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) { // unreadable, not wrong: name the flag
				return fmt.Errorf("--alerts: %w", err)
			}
			return err
		}
	}
	tel.WatchHost(host)
	events, startAttrs, err := openBackend(ctx, cfg, host, topics, tel, log)
	if err != nil {
		return err
	}
	defer events.Close()
	alerter, closeAlerts, err := newAlerting(cfg, host.Hostname, outboxDB(events), events.Failing, getenv, log.With("part", "alerts"))
	if err != nil {
		return err
	}
	// Stops the dispatcher before the history file it may share closes
	// (deferred calls run in reverse); also called in order below.
	defer closeAlerts()
	var resumed time.Time // the previous run's newest tick, for the restart mark
	if own, _, err := events.Source(ctx, ""); err != nil {
		log.Warn("alert state not restored from the history", "err", err)
	} else {
		resumed = newestTick(own)
		if err := alerter.replay(own, time.Now()); err != nil {
			log.Warn("alert state not restored from the history", "err", err)
		}
	}

	sampler, err := metrics.NewSampler(metrics.SamplerOptions{
		Interval:   cfg.Interval,
		Collectors: collectors,
		Logger:     log,
		Observe:    tel.ObserveSample,
		Resumed:    resumed,
		Publish: func(t time.Time, readings []metrics.Reading) {
			samples := make([]history.Sample, len(readings), len(readings)+1)
			for i, r := range readings {
				samples[i] = history.Sample{Topic: r.Topic, Data: r.Data}
			}
			// The sampler is ticking now, so its age is zero here; the
			// watchdog reports it when it stops.
			alertSamples, transitions := alerter.tick(t, readings, 0)
			events.Publish(t, append(samples, alertSamples...))
			alerter.published(transitions)
		},
	})
	if err != nil {
		return err
	}
	tel.WatchSampler(sampler.SkippedTicks, sampler.ClockSteps)

	instance := newInstanceID()
	stopOffline := watchFleetOffline(events, instance, alerter, log)
	defer stopOffline()

	minuteKeep, hourKeep := cfg.Tiers.retention(cfg.Redis != "")
	started := time.Now()
	gin.SetMode(gin.ReleaseMode) // gin's only switch for its debug prints is global
	handler, err := handlers.New(handlers.Options{
		Sources:   events,
		Host:      host,
		Instance:  instance,
		Version:   build.Version,
		Interval:  cfg.Interval,
		Retention: cfg.History,
		Retry:     cfg.Retry,
		Heartbeat: cfg.Heartbeat,
		Static:    static.FS(),
		Health:    healthCheck(cfg.Interval, started, sampler.LastTick, events.Failing),
		Degraded:  events.Degraded,
		Logger:    log,
		Access: handlers.Access{
			Token: cfg.Token, ReadToken: cfg.ReadToken, MetricsPublic: cfg.MetricsPublic,
			CORSOrigins: cfg.CORSOrigins, LoopbackOnly: isLoopbackAddr(cfg.Addr), AllowedHosts: cfg.AllowedHosts,
		},
		Limits:          handlers.Limits{MaxClients: cfg.MaxClients},
		Alerts:          alerter,
		Metrics:         tel.Handler(),
		Observer:        tel,
		Tiers:           rangeTiers(events),
		OptIn:           []string{tier.Topic},
		MinuteRetention: minuteKeep,
		HourRetention:   hourKeep,
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
	scheme := "http"
	if cert != nil {
		srv.TLSConfig = cert.tlsConfig()
		scheme = "https"
	}
	fmt.Fprintf(stdout, "vitals serving on %s://%s\n", scheme, ln.Addr())
	if w := plainHTTPWarning(cfg.Addr, cfg.Token, cert != nil); w != "" {
		log.Warn(w)
	}
	log.Info("started", append([]any{"addr", ln.Addr().String()}, startAttrs...)...)

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
	wg.Go(func() { watchSampler(samplerCtx, cfg.Interval, sampler.LastTick, started, alerter, events) })
	// SIGHUP reloads what can be reloaded: each part that can adds itself
	// to reloaders before this point, and one goroutine fans the signal out.
	reloaders := []func(){alerter.reload}
	if cert != nil {
		reloaders = append(reloaders, func() { cert.reloadLogged(log) })
	}
	stopHUP := onHangup(log, reloaders)
	defer stopHUP()
	serveErr := make(chan error, 1)
	if cert != nil {
		wg.Go(func() { serveErr <- srv.ServeTLS(ln, "", "") })
	} else {
		wg.Go(func() { serveErr <- srv.Serve(ln) })
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
	}
	// Reverse order of start: sampler, backend (ends every stream with a
	// short retry), HTTP server, then the backend's storage.
	stopSampler()
	events.Shutdown()
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
	stopHUP()
	stopOffline() // uses the Redis backend's client: before it closes
	closeAlerts() // the outbox may live in the history file: before it closes
	if cerr := events.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// healthCheck reports the sampler stalled when no tick completed for three
// intervals (after the same grace at start), and the store failing while
// failing (the backend's Failing) says so.
func healthCheck(interval time.Duration, started time.Time, lastTick func() time.Time, failing func() error) func() error {
	return func() error {
		last := lastTick()
		if last.IsZero() {
			last = started
		}
		if since := time.Since(last); since > 3*interval {
			return fmt.Errorf("sampler stalled: no sample for %v", since.Round(time.Millisecond))
		}
		if err := failing(); err != nil {
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

// newestTick is the stamp of the newest event src holds, zero when it holds
// none: where the previous run of this server stopped sampling.
func newestTick(src history.Source) time.Time {
	var newest int64
	for _, e := range src.Latest() {
		newest = max(newest, e.T)
	}
	if newest == 0 {
		return time.Time{}
	}
	return time.UnixMilli(newest)
}
