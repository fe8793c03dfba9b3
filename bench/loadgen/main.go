package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"vitals/bench/internal/loadresult"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	res, err := run(ctx, cfg, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	out, _ := json.MarshalIndent(res, "", "  ")
	if cfg.JSON != "" {
		if err := os.WriteFile(cfg.JSON, out, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
	} else {
		os.Stdout.Write(append(out, '\n'))
	}
}

// Config is one run. Every flag has a bound: the run ends by itself.
type Config struct {
	URL       string
	URLs      string // comma-separated base URLs; streams go round-robin over them (overrides URL)
	Hosts     string // comma-separated ?host= values, cycled over each URL's streams ("": none)
	Streams   int
	RampRate  int           // new streams per second
	Hold      time.Duration // measurement window after the ramp
	Grace     time.Duration // after the window, for the last tick to arrive
	Topics    string        // "|"-separated topic queries, cycled over streams; "all" is every topic
	Resume    string        // "": live only; "oldest": resume from the oldest retained id; or an id
	Reconnect bool          // reconnect with Last-Event-ID after the server closes, as EventSource does
	Churn     bool          // close each connection after ChurnMin..ChurnMax and reconnect
	ChurnMin  time.Duration
	ChurnMax  time.Duration
	Slow      int           // extra streams that stop reading halfway through the window
	SlowDrain time.Duration // how long a released slow stream reads to learn whether it was dropped
	Truth     string        // "history" (compare ids with /api/history), "ticks" (sample times only)
	Interval  time.Duration // the server's sampling interval, for the ticks check
	Names     string        // topic names, for the ticks check
	PID       int           // server process, for RSS and CPU
	PIDs      string        // comma-separated processes read like PID, reported in order as "servers"
	Pprof     string        // server's --pprof base URL, for goroutines and heap
	Settle    time.Duration // after closing every stream, before the final server reading
	PerSource int           // streams per loopback source address
	MaxTime   time.Duration // hard cap on the whole run
	JSON      string        // write the result here instead of stdout
	Label     string

	resumeID string
	host     string
	urls     []string // base URLs, URL alone unless -urls
	addrs    []string // their host:port
	hosts    []string // ?host= values; nil: none
	pids     []int
}

func parseFlags(args []string) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	fs.StringVar(&c.URLs, "urls", "", "comma-separated server base URLs (loopback only): streams go round-robin over them; overrides -url")
	fs.StringVar(&c.Hosts, "hosts", "", "comma-separated ?host= values (Redis mode), cycled over each URL's streams; every check reads /api/history?host= from the URL the stream used")
	fs.IntVar(&c.Streams, "streams", 1000, "number of /events streams")
	fs.IntVar(&c.RampRate, "ramp", 2000, "new streams per second while ramping up")
	fs.DurationVar(&c.Hold, "hold", 60*time.Second, "measurement window after the ramp")
	fs.DurationVar(&c.Grace, "grace", 3*time.Second, "wait after the window for the last tick to arrive")
	fs.StringVar(&c.Topics, "topics", "all|all|all|cpu,memory", `"|"-separated topic filters cycled over streams ("all": every topic)`)
	fs.StringVar(&c.Resume, "resume", "", `resume every stream from this id on first connect ("oldest": the oldest retained)`)
	fs.BoolVar(&c.Reconnect, "reconnect", false, "reconnect with Last-Event-ID when the server closes a stream")
	fs.BoolVar(&c.Churn, "churn", false, "close each stream after -churn-min..-churn-max and reconnect with its last id")
	fs.DurationVar(&c.ChurnMin, "churn-min", time.Second, "shortest stream life with -churn")
	fs.DurationVar(&c.ChurnMax, "churn-max", 10*time.Second, "longest stream life with -churn")
	fs.IntVar(&c.Slow, "slow", 0, "extra streams that stop reading halfway through the window")
	fs.DurationVar(&c.SlowDrain, "slow-drain", 3*time.Second, "how long released slow streams read to see if they were dropped")
	fs.StringVar(&c.Truth, "truth", "history", `"history": compare ids with GET /api/history; "ticks": check sample times only`)
	fs.DurationVar(&c.Interval, "interval", time.Second, "server sampling interval (for -truth ticks)")
	fs.StringVar(&c.Names, "names", "cpu,memory,load,disk,network", "topic names (for -truth ticks)")
	fs.IntVar(&c.PID, "pid", 0, "server pid: report its RSS and CPU from /proc")
	fs.StringVar(&c.PIDs, "pids", "", "comma-separated pids read like -pid, reported in order as \"servers\" (the first len(-urls) are the servers of -urls, in order)")
	fs.StringVar(&c.Pprof, "pprof", "", "server pprof base URL (its --pprof; loopback only), for goroutines and heap")
	fs.DurationVar(&c.Settle, "settle", 0, "after closing every stream, wait this long and read the server again")
	fs.IntVar(&c.PerSource, "per-source", 20000, "streams per loopback source address (127.0.0.1, then .2, .3, ...)")
	fs.DurationVar(&c.MaxTime, "max-time", 20*time.Minute, "hard cap on the whole run")
	fs.StringVar(&c.JSON, "json", "", "write the JSON result to this file (default stdout)")
	fs.StringVar(&c.Label, "label", "", "name of the run, copied into the result")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.check()
}

func (c *Config) check() error {
	c.urls, c.addrs, c.hosts, c.pids = nil, nil, nil, nil
	c.urls = []string{c.URL}
	if c.URLs != "" {
		c.urls = strings.Split(c.URLs, ",")
		c.URL = c.urls[0]
	}
	urlFlag := "-url"
	if c.URLs != "" {
		urlFlag = "-urls"
	}
	for _, raw := range c.urls {
		u, err := loopbackURL(urlFlag, raw)
		if err != nil {
			return err
		}
		c.addrs = append(c.addrs, u.Host)
	}
	if c.Pprof != "" {
		if _, err := loopbackURL("-pprof", c.Pprof); err != nil {
			return err
		}
	}
	c.host = c.addrs[0]
	if c.Hosts != "" {
		for _, h := range strings.Split(c.Hosts, ",") {
			if h == "" || url.QueryEscape(h) != h {
				return fmt.Errorf("-hosts: %q is not a host name", h)
			}
			c.hosts = append(c.hosts, h)
		}
	}
	if c.PIDs != "" {
		for _, f := range strings.Split(c.PIDs, ",") {
			pid, err := strconv.Atoi(f)
			if err != nil || pid < 1 {
				return fmt.Errorf("-pids: %q is not a pid", f)
			}
			c.pids = append(c.pids, pid)
		}
	}
	switch {
	case c.Resume == "oldest" && (len(c.urls) > 1 || len(c.hosts) > 1):
		return errors.New("-resume oldest needs a single URL and at most one host")
	case c.Streams < 1 || c.Streams > 200_000:
		return errors.New("-streams: 1 to 200,000")
	case c.Slow < 0 || c.Slow > 100_000:
		return errors.New("-slow: 0 to 100,000")
	case c.RampRate < 1:
		return errors.New("-ramp must be positive")
	case c.Hold <= 0 || c.Hold > time.Hour:
		return errors.New("-hold: up to 1h")
	case c.PerSource < 1 || c.PerSource > 28_000:
		return errors.New("-per-source: 1 to 28,000")
	case c.Churn && c.ChurnMax < c.ChurnMin:
		return errors.New("-churn-max must be at least -churn-min")
	case c.Truth != "history" && c.Truth != "ticks":
		return errors.New(`-truth: "history" or "ticks"`)
	case len(strings.Split(c.Names, ",")) > maxTopics:
		return fmt.Errorf("-names: at most %d", maxTopics)
	}
	return nil
}

// loopbackURL parses an http URL the run will contact and refuses any
// host but a loopback address or localhost.
func loopbackURL(flagName, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		return nil, fmt.Errorf("%s %q: want http://127.x.x.x:port", flagName, raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		return nil, fmt.Errorf("%s %q: loopback only", flagName, raw)
	}
	return u, nil
}

// runner is one run's shared state.
type runner struct {
	cfg    Config
	host   string
	epochs epochs
	names  [][]byte

	dialSem     chan struct{} // bounds connects in flight during the ramp
	slowRelease chan struct{} // closed to let slow streams read again

	held      atomic.Int64
	heldBy    []atomic.Int64 // per URL
	failed    atomic.Int64
	live      atomic.Int64
	replayed  atomic.Int64
	badIDs    atomic.Int64
	measuring atomic.Bool
	phase     atomic.Int32
	hists     [2]hist

	mu        sync.Mutex // guards following fields
	catchups  []time.Duration
	lastCU    time.Time
	firstDrop time.Time // the server first closed a stream (with -reconnect)
	errs      errLog
}

type errLog struct {
	mu   sync.Mutex // guards following fields
	seen map[string]int
}

func (e *errLog) note(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.seen == nil {
		e.seen = map[string]int{}
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg, "127.") {
		msg = msg[i+2:] // drop addresses so alike errors group
	}
	e.seen[msg]++
}

func (r *runner) phaseHist() *hist { return &r.hists[r.phase.Load()] }

func (r *runner) topicIndex(ev []byte) int {
	for i, n := range r.names {
		if string(n) == string(ev) {
			return i
		}
	}
	return -1
}

func (r *runner) noteDrop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.firstDrop.IsZero() {
		r.firstDrop = time.Now()
	}
}

func (r *runner) noteCatchup(s *stream, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.catchups = append(r.catchups, d)
	r.lastCU = time.Now()
}

// run performs one load run and returns its figures.
func run(ctx context.Context, cfg Config, log io.Writer) (*loadresult.Result, error) {
	ctx, cancelAll := context.WithTimeout(ctx, cfg.MaxTime)
	defer cancelAll()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := raiseNoFile(uint64(cfg.Streams+cfg.Slow) + 1024); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, host: cfg.host, dialSem: make(chan struct{}, 256), slowRelease: make(chan struct{}),
		heldBy: make([]atomic.Int64, len(cfg.urls))}
	for _, n := range strings.Split(cfg.Names, ",") {
		r.names = append(r.names, []byte(n))
	}
	if cfg.Resume == "oldest" {
		h, err := fetchHead(cfg.URL, r.hostOf(0))
		if err != nil {
			return nil, err
		}
		r.cfg.resumeID = h.Oldest
	} else {
		r.cfg.resumeID = cfg.Resume
	}
	res := &loadresult.Result{Label: cfg.Label, Streams: cfg.Streams, Slow: cfg.Slow}

	mon := newMonitor(cfg.PID, cfg.Pprof)
	mon.base()
	self := newMonitor(os.Getpid(), "")
	self.base()
	others := make([]*monitor, len(cfg.pids))
	for i, pid := range cfg.pids {
		others[i] = newMonitor(pid, "")
		others[i].base()
	}

	filters := strings.Split(cfg.Topics, "|")
	streams := make([]*stream, cfg.Streams+cfg.Slow)
	for i := range streams {
		q := filters[i%len(filters)]
		if q == "all" {
			q = ""
		}
		streams[i] = &stream{r: r, n: i, query: q, slow: i >= cfg.Streams, u: r.urlOf(i), hostQ: r.hostOf(i),
			rng: rand.New(rand.NewPCG(uint64(i), 42)), keys: make([]uint64, 0, 64)}
	}

	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	var wg, ramp sync.WaitGroup
	start := func(s *stream) {
		ramp.Add(1)
		wg.Go(func() { s.run(streamCtx, sync.OnceFunc(ramp.Done)) })
	}
	rampStart := time.Now()
	pace := time.Second / time.Duration(cfg.RampRate)
	for i, s := range streams[:cfg.Streams] {
		if ctx.Err() != nil {
			break // the streams not started hold nothing
		}
		start(s)
		sleepCtx(ctx, time.Until(rampStart.Add(time.Duration(i+1)*pace)))
	}
	ramp.Wait()
	res.RampMS = durMS(time.Since(rampStart))
	fmt.Fprintf(log, "%s: ramp %d streams in %.1fs (%d failed)\n", cfg.Label, cfg.Streams, res.RampMS/1000, r.failed.Load())

	// The measurement window.
	mon.begin()
	self.begin()
	for _, m := range others {
		m.begin()
	}
	live0 := r.live.Load()
	r.measuring.Store(true)
	winStart := time.Now()
	slowAt := winStart.Add(cfg.Hold / 2)
	sampler := time.NewTicker(time.Second)
	for end := winStart.Add(cfg.Hold); time.Now().Before(end) && ctx.Err() == nil; {
		select {
		case <-ctx.Done():
		case <-sampler.C:
		}
		mon.sample()
		self.sample()
		for _, m := range others {
			m.sample()
		}
		if cfg.Slow > 0 && r.phase.Load() == 0 && time.Now().After(slowAt) {
			r.phase.Store(1)
			for _, s := range streams[cfg.Streams:] {
				start(s)
			}
		}
	}
	sampler.Stop()
	r.measuring.Store(false)
	window := time.Since(winStart)
	res.HoldMS = durMS(window)
	res.LiveEvents = r.live.Load() - live0
	res.EventsPerSec = float64(res.LiveEvents) / window.Seconds()
	res.Held = r.held.Load()
	srv := mon.end(res.Held - int64(cfg.Slow))
	res.Loadgen = *self.end(res.Held)
	for i, m := range others {
		var held int64
		if i < len(r.heldBy) {
			held = r.heldBy[i].Load()
		}
		p := m.end(held)
		if p == nil {
			r.errs.note(fmt.Errorf("read /proc of pid %d at the end of the window", m.pid))
			p = &loadresult.ProcReport{}
		}
		p.PID, p.Held = m.pid, held
		res.Servers = append(res.Servers, p)
	}

	heads := map[logKey]headInfo{}
	if cfg.Truth == "history" {
		for _, k := range r.logKeys(streams) {
			h, err := fetchHead(cfg.urls[k.u], k.host)
			if err != nil {
				r.errs.note(fmt.Errorf("read head at the end: %w", err))
			}
			heads[k] = h
		}
	}
	sleepCtx(ctx, cfg.Grace)
	if cfg.Slow > 0 {
		close(r.slowRelease)
		sleepCtx(ctx, cfg.SlowDrain+500*time.Millisecond)
	}
	stopStreams()
	wg.Wait()
	sleepCtx(ctx, cfg.Settle)
	mon.after(srv)
	res.Server = srv

	res.Latency = r.hists[0].summary()
	if cfg.Slow > 0 {
		l := r.hists[1].summary()
		res.LatencySlow = &l
	}
	res.Replayed = r.replayed.Load()
	r.mu.Lock()
	if n := len(r.catchups); n > 0 {
		slices.Sort(r.catchups)
		res.Catchups = n
		res.CatchupP50MS = durMS(r.catchups[n/2])
		res.CatchupMaxMS = durMS(r.catchups[n-1])
	}
	r.mu.Unlock()
	if !r.firstDrop.IsZero() && r.lastCU.After(r.firstDrop) {
		res.AllCaughtUpMS = durMS(r.lastCU.Sub(r.firstDrop))
	}
	for _, s := range streams {
		if s.connects > 1 {
			res.Reconnects += s.connects - 1
		}
		if s.cuStart != "" {
			res.Incomplete++
		}
		if s.slowDrop {
			res.SlowDropped++
		}
	}
	res.Check = r.check(ctx, streams, heads)
	res.Check.BadIDs = r.badIDs.Load()
	res.ExpectedPerSec = expectedRate(streams[:cfg.Streams], len(r.names), cfg.Interval)
	r.errs.mu.Lock()
	for msg, n := range r.errs.seen {
		res.Errors = append(res.Errors, fmt.Sprintf("%d× %s", n, msg))
	}
	r.errs.mu.Unlock()
	slices.Sort(res.Errors)
	return res, nil
}

// sleepCtx waits for d or until ctx ends, whichever is first.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// urlOf is the URL index stream n uses: round-robin.
func (r *runner) urlOf(n int) int { return n % len(r.cfg.urls) }

// hostOf is the ?host= of stream n: cycled over each URL's own streams,
// so every URL serves every host (with 2 URLs and 10 hosts, stream n goes
// to URL n%2 and host (n/2)%10).
func (r *runner) hostOf(n int) string {
	if len(r.cfg.hosts) == 0 {
		return ""
	}
	return r.cfg.hosts[(n/len(r.cfg.urls))%len(r.cfg.hosts)]
}

// hostParam is "&host=h" (sep "&") or "?host=h" (sep "?"); "" without a host.
func hostParam(sep, host string) string {
	if host == "" {
		return ""
	}
	return sep + "host=" + url.QueryEscape(host)
}

// logKey names one server log: a URL (by index) and a host.
type logKey struct {
	u    int
	host string
}

// logKeys lists the logs the streams were served from, in a stable order.
func (r *runner) logKeys(streams []*stream) []logKey {
	seen := map[logKey]bool{}
	var out []logKey
	for _, s := range streams {
		k := logKey{s.u, s.hostQ}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b logKey) int {
		if a.u != b.u {
			return a.u - b.u
		}
		return strings.Compare(a.host, b.host)
	})
	return out
}

// expectedRate is how many live events per second the streams are owed.
func expectedRate(streams []*stream, topics int, interval time.Duration) float64 {
	total := 0
	for _, s := range streams {
		if s.query == "" {
			total += topics
		} else {
			total += len(strings.Split(s.query, ","))
		}
	}
	return float64(total) / interval.Seconds()
}

type headInfo struct {
	Head   string `json:"head"`
	Oldest string `json:"oldest"`
}

func fetchHead(base, host string) (headInfo, error) {
	var h headInfo
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(base + "/api/history?limit=1" + hostParam("&", host))
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("GET /api/history: %s", resp.Status)
	}
	return h, json.NewDecoder(resp.Body).Decode(&h)
}

func raiseNoFile(want uint64) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	if l.Cur >= want {
		return nil
	}
	l.Cur = want
	if l.Max < want {
		l.Max = want // needs CAP_SYS_RESOURCE; the error below says so
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Errorf("raise open-file limit to %d: %w (run as root or raise ulimit -Hn)", want, err)
	}
	return nil
}
