package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"vitals/internal/buildinfo"
)

// Config is every setting of a vitals process. main builds it from flags
// and VITALS_* environment variables; nothing else reads either.
type Config struct {
	Addr         string
	DataDir      string
	Interval     time.Duration
	History      time.Duration
	HistoryBytes int64
	Retry        time.Duration
	Heartbeat    time.Duration
	LogLevel     slog.Level
	// Roots of the host's /proc, /sys and /etc when vitals runs in a
	// container (from HOST_PROC, HOST_SYS, HOST_ETC, as gopsutil names them).
	HostProc, HostSys, HostEtc string
	Operations                        // tokens, CORS, limits, log format: config_ops.go
	Pprof                      string // loopback address for net/http/pprof; "" is off (pprof.go)
	ScaleOut                          // --redis, --name: config_redis.go
	Processes                         // --process-cmdline, --top-processes: config_processes.go
	Alerting                          // --alerts, --notify: config_alerts.go
	Tiers                             // --history-minutes, --history-hours: config_tiers.go
}

// minInterval keeps the sampler from eating the machine it watches: a full
// sample reads a dozen /proc files, and below 50 ms that becomes real load.
const minInterval = 50 * time.Millisecond

// ErrHelp is returned for -h/--help and --version once the usage or the
// version was printed: the caller exits with status 0.
var ErrHelp = errors.New("help requested")

// parseConfig reads flags from args and, for each flag not given, the
// environment variable VITALS_<NAME> (dashes become underscores). The flag
// wins over the variable. Errors are one line naming the flag.
func parseConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	c := Config{
		Addr:         "127.0.0.1:8080",
		DataDir:      "./data",
		Interval:     time.Second,
		History:      time.Hour,
		HistoryBytes: 64 << 20,
		Retry:        2 * time.Second,
		Heartbeat:    15 * time.Second,
		HostProc:     getenv("HOST_PROC"),
		HostSys:      getenv("HOST_SYS"),
		HostEtc:      getenv("HOST_ETC"),
	}
	fs := flag.NewFlagSet("vitals", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (host:port)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the history file")
	fs.Var((*duration)(&c.Interval), "interval", "time between samples: a `duration` of at least 50ms")
	fs.Var((*duration)(&c.History), "history", "how much history to keep: a `duration` of at least one interval")
	fs.Var((*byteSize)(&c.HistoryBytes), "history-bytes", "cap on the history's `size`")
	fs.Var((*millis)(&c.Retry), "retry", "reconnect delay sent to browsers: `milliseconds` or a duration")
	fs.Var((*duration)(&c.Heartbeat), "heartbeat", "keep-alive comment interval on idle streams (a `duration`)")
	fs.Var((*logLevel)(&c.LogLevel), "log-level", "`level` of the logs: debug, info (the default), warn or error")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.StringVar(&c.Pprof, "pprof", "", "serve net/http/pprof on this loopback address, e.g. 127.0.0.1:6060 (off by default)")
	c.Operations.addFlags(fs)
	c.ScaleOut.addFlags(fs)
	c.Processes.addFlags(fs)
	c.Alerting.addFlags(fs)
	c.Tiers.addFlags(fs)

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(usage, "Usage: vitals [flags]  (each flag also reads VITALS_<NAME>)")
			fmt.Fprintln(usage, "       vitals alerts check FILE | vitals alerts test URL  (docs/alerts.md)")
			fmt.Fprintln(usage, "       vitals history fill --years N --data-dir DIR  (docs/history.md)")
			fs.SetOutput(usage)
			fs.PrintDefaults()
			return c, ErrHelp
		}
		return c, flagError(fs, err)
	}
	if *showVersion {
		b := buildinfo.Read()
		fmt.Fprintf(usage, "vitals %s (%s)\n", b.Version, b.GoVersion)
		return c, ErrHelp
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		env := "VITALS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if given[f.Name] || envErr != nil {
			return
		}
		if v := getenv(env); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("invalid value %q for --%s (from %s): %v", v, f.Name, env, err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	c.Tiers.noteGiven(fs)
	if err := c.validate(); err != nil {
		return c, err
	}
	if err := c.ScaleOut.finish(c.Interval); err != nil {
		return c, err
	}
	if err := c.Processes.finish(); err != nil {
		return c, err
	}
	if err := c.Tiers.finish(); err != nil {
		return c, err
	}
	return c, c.Operations.finish(c.Addr)
}

func (c Config) validate() error {
	switch {
	case c.Addr == "":
		return errors.New("--addr must not be empty")
	case c.DataDir == "":
		return errors.New("--data-dir must not be empty")
	case c.Interval < minInterval:
		return fmt.Errorf("--interval %v is too short: at least %v", c.Interval, minInterval)
	case c.History < c.Interval:
		return fmt.Errorf("--history %v must be at least one --interval (%v)", c.History, c.Interval)
	case c.HistoryBytes < 64<<10:
		// Below this not even a minute of one host fits.
		return fmt.Errorf("--history-bytes %d is too small: at least 64KiB", c.HistoryBytes)
	case c.Retry <= 0:
		return fmt.Errorf("--retry %v must be positive", c.Retry)
	case c.Heartbeat < 100*time.Millisecond:
		return fmt.Errorf("--heartbeat %v is too short: at least 100ms", c.Heartbeat)
	}
	if err := checkPprofAddr(c.Pprof); err != nil {
		return err
	}
	return nil
}

// checkDataDir makes --data-dir if it is missing and proves it writable
// with a scratch file, so that a wrong directory stops the start with one
// line naming the flag, the path once, and what to do (the store's own
// errors name the file and say nothing of the flag).
func checkDataDir(dir string) error {
	fail := func(err error) error {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is named once, below
		}
		return fmt.Errorf("--data-dir %s is not a writable directory (%v): create it, fix its owner, or point --data-dir (VITALS_DATA_DIR) elsewhere", dir, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fail(err)
	}
	f, err := os.CreateTemp(dir, ".vitals-write-check-*")
	if err != nil {
		return fail(err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
