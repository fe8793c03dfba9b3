package history

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Benchmarks for the stream engine's costs. They report allocations: the
// figure that must stay flat is allocs/op of Publish as subscribers grow
// (each tick is encoded once, whatever the number of subscribers). Timing
// targets live in BENCHMARKS.md, never in assertions.

var benchTopics = []string{"cpu", "memory", "load", "disk", "network"}

// benchPayloads are realistic sizes for each topic on a small host (the
// disk and network payloads grow with devices and interfaces).
func benchPayloads(t int64) []Sample {
	ts := strconv.FormatInt(t, 10)
	return []Sample{
		{"cpu", []byte(`{"t":` + ts + `,"total":12.5,"user":8.25,"system":4.25,"iowait":0,"steal":0,"idle":87.5,"cores":[10.5,14.5]}`)},
		{"memory", []byte(`{"t":` + ts + `,"total":25276514304,"used":958992384,"available":24317521920,"cached":2058760192,"buffers":21962752,"percent":3.79,"swap_total":null,"swap_used":null}`)},
		{"load", []byte(`{"t":` + ts + `,"load1":0.81,"load5":0.3,"load15":0.16,"cpus":2}`)},
		{"disk", []byte(`{"t":` + ts + `,"read_bps":0,"write_bps":176093.52,"read_iops":0,"write_iops":39.99,"devices":{"vda":{"read_bps":0,"write_bps":176093.52,"read_iops":0,"write_iops":39.99}},"filesystems":[{"mount":"/","fstype":"ext4","total":270553174016,"used":14089887744,"percent":14.41}]}`)},
		{"network", []byte(`{"t":` + ts + `,"rx_bps":1024,"tx_bps":2048,"rx_pps":3,"tx_pps":4,"interfaces":{"eth0":{"rx_bps":1024,"tx_bps":2048,"rx_pps":3,"tx_pps":4}}}`)},
	}
}

func BenchmarkEncodeEvent(b *testing.B) {
	data := benchPayloads(1_700_000_000_000)[3].Data // disk: the largest
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var err error
		buf, err = AppendEvent(buf[:0], "k3m9x2qa.1234567", "disk", data)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func openBench(b *testing.B, dir string, now func() time.Time) *Broker {
	b.Helper()
	br, err := Open(Options{Dir: dir, Topics: benchTopics, Retention: time.Hour, MaxBytes: 64 << 20, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	return br
}

// BenchmarkPublish publishes one tick (five topics) per op to n live
// subscribers and, with the timer stopped, drains their queues as the
// stream handlers would. The store's commit is included (it is part of a
// tick's cost); allocs/op must not grow with n.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			br := openBench(b, b.TempDir(), nil)
			defer br.Close()
			subs := make([]*Subscription, n)
			for i := range subs {
				s, err := br.Subscribe(SubscribeOptions{})
				if err != nil {
					b.Fatal(err)
				}
				subs[i] = s
			}
			var drained []*Event
			drain := func() {
				for _, s := range subs {
					drained = s.Next(drained[:0])
				}
			}
			// Warm the queues' capacity, as a running server has.
			for range 3 {
				br.Publish(time.Now(), benchPayloads(time.Now().UnixMilli()))
				drain()
			}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				samples := benchPayloads(time.Now().UnixMilli())
				b.StartTimer()
				if err := br.Publish(time.Now(), samples); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				drain()
				b.StartTimer()
			}
			b.StopTimer()
			for _, s := range subs {
				select {
				case <-s.Done():
					b.Fatalf("subscriber dropped: %v", s.Err())
				default:
				}
				s.Close()
			}
		})
	}
}

// fullWindow is a data dir holding one full hour of five topics at 1 Hz
// (18,000 events), built once per test binary because it takes 3,600
// committed ticks. The clock is pinned so the window ends now.
var fullWindow struct {
	once sync.Once
	dir  string
	end  time.Time // the newest tick's time
	err  error
}

const windowTicks = 3600

// fullWindowDir returns the dir and a clock pinned to the newest tick: reopened on the
// real clock, a fill that took long on a busy machine would have its
// oldest seconds already past the hour and evicted at load.
func fullWindowDir(b *testing.B) (string, func() time.Time) {
	b.Helper()
	fullWindow.once.Do(func() {
		fullWindow.dir, fullWindow.err = os.MkdirTemp("", "vitals-bench-window-")
		if fullWindow.err != nil {
			return
		}
		fullWindow.end = time.Now()
		fullWindow.err = prefillHour(fullWindow.dir, fullWindow.end)
	})
	if fullWindow.err != nil {
		b.Fatal(fullWindow.err)
	}
	end := fullWindow.end
	return fullWindow.dir, func() time.Time { return end }
}

// prefillHour publishes a full hour of ticks ending at end, with the clock
// pinned to each tick so nothing is evicted as too old.
func prefillHour(dir string, end time.Time) error {
	start := end.Add(-windowTicks * time.Second).Truncate(time.Second)
	var now time.Time
	br, err := Open(Options{Dir: dir, Topics: benchTopics, Retention: time.Hour + time.Minute, MaxBytes: 64 << 20,
		Now: func() time.Time { return now }})
	if err != nil {
		return err
	}
	for i := 1; i <= windowTicks; i++ {
		now = start.Add(time.Duration(i) * time.Second)
		if err := br.Publish(now, benchPayloads(now.UnixMilli())); err != nil {
			br.Close()
			return err
		}
	}
	return br.Close()
}

// BenchmarkReloadWindow opens a history file holding a full hour and loads
// it back into memory, as a restart does.
func BenchmarkReloadWindow(b *testing.B) {
	src, now := fullWindowDir(b)
	b.ReportAllocs()
	for b.Loop() {
		br := openBench(b, src, now)
		st := br.Stats()
		// Closed before any Fatal: a file left open is locked for the
		// next run in this process.
		br.Close()
		if st.Events < windowTicks*5-100 {
			b.Fatalf("reloaded %d events, want about %d", st.Events, windowTicks*5)
		}
	}
}

// BenchmarkReplayFullWindow subscribes from the oldest retained id and
// writes every replayed event's bytes, the broker's side of a catch-up.
func BenchmarkReplayFullWindow(b *testing.B) {
	dir, now := fullWindowDir(b)
	br := openBench(b, dir, now)
	defer br.Close()
	oldest, _ := br.Bounds()
	b.ReportAllocs()
	for b.Loop() {
		s, err := br.Subscribe(SubscribeOptions{Resume: true, After: oldest})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for e := range s.Replay() {
			io.Discard.Write(e.Wire)
			n++
		}
		s.Close()
		if n < windowTicks*5-100 {
			b.Fatalf("replayed %d events", n)
		}
	}
}
