package telemetry

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
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

// WatchBroker adds the metrics read from the broker at scrape time: its
// totals and the host gauges of the newest events.
func (t *Telemetry) WatchBroker(stats func() history.Stats, latest func() []*history.Event) {
	t.reg.MustRegister(newBrokerCollector(stats), hostCollector{latest: latest})
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

// WatchCollectors adds vitals_implausible_rates_total{topic}: the rates the
// collectors that compute them (cpu, disk, network) dropped as null because
// their counters grew by more than the device can move, read from the
// collectors at scrape time. Collectors that compute no rates are left out.
func (t *Telemetry) WatchCollectors(cs []metrics.Collector) {
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

// hostCollector exposes the host gauges the stream carries, read from the
// newest event of each topic at scrape time, so /metrics and /events never
// disagree and no collector runs twice. The mapping is mechanical, so new
// fields in a payload appear without a change here:
//
//   - a number field f of topic T: vitals_host_T_f
//     (vitals_host_cpu_total, vitals_host_memory_used)
//   - an array of numbers: one gauge per element, labelled index: the
//     element's position, or its number from a parallel array named in
//     arrayIDs (cores by core_ids: vitals_host_cpu_cores{index="3"} is
//     the kernel's cpu3 even when cpu2 is offline)
//   - an object of objects (per device or interface): labelled name
//     (vitals_host_disk_devices_read_bps{name="sda"})
//   - an array of objects: their string fields become labels
//     (vitals_host_disk_filesystems_used{fstype="ext4",mount="/"})
//
// Nulls (what this host can't report) are left out. "t" becomes
// vitals_host_sample_timestamp_seconds{topic="T"}, so a stale value is
// visible. Units are the stream's: bytes, per-second rates, percent.
type hostCollector struct{ latest func() []*history.Event }

// Describe sends nothing: the host gauges depend on what the payloads hold,
// which makes this an unchecked collector (allowed by the registry).
func (hostCollector) Describe(chan<- *prometheus.Desc) {}

func (c hostCollector) Collect(ch chan<- prometheus.Metric) {
	for _, e := range c.latest() {
		for _, m := range hostGauges(e.Topic, e.Data) {
			d := prometheus.NewDesc(m.name, m.help, m.labelNames, nil)
			metric, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, m.value, m.labelValues...)
			if err != nil {
				metric = prometheus.NewInvalidMetric(d, err)
			}
			ch <- metric
		}
	}
}

type hostGauge struct {
	name, help  string
	labelNames  []string
	labelValues []string
	value       float64
}

// arrayIDs names, for an array field, the sibling array that holds each
// element's own number. The sibling is a label, not a gauge of its own.
var arrayIDs = map[string]string{"cores": "core_ids"}

var nonNameChars = regexp.MustCompile(`[^a-zA-Z0-9_]+`)

func metricPart(s string) string { return strings.Trim(nonNameChars.ReplaceAllString(s, "_"), "_") }

// hostGauges flattens one topic payload as the hostCollector comment says.
// It is pure, for tests.
func hostGauges(topic string, data []byte) []hostGauge {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return nil
	}
	prefix := "vitals_host_" + metricPart(topic) + "_"
	help := func(field string) string {
		return fmt.Sprintf("%s.%s from the %s events of the /events stream.", topic, field, topic)
	}
	var out []hostGauge
	for _, k := range sortedKeys(obj) {
		raw := obj[k]
		if k == "t" {
			var ms float64
			if json.Unmarshal(raw, &ms) == nil {
				out = append(out, hostGauge{name: "vitals_host_sample_timestamp_seconds",
					help: "Time of the newest sample of each topic.", labelNames: []string{"topic"},
					labelValues: []string{topic}, value: ms / 1000})
			}
			continue
		}
		if slices.Contains(slices.Collect(maps.Values(arrayIDs)), k) {
			continue
		}
		name := prefix + metricPart(k)
		if v, ok := number(raw); ok {
			out = append(out, hostGauge{name: name, help: help(k), value: v})
			continue
		}
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) == nil {
			var ids []int
			if idsKey, ok := arrayIDs[k]; ok {
				if json.Unmarshal(obj[idsKey], &ids) != nil || len(ids) != len(arr) {
					ids = nil
				}
			}
			for i, el := range arr {
				if v, ok := number(el); ok {
					label := i
					if ids != nil {
						label = ids[i]
					}
					out = append(out, hostGauge{name: name, help: help(k), labelNames: []string{"index"},
						labelValues: []string{strconv.Itoa(label)}, value: v})
					continue
				}
				out = append(out, objectGauges(name, help(k), el, nil, nil)...)
			}
			continue
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil {
			for _, key := range sortedKeys(m) {
				out = append(out, objectGauges(name, help(k), m[key], []string{"name"}, []string{key})...)
			}
		}
	}
	return out
}

// objectGauges turns one object's number fields into gauges named
// base_field, labelled by the given labels plus the object's string fields.
func objectGauges(base, help string, raw json.RawMessage, names, values []string) []hostGauge {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	names, values = slices.Clone(names), slices.Clone(values)
	keys := sortedKeys(obj)
	for _, k := range keys {
		var s string
		if raw := obj[k]; len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
			names, values = append(names, metricPart(k)), append(values, s)
		}
	}
	var out []hostGauge
	for _, k := range keys {
		if v, ok := number(obj[k]); ok {
			out = append(out, hostGauge{name: base + "_" + metricPart(k), help: help,
				labelNames: names, labelValues: values, value: v})
		}
	}
	return out
}

func number(raw json.RawMessage) (float64, bool) {
	var v float64
	if len(raw) == 0 || raw[0] == 'n' || json.Unmarshal(raw, &v) != nil {
		return 0, false
	}
	return v, true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
