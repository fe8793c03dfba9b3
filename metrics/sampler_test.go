package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeCollector is a Collector whose behaviour is a function field.
type fakeCollector struct {
	TopicFn   func() string
	CollectFn func(t time.Time) ([]byte, error)
}

func (f *fakeCollector) Topic() string                       { return f.TopicFn() }
func (f *fakeCollector) Collect(t time.Time) ([]byte, error) { return f.CollectFn(t) }

// okCollector returns {"t":...} and records the clock at each call.
func okCollector(topic string, work time.Duration, calls *[]time.Time) *fakeCollector {
	return &fakeCollector{
		TopicFn: func() string { return topic },
		CollectFn: func(t time.Time) ([]byte, error) {
			if calls != nil {
				*calls = append(*calls, time.Now())
			}
			time.Sleep(work) // inside a synctest bubble this advances the fake clock
			return fmt.Appendf(nil, `{"t":%d}`, t.UnixMilli()), nil
		},
	}
}

// publishLog records Publish calls; it is read after Run has returned.
type publishLog struct {
	mu    sync.Mutex
	ticks []time.Time
	reads [][]Reading
}

func (p *publishLog) publish(t time.Time, r []Reading) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ticks = append(p.ticks, t)
	p.reads = append(p.reads, r)
}

func (p *publishLog) snapshot() ([]time.Time, [][]Reading) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.ticks...), append([][]Reading(nil), p.reads...)
}

// runSampler starts s.Run in a goroutine and returns a func that cancels it
// and waits for Run to return nil.
func runSampler(t *testing.T, s *Sampler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	}
}

func TestSamplerAlignsToWallClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = time.Second
		// Start off the grid so alignment has work to do.
		time.Sleep(1300 * time.Millisecond)

		var calls []time.Time
		var pub publishLog
		s, err := NewSampler(SamplerOptions{
			Interval:   interval,
			Collectors: []Collector{okCollector("a", 0, &calls)},
			Publish:    pub.publish,
		})
		if err != nil {
			t.Fatal(err)
		}
		stop := runSampler(t, s)
		time.Sleep(3*interval + interval/2)
		stop()

		ticks, _ := pub.snapshot()
		if len(ticks) != 3 {
			t.Fatalf("got %d ticks, want 3: %v", len(ticks), ticks)
		}
		for i, tick := range ticks {
			if !tick.Equal(tick.Truncate(interval)) {
				t.Errorf("tick %d at %v is not on a multiple of %v", i, tick, interval)
			}
			if !calls[i].Equal(tick) {
				t.Errorf("tick %d: collected at %v, want at the scheduled %v", i, calls[i], tick)
			}
		}
		if first, want := ticks[0], time.Now().Add(-3*interval-interval/2).Truncate(interval).Add(interval); !first.Equal(want) {
			t.Errorf("first tick %v, want the next whole second %v", first, want)
		}
	})
}

func TestSamplerDoesNotDrift(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			interval = 250 * time.Millisecond
			n        = 1000
		)
		var calls []time.Time
		var pub publishLog
		// Each sample takes 30 ms of (fake) time; scheduling from "now"
		// after the work would drift by 30 ms a tick.
		s, err := NewSampler(SamplerOptions{
			Interval:   interval,
			Collectors: []Collector{okCollector("a", 30*time.Millisecond, &calls)},
			Publish:    pub.publish,
		})
		if err != nil {
			t.Fatal(err)
		}
		stop := runSampler(t, s)
		time.Sleep(n*interval + interval/2)
		stop()

		ticks, _ := pub.snapshot()
		if len(ticks) != n {
			t.Fatalf("got %d ticks, want %d", len(ticks), n)
		}
		for i := 1; i < len(ticks); i++ {
			if d := ticks[i].Sub(ticks[i-1]); d != interval {
				t.Fatalf("ticks %d and %d are %v apart, want %v", i-1, i, d, interval)
			}
			if !calls[i].Equal(ticks[i]) {
				t.Fatalf("tick %d collected at %v, want %v", i, calls[i], ticks[i])
			}
		}
		if got := s.LastTick(); !got.Equal(ticks[n-1]) {
			t.Errorf("LastTick = %v, want %v", got, ticks[n-1])
		}
	})
}

// stallingCollector publishes {"t": ms since start} and stalls on its third
// call, the tick at 3 s, until 6.5 s: the ticks at 4 s and 5 s are missed.
func stallingCollector(start time.Time, interval time.Duration) *fakeCollector {
	n := 0
	return &fakeCollector{
		TopicFn: func() string { return "a" },
		CollectFn: func(t time.Time) ([]byte, error) {
			n++
			if n == 3 {
				time.Sleep(3*interval + interval/2)
			}
			return fmt.Appendf(nil, `{"t":%d}`, t.Sub(start).Milliseconds()), nil
		},
	}
}

func TestSamplerSkipsMissedTicksAfterStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = time.Second
		start := time.Now() // synctest starts on a whole second
		var pub publishLog
		stall := stallingCollector(start, interval)
		s, err := NewSampler(SamplerOptions{Interval: interval, Collectors: []Collector{stall}, Publish: pub.publish})
		if err != nil {
			t.Fatal(err)
		}
		stop := runSampler(t, s)
		time.Sleep(8*interval + interval/2)
		stop()

		ticks, _ := pub.snapshot()
		var got []time.Duration
		for _, tick := range ticks {
			got = append(got, tick.Sub(start))
		}
		// 4 s and 5 s were missed; 6 s is caught up once (at 6.5 s), then
		// the schedule resumes. No burst of 4, 5, 6.
		want := []time.Duration{1 * interval, 2 * interval, 3 * interval, 6 * interval, 7 * interval, 8 * interval}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ticks at %v, want %v", got, want)
		}
	})
}

func TestSamplerExitsOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var pub publishLog
		s, err := NewSampler(SamplerOptions{
			Interval:   time.Minute,
			Collectors: []Collector{okCollector("a", 0, nil)},
			Publish:    pub.publish,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		synctest.Wait() // Run is now waiting for its first tick
		cancel()
		synctest.Wait()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		default:
			t.Fatal("Run did not return after cancel")
		}
		if ticks, _ := pub.snapshot(); len(ticks) != 0 {
			t.Errorf("got %d ticks before the first minute, want 0", len(ticks))
		}
		if !s.LastTick().IsZero() {
			t.Errorf("LastTick = %v before any tick, want zero", s.LastTick())
		}
		// synctest.Test fails if any goroutine of the bubble is still alive
		// here, so this also checks that Run leaves nothing behind.
	})
}

func TestSamplerLeavesOutFailingCollector(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logBuf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		failing := &fakeCollector{
			TopicFn:   func() string { return "broken" },
			CollectFn: func(time.Time) ([]byte, error) { return nil, errors.New("read thing: permission denied") },
		}
		var pub publishLog
		var observed []time.Duration
		s, err := NewSampler(SamplerOptions{
			Interval:   time.Second,
			Collectors: []Collector{okCollector("a", 0, nil), failing, okCollector("b", time.Millisecond, nil)},
			Publish:    pub.publish,
			Observe:    func(d time.Duration) { observed = append(observed, d) },
			Logger:     log,
		})
		if err != nil {
			t.Fatal(err)
		}
		stop := runSampler(t, s)
		time.Sleep(5*time.Second + time.Second/2)
		stop()

		ticks, reads := pub.snapshot()
		if len(ticks) != 5 {
			t.Fatalf("got %d ticks, want 5", len(ticks))
		}
		for i, r := range reads {
			var topics []string
			for _, reading := range r {
				topics = append(topics, reading.Topic)
				if want := fmt.Sprintf(`{"t":%d}`, ticks[i].UnixMilli()); string(reading.Data) != want {
					t.Errorf("tick %d %s: data %s, want %s", i, reading.Topic, reading.Data, want)
				}
			}
			if got := strings.Join(topics, ","); got != "a,b" {
				t.Errorf("tick %d: topics %s, want a,b (in collector order, broken left out)", i, got)
			}
		}
		if n := strings.Count(logBuf.String(), "permission denied"); n != 1 {
			t.Errorf("the error was logged %d times, want once:\n%s", n, logBuf.String())
		}
		if !strings.Contains(logBuf.String(), "level=WARN") || !strings.Contains(logBuf.String(), "topic=broken") {
			t.Errorf("first failure not logged as a warning with its topic:\n%s", logBuf.String())
		}
		if len(observed) != 5 || observed[0] != time.Millisecond {
			t.Errorf("Observe got %v, want 5 samples of 1ms (the fake work)", observed)
		}
	})
}

func TestSamplerRejectsSecondRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := NewSampler(SamplerOptions{Interval: time.Second, Publish: func(time.Time, []Reading) {}})
		if err != nil {
			t.Fatal(err)
		}
		stop := runSampler(t, s)
		synctest.Wait()
		if err := s.Run(t.Context()); err == nil {
			t.Error("second concurrent Run returned nil, want an error")
		}
		stop()
	})
}

func TestNewSamplerValidates(t *testing.T) {
	publish := func(time.Time, []Reading) {}
	tests := []struct {
		name string
		cfg  SamplerOptions
		want string // substring of the error; "" means no error
	}{
		{"valid", SamplerOptions{Interval: time.Second, Publish: publish}, ""},
		{"zero interval", SamplerOptions{Publish: publish}, "interval"},
		{"negative interval", SamplerOptions{Interval: -time.Second, Publish: publish}, "interval"},
		{"no publish", SamplerOptions{Interval: time.Second}, "Publish"},
		{"nil collector", SamplerOptions{Interval: time.Second, Publish: publish, Collectors: []Collector{nil}}, "collector 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSampler(tt.cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// markedLog records what a sampler published as tick offsets from start and
// the first reading's JSON, for the tests that judge marks.
func tickLines(start time.Time, pub *publishLog) []string {
	ticks, reads := pub.snapshot()
	var out []string
	for i, tick := range ticks {
		line := tick.Sub(start).String()
		if len(reads[i]) > 0 {
			line += " " + string(reads[i][0].Data)
		}
		out = append(out, line)
	}
	return out
}

func TestSamplerMarksSkippedTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = time.Second
		start := time.Now()
		var pub publishLog
		stall := stallingCollector(start, interval)
		var logs bytes.Buffer
		s, err := NewSampler(SamplerOptions{Interval: interval, Collectors: []Collector{stall}, Publish: pub.publish,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		stop := runSampler(t, s)
		time.Sleep(7*interval + interval/2)
		stop()

		want := []string{`1s {"t":1000}`, `2s {"t":2000}`, `3s {"t":3000}`, `6s {"skipped":2,"t":6000}`, `7s {"t":7000}`}
		if got := tickLines(start, &pub); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("published\n%q\nwant\n%q", got, want)
		}
		if got := s.SkippedTicks(); got != 2 {
			t.Errorf("SkippedTicks() = %d, want 2", got)
		}
		if !strings.Contains(logs.String(), "skipped=2") {
			t.Errorf("no log of the skips:\n%s", logs.String())
		}
	})
}

func TestSkipLogIsRateLimited(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var l skipLog
	t0 := time.Now()
	for i := range 120 { // one skip a second for two minutes
		l.note(log, t0.Add(time.Duration(i)*time.Second), 1, time.Second)
	}
	if got := strings.Count(logs.String(), "sampler late"); got != 2 {
		t.Errorf("%d lines for 120 skips in two minutes, want 2:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "skipped=60") {
		t.Errorf("the second line does not sum the minute's skips:\n%s", logs.String())
	}
}

// TestSamplerFollowsWallClockSteps steps the wall clock (not the timers or
// the monotonic clock) while the sampler runs.
func TestSamplerFollowsWallClockSteps(t *testing.T) {
	tests := []struct {
		name string
		step time.Duration
		at   time.Duration // when the step happens, after the start
		want []string
	}{
		{
			name: "two hours forward",
			step: 2 * time.Hour, at: 3500 * time.Millisecond,
			want: []string{`1s {"t":1000}`, `2s {"t":2000}`, `3s {"t":3000}`,
				`2h0m4s {"clock_step":7200000,"t":7204000}`, `2h0m5s {"t":7205000}`},
		},
		{
			name: "thirty minutes back",
			step: -30 * time.Minute, at: 3500 * time.Millisecond,
			want: []string{`1s {"t":1000}`, `2s {"t":2000}`, `3s {"t":3000}`,
				`-29m56s {"clock_step":-1800000,"t":-1796000}`, `-29m55s {"t":-1795000}`},
		},
		{
			name: "back by less than an interval: no step, the grid holds",
			step: -300 * time.Millisecond, at: 3500 * time.Millisecond,
			want: []string{`1s {"t":1000}`, `2s {"t":2000}`, `3s {"t":3000}`, `4s {"t":4000}`, `5s {"t":5000}`},
		},
		{
			name: "back during a tick's work",
			step: -10 * time.Minute, at: 3100 * time.Millisecond,
			want: []string{`1s {"t":1000}`, `2s {"t":2000}`, `3s {"t":3000}`,
				`-9m56s {"clock_step":-600000,"t":-596000}`, `-9m55s {"t":-595000}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const interval = time.Second
				start := time.Now()
				var skew atomic.Int64
				var pub publishLog
				c := &fakeCollector{
					TopicFn: func() string { return "a" },
					CollectFn: func(t time.Time) ([]byte, error) {
						time.Sleep(200 * time.Millisecond) // the tick's work
						return fmt.Appendf(nil, `{"t":%d}`, t.Sub(start).Milliseconds()), nil
					},
				}
				s, err := NewSampler(SamplerOptions{Interval: interval, Collectors: []Collector{c}, Publish: pub.publish,
					wallSkew: func() time.Duration { return time.Duration(skew.Load()) }})
				if err != nil {
					t.Fatal(err)
				}
				stop := runSampler(t, s)
				time.Sleep(tt.at)
				skew.Store(int64(tt.step))
				time.Sleep(5*interval + interval/2 - tt.at)
				stop()
				if got := tickLines(start.Add(0), &pub); fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("published\n%q\nwant\n%q", got, tt.want)
				}
				for _, l := range tickLines(start, &pub) {
					if strings.Contains(l, "skipped") {
						t.Errorf("a clock step counted as skipped ticks: %s", l)
					}
				}
			})
		})
	}
}

// TestSamplerMarksRestart: the first tick that publishes anything after a
// restart says how long ago the previous run's newest tick was; a first
// tick whose collectors have no baseline yet passes the mark on.
func TestSamplerMarksRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = time.Second
		start := time.Now()
		n := 0
		c := &fakeCollector{
			TopicFn: func() string { return "a" },
			CollectFn: func(t time.Time) ([]byte, error) {
				if n++; n == 1 {
					return nil, errNoBaseline
				}
				return fmt.Appendf(nil, `{"t":%d}`, t.Sub(start).Milliseconds()), nil
			},
		}
		var pub publishLog
		s, err := NewSampler(SamplerOptions{Interval: interval, Collectors: []Collector{c}, Publish: pub.publish,
			Resumed: start.Add(-42 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		stop := runSampler(t, s)
		time.Sleep(3*interval + interval/2)
		stop()
		want := []string{`1s`, `2s {"restart":44000,"t":2000}`, `3s {"t":3000}`}
		if got := tickLines(start, &pub); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("published\n%q\nwant\n%q", got, want)
		}
	})
}
