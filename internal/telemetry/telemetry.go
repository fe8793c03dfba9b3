package telemetry

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"vitals/history"
	"vitals/history/redisstream"
	"vitals/internal/buildinfo"
	"vitals/metrics"
)

// Telemetry is what /metrics serves: a registry of its own (nothing
// registers globally), the two histograms fed by the sampler and the
// store, the stream counters fed by the handlers, and collectors that read
// the broker at scrape time.
type Telemetry struct {
	reg         *prometheus.Registry
	sampleDur   prometheus.Histogram
	storeDur    prometheus.Histogram
	streams     *prometheus.GaugeVec
	closed      *prometheus.CounterVec
	refused     prometheus.Counter
	handlerOpts promhttp.HandlerOpts
}

// durationBuckets span 50 µs to about 400 ms: a full sample takes well under
// 2 ms and a bbolt commit a few ms on a healthy disk, so the interesting
// tail (a stalled disk, a slow /proc) lands in the upper buckets.
var durationBuckets = prometheus.ExponentialBuckets(50e-6, 2.5, 11)

// New returns an empty registry with the process and Go runtime collectors
// and vitals' own histograms and stream counters registered.
func New(log *slog.Logger, build buildinfo.Info) *Telemetry {
	t := &Telemetry{
		reg: prometheus.NewRegistry(),
		sampleDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vitals_sample_duration_seconds", Help: "Time to take one full sample of every collector.",
			Buckets: durationBuckets,
		}),
		storeDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vitals_store_write_duration_seconds", Help: "Time to commit one tick to the history file.",
			Buckets: durationBuckets,
		}),
		streams: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vitals_streams", Help: "Open /events streams by topic set (\"all\" when no topics were asked for).",
		}, []string{"topics"}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vitals_streams_closed_total", Help: "/events streams closed, by reason.",
		}, []string{"reason"}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vitals_streams_refused_total", Help: "/events streams told to retry later because --max-clients was reached.",
		}),
	}
	t.handlerOpts = promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError, // one bad metric must not blank the scrape
		Registry:      t.reg,                    // promhttp's own error counters
	}
	// The node_exporter convention: a constant 1 whose labels say which
	// build runs, so a query can join on it or alert on a mixed fleet.
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "vitals_build_info", Help: "A constant 1 labelled with the version, commit and Go version of this build.",
		ConstLabels: prometheus.Labels{"version": build.Version, "revision": build.Revision, "goversion": build.GoVersion},
	})
	buildInfo.Set(1)
	t.reg.MustRegister(
		buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		t.sampleDur, t.storeDur, t.streams, t.closed, t.refused,
	)
	return t
}

// WatchBroker adds the broker's totals, read at scrape time.
func (t *Telemetry) WatchBroker(stats func() history.Stats) {
	t.reg.MustRegister(newBrokerCollector(stats))
}

// WatchRedis adds the --redis mode's metrics, read at scrape time: the
// publisher's local buffer (how close an outage is to losing ticks) and
// its failed writes, and how many hosts this instance follows (each is one
// reader holding a Redis connection in XREAD BLOCK). The broker metrics
// don't apply there: there is no broker.
func (t *Telemetry) WatchRedis(pub func() redisstream.PublisherStats, following func() int) {
	gauge := func(name, help string, get func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, get)
	}
	counter := func(name, help string, get func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, get)
	}
	t.reg.MustRegister(
		gauge("vitals_redis_buffered_ticks", "Ticks sampled but not yet written to Redis.",
			func() float64 { return float64(pub().Buffered) }),
		gauge("vitals_redis_buffer_capacity_ticks", "Ticks the local buffer holds before the oldest are dropped (--redis-buffer).",
			func() float64 { return float64(pub().Capacity) }),
		counter("vitals_redis_write_errors_total", "Failed writes of ticks to Redis (each retry counts).",
			func() float64 { return float64(pub().WriteErrors) }),
		counter("vitals_redis_ticks_dropped_total", "Ticks lost because Redis was away for longer than the local buffer.",
			func() float64 { return float64(pub().Dropped) }),
		gauge("vitals_redis_followed_hosts", "Hosts whose Redis stream this instance reads now.",
			func() float64 { return float64(following()) }),
	)
}

// WatchSampler adds vitals_sampler_skipped_ticks_total, the ticks the
// sampler skipped because it was late by a whole interval or more, and
// vitals_sampler_clock_steps_total, the steps of the wall clock it
// re-aligned on; both read from the sampler at scrape time.
func (t *Telemetry) WatchSampler(skipped, steps func() uint64) {
	t.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vitals_sampler_skipped_ticks_total",
			Help: "Ticks not sampled because the sampler was late by a whole interval or more."},
			func() float64 { return float64(skipped()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vitals_sampler_clock_steps_total",
			Help: "Steps of the wall clock (NTP, VM resume, date -s) the sampler re-aligned its ticks on."},
			func() float64 { return float64(steps()) }),
	)
}

// WatchCollectors adds what the collectors read, at scrape time: the host's
// raw counters and levels under node_exporter's names (node.go), and
// vitals_implausible_rates_total{topic}: the rates the collectors that
// compute them (cpu, disk, network) dropped as null because their counters
// grew by more than the device can move. Collectors that compute no rates
// have no count; ones that keep no raw values (test fakes) export none.
func (t *Telemetry) WatchCollectors(cs []metrics.Collector) {
	var raws []metrics.RawReader
	for _, col := range cs {
		if r, ok := col.(metrics.RawReader); ok {
			raws = append(raws, r)
		}
	}
	t.reg.MustRegister(newNodeCollector(raws))
	c := implausibleCollector{desc: prometheus.NewDesc("vitals_implausible_rates_total",
		"Rates published as null because their counters grew by more than the device can move (a glitch, a wrap, a device swap), by topic.",
		[]string{"topic"}, nil)}
	for _, col := range cs {
		if r, ok := col.(metrics.ImplausibleRates); ok {
			c.topics = append(c.topics, col.Topic())
			c.counts = append(c.counts, r)
		}
	}
	t.reg.MustRegister(c)
}

// implausibleCollector reads each collector's count at scrape time;
// ImplausibleRates is safe to call while the sampler runs.
type implausibleCollector struct {
	desc   *prometheus.Desc
	topics []string
	counts []metrics.ImplausibleRates
}

func (c implausibleCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c implausibleCollector) Collect(ch chan<- prometheus.Metric) {
	for i, r := range c.counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(r.ImplausibleRates()), c.topics[i])
	}
}

// Handler serves the registry in the Prometheus text format.
func (t *Telemetry) Handler() http.Handler { return promhttp.HandlerFor(t.reg, t.handlerOpts) }

// ObserveSample records how long one full sample of every collector took.
func (t *Telemetry) ObserveSample(d time.Duration) { t.sampleDur.Observe(d.Seconds()) }

// ObserveStore records how long one tick took to commit to the history file.
func (t *Telemetry) ObserveStore(d time.Duration) { t.storeDur.Observe(d.Seconds()) }

// StreamOpened, StreamClosed and StreamRefused implement
// Handlers.StreamObserver.
func (t *Telemetry) StreamOpened(topics string) { t.streams.WithLabelValues(topics).Inc() }
func (t *Telemetry) StreamClosed(topics, reason string) {
	t.streams.WithLabelValues(topics).Dec()
	t.closed.WithLabelValues(reason).Inc()
}
func (t *Telemetry) StreamRefused() { t.refused.Inc() }

// brokerCollector turns the broker's running totals into metrics at
// scrape time.
type brokerCollector struct {
	stats   func() history.Stats
	metrics []brokerMetric
}

type brokerMetric struct {
	desc *prometheus.Desc
	kind prometheus.ValueType
	get  func(history.Stats) float64
}

func newBrokerCollector(stats func() history.Stats) brokerCollector {
	m := func(name, help string, kind prometheus.ValueType, get func(history.Stats) float64) brokerMetric {
		return brokerMetric{desc: prometheus.NewDesc(name, help, nil, nil), kind: kind, get: get}
	}
	c, g := prometheus.CounterValue, prometheus.GaugeValue
	return brokerCollector{stats: stats, metrics: []brokerMetric{
		m("vitals_events_published_total", "Events published (all topics).", c,
			func(s history.Stats) float64 { return float64(s.Published) }),
		m("vitals_events_replayed_total", "Events sent again to streams that resumed with an id.", c,
			func(s history.Stats) float64 { return float64(s.Replayed) }),
		m("vitals_catchups_total", "Catch-ups served to streams that resumed with an id.", c,
			func(s history.Stats) float64 { return float64(s.Catchups) }),
		m("vitals_catchups_incomplete_total", "Catch-ups that could not be exact (id expired, unknown, from another store...).", c,
			func(s history.Stats) float64 { return float64(s.Incomplete) }),
		m("vitals_subscribers_dropped_total", "Streams dropped because their queue passed its byte budget (slow clients).", c,
			func(s history.Stats) float64 { return float64(s.Dropped) }),
		m("vitals_store_errors_total", "Failed writes to the history file.", c,
			func(s history.Stats) float64 { return float64(s.WriteErrors) }),
		m("vitals_history_events", "Events retained in the history window.", g,
			func(s history.Stats) float64 { return float64(s.Events) }),
		m("vitals_history_bytes", "Encoded bytes retained in the history window.", g,
			func(s history.Stats) float64 { return float64(s.Bytes) }),
		m("vitals_subscribers", "Subscriptions registered with the broker.", g,
			func(s history.Stats) float64 { return float64(s.Subscribers) }),
	}}
}

func (c brokerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
}

func (c brokerCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	for _, m := range c.metrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.get(st))
	}
}
