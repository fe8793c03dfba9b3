package telemetry

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"vitals/history"
	"vitals/history/redisstream"
	"vitals/internal/buildinfo"
	"vitals/metrics"
)

func TestTelemetryScrape(t *testing.T) {
	tel := New(slog.New(slog.DiscardHandler), buildinfo.Info{Version: "v1.2.0", Revision: "abc", GoVersion: "go1.26.8"})
	tel.WatchBroker(func() history.Stats { return history.Stats{Published: 7, Events: 5, Bytes: 900, Dropped: 1} })
	tel.WatchSampler(func() uint64 { return 3 }, func() uint64 { return 1 })
	tel.ObserveSample(300 * time.Microsecond)
	tel.ObserveStore(2 * time.Millisecond)
	tel.StreamOpened("cpu,memory")
	tel.StreamOpened("all")
	tel.StreamClosed("all", "slow")
	tel.StreamRefused()

	rec := httptest.NewRecorder()
	tel.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	out := string(body)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, out)
	}
	for _, want := range []string{
		"vitals_events_published_total 7", "vitals_history_events 5", "vitals_history_bytes 900", "vitals_subscribers_dropped_total 1",
		`vitals_streams{topics="cpu,memory"} 1`, `vitals_streams{topics="all"} 0`, `vitals_streams_closed_total{reason="slow"} 1`,
		"vitals_streams_refused_total 1", "vitals_sampler_skipped_ticks_total 3", "vitals_sampler_clock_steps_total 1", "vitals_sample_duration_seconds_count 1", "vitals_store_write_duration_seconds_count 1",
		`vitals_build_info{goversion="go1.26.8",revision="abc",version="v1.2.0"} 1`,
		"go_goroutines", "process_resident_memory_bytes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(out, "vitals_host_") {
		t.Error("rates flattened into gauges: the stream carries the rates")
	}
	if strings.Contains(out, "core_ids") {
		t.Error("core_ids became a gauge")
	}
}

func TestTelemetryRedis(t *testing.T) {
	tel := New(slog.New(slog.DiscardHandler), buildinfo.Info{Version: "v1.2.0", Revision: "abc", GoVersion: "go1.26.8"})
	tel.WatchRedis(
		func() redisstream.PublisherStats {
			return redisstream.PublisherStats{Buffered: 12, Capacity: 600, WriteErrors: 3, Dropped: 2}
		},
		func() int { return 4 })
	rec := httptest.NewRecorder()
	tel.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		"vitals_redis_buffered_ticks 12", "vitals_redis_buffer_capacity_ticks 600", "vitals_redis_write_errors_total 3",
		"vitals_redis_ticks_dropped_total 2", "vitals_redis_followed_hosts 4",
		"# TYPE vitals_redis_write_errors_total counter", "# TYPE vitals_redis_followed_hosts gauge",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(out, "vitals_events_published_total") {
		t.Error("broker metrics in redis mode")
	}
}

// rateCollector is a metrics.Collector that counts implausible rates.
type rateCollector struct {
	topic string
	n     uint64
}

func (c *rateCollector) Topic() string                     { return c.topic }
func (c *rateCollector) Collect(time.Time) ([]byte, error) { return []byte(`{"t":0}`), nil }
func (c *rateCollector) ImplausibleRates() uint64          { return c.n }

// plainCollector computes no rates.
type plainCollector struct{}

func (plainCollector) Topic() string                     { return "load" }
func (plainCollector) Collect(time.Time) ([]byte, error) { return []byte(`{"t":0}`), nil }

func TestTelemetryImplausibleRates(t *testing.T) {
	tel := New(slog.New(slog.DiscardHandler), buildinfo.Info{})
	cpu, network := &rateCollector{topic: "cpu", n: 2}, &rateCollector{topic: "network"}
	tel.WatchCollectors([]metrics.Collector{cpu, plainCollector{}, network})
	scrape := func() string {
		rec := httptest.NewRecorder()
		tel.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	out := scrape()
	for _, want := range []string{
		"# TYPE vitals_implausible_rates_total counter",
		`vitals_implausible_rates_total{topic="cpu"} 2`,
		`vitals_implausible_rates_total{topic="network"} 0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(out, `topic="load"`) {
		t.Error("a collector without rates has a count")
	}
	// Read at scrape time, not when registered.
	network.n = 5
	if out := scrape(); !strings.Contains(out, `vitals_implausible_rates_total{topic="network"} 5`) {
		t.Errorf("second scrape lacks the new count:\n%s", out)
	}
}

// TestTelemetryRealCollectors registers the collectors vitals runs, so a
// collector that stops counting its implausible rates shows here.
func TestTelemetryRealCollectors(t *testing.T) {
	cs, err := metrics.NewCollectors(metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer metrics.CloseCollectors(cs)
	tel := New(slog.New(slog.DiscardHandler), buildinfo.Info{})
	tel.WatchCollectors(cs)
	rec := httptest.NewRecorder()
	tel.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, topic := range []string{"cpu", "disk", "network"} {
		if want := `vitals_implausible_rates_total{topic="` + topic + `"}`; !strings.Contains(rec.Body.String(), want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}
