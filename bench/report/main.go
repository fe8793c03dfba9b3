package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"vitals/bench/internal/loadresult"
	"vitals/history"
	"vitals/internal/proctest"
	"vitals/metrics"
)

type opts struct {
	out      string
	full     bool
	micro    bool
	only     string
	fanout   []int
	shared   string
	port     int
	workDir  string
	binDir   string
	benchDur string
}

// httpClient makes every request the report sends to the servers it
// started: a server that hangs must not hang the report.
var httpClient = &http.Client{Timeout: 5 * time.Second}

func main() {
	var o opts
	var fan string
	flag.StringVar(&o.out, "out", "BENCHMARKS.md", "results file")
	flag.BoolVar(&o.full, "full", false, "run the full durations (fan-out 60 s, idle 5 min, churn 10 min)")
	flag.BoolVar(&o.micro, "micro", true, "run the Go micro-benchmarks")
	flag.StringVar(&o.only, "only", "", "comma-separated scenarios to run (fanout,catchup,storm,slow,idle,churn,redis; micro for the Go benchmarks); default all")
	flag.StringVar(&fan, "fanout", "1000,10000,50000", "fan-out stream counts")
	flag.StringVar(&o.shared, "note", "", "a note on the machine's state, written into the file")
	flag.IntVar(&o.port, "port", 18300, "first loopback port to use")
	flag.StringVar(&o.benchDur, "benchtime", "1s", "go test -benchtime for the micro-benchmarks")
	flag.Parse()
	for _, f := range strings.Split(fan, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			fatal(fmt.Errorf("-fanout: %v", err))
		}
		o.fanout = append(o.fanout, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "report:", err)
	os.Exit(1)
}

func (o opts) want(s string) bool {
	if o.only == "" {
		return true
	}
	for _, x := range strings.Split(o.only, ",") {
		if x == s {
			return true
		}
	}
	return false
}

// scale picks the short or the full duration.
func (o opts) scale(short, full time.Duration) time.Duration {
	if o.full {
		return full
	}
	return short
}

func run(ctx context.Context, o opts) error {
	// Children inherit the limit: 50,000 streams need 50,000 descriptors
	// in the server and as many in the load generator.
	var l syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
	if l.Max < 200_000 {
		l.Max = 200_000
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		logf("cannot raise the open-file limit (%v); big fan-outs will fail", err)
	}
	var err error
	o.workDir, err = os.MkdirTemp("", "vitals-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(o.workDir)
	o.binDir = filepath.Join(o.workDir, "bin")
	for name, pkg := range map[string]string{"vitals": ".", "ginbaseline": "./bench/ginbaseline", "loadgen": "./bench/loadgen", "floor": "./bench/floor"} {
		logf("building %s", name)
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(o.binDir, name), pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", name, err, out)
		}
	}

	rep := &report{started: time.Now(), o: o}
	rep.machine()
	if o.micro && o.want("micro") {
		rep.micro(ctx)
	}
	type scenario struct {
		name string
		fn   func(context.Context, *report) error
	}
	for _, s := range []scenario{
		{"fanout", fanOut}, {"catchup", catchUp}, {"storm", storm},
		{"slow", slowReaders}, {"idle", idle}, {"churn", churn}, {"redis", redisScaleOut},
	} {
		if !o.want(s.name) || ctx.Err() != nil {
			continue
		}
		logf("scenario %s", s.name)
		if err := s.fn(ctx, rep); err != nil {
			rep.section("Scenario "+s.name+": failed", "", "```\n"+err.Error()+"\n```\n")
			logf("scenario %s failed: %v", s.name, err)
		}
	}
	rep.finished = time.Now()
	return os.WriteFile(o.out, rep.render(), 0o644)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s report: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// server is one vitals or baseline process this run started.
type server struct {
	*proctest.Proc
	url     string
	pprof   string
	dataDir string
	args    []string
	bin     string
}

func (o *opts) nextPort() int {
	o.port++
	return o.port
}

// startVitals starts vitals on a fresh port (or addr) and waits for health.
func (rep *report) startVitals(ctx context.Context, dataDir, addr string, extra ...string) (*server, error) {
	if addr == "" {
		addr = fmt.Sprintf("127.0.0.1:%d", rep.o.nextPort())
	}
	pp := fmt.Sprintf("127.0.0.1:%d", rep.o.nextPort())
	args := append([]string{"--addr", addr, "--data-dir", dataDir, "--log-level", "error",
		"--pprof", pp, "--max-clients", "200000"}, extra...)
	s := &server{url: "http://" + addr, pprof: "http://" + pp, dataDir: dataDir, args: args, bin: filepath.Join(rep.o.binDir, "vitals")}
	return s, s.start(ctx, proctest.Healthy(s.url))
}

func (rep *report) startGin(ctx context.Context) (*server, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", rep.o.nextPort())
	s := &server{url: "http://" + addr, args: []string{"-addr", addr}, bin: filepath.Join(rep.o.binDir, "ginbaseline")}
	// No health route: wait for the port.
	if err := s.start(ctx, proctest.Listening(addr)); err != nil {
		return s, err
	}
	time.Sleep(1500 * time.Millisecond) // the sampler's first ticks
	return s, nil
}

func (s *server) start(ctx context.Context, ready func() error) error {
	var err error
	if s.Proc, err = proctest.Start(exec.Command(s.bin, s.args...)); err != nil {
		return err
	}
	if err := s.WaitReady(ctx, 30*time.Second, ready); err != nil {
		s.stop()
		return fmt.Errorf("%s did not start: %w", filepath.Base(s.bin), err)
	}
	return nil
}

// stop ends the process: SIGTERM, then SIGKILL after 15 s.
func (s *server) stop() { s.Stop(15 * time.Second) }

// loadgen runs the load generator and decodes its result.
func (rep *report) loadgen(ctx context.Context, label string, args ...string) (*loadresult.Result, error) {
	out := filepath.Join(rep.o.workDir, label+".json")
	full := append([]string{"-label", label, "-json", out}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(rep.o.binDir, "loadgen"), full...)
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	logf("  loadgen %s", strings.Join(full, " "))
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("loadgen %s: %v\n%s", label, err, errBuf.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var r loadresult.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// prefillHour writes one hour of 1 Hz ticks of real payloads (sampled once
// from this host, then restamped) into dir, with the broker's clock pinned
// to each tick, so a server started on dir has a full window at once.
func prefillHour(dir string) (int, error) {
	cs, err := metrics.NewCollectors(metrics.Options{})
	if err != nil {
		return 0, err
	}
	defer metrics.CloseCollectors(cs)
	payload := map[string][]byte{}
	for round := 0; round < 2; round++ { // rates need a second sample
		for _, c := range cs {
			if d, err := c.Collect(time.Now()); err == nil {
				payload[c.Topic()] = d
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	tRe := regexp.MustCompile(`"t":\d+`)
	end := time.Now().Truncate(time.Second)
	var now time.Time
	b, err := history.Open(history.Options{Dir: dir, Topics: metrics.Topics(), Retention: time.Hour, MaxBytes: 64 << 20,
		Now: func() time.Time { return now }})
	if err != nil {
		return 0, err
	}
	n := 0
	for i := 3599; i >= 0; i-- {
		now = end.Add(-time.Duration(i) * time.Second)
		var ss []history.Sample
		for _, topic := range metrics.Topics() {
			if d, ok := payload[topic]; ok {
				ss = append(ss, history.Sample{Topic: topic,
					Data: tRe.ReplaceAll(d, []byte(`"t":`+strconv.FormatInt(now.UnixMilli(), 10)))})
			}
		}
		if err := b.Publish(now, ss); err != nil {
			b.Close()
			return n, err
		}
		n += len(ss)
	}
	return n, b.Close()
}

// microLines runs the Go benchmarks and keeps their result lines.
func (rep *report) micro(ctx context.Context) {
	logf("micro-benchmarks")
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", ".", "-benchmem",
		"-benchtime", rep.o.benchDur, "-count", "1", "./history/", "./handlers/", "./metrics/")
	out, err := cmd.CombinedOutput()
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "Benchmark") || strings.HasPrefix(line, "pkg:") {
			rep.benchLines = append(rep.benchLines, line)
		}
	}
	if err != nil {
		rep.benchErr = fmt.Sprintf("%v\n%s", err, out)
	}
}
