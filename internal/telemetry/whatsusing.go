package telemetry

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"vitals/history"
	"vitals/metrics/containers"
	"vitals/metrics/gpu"
	"vitals/metrics/procs"
	"vitals/metrics/sensors"
)

// The "what is using it" topics (processes, containers, sensors, gpu) get
// metrics of their own, read from the newest event of each at scrape time
// like the host gauges. Their label sets stay bounded: processes are
// aggregated by name over the top lists (at most twice --top-processes
// names, never one series per pid), containers and services are as many
// as the host runs, sensors and GPUs as many as it has.

// WatchWhatsUsing adds the process, container, sensor and GPU metrics,
// read at scrape time from the newest event of each topic.
func (t *Telemetry) WatchWhatsUsing(latest func() []*history.Event) {
	t.reg.MustRegister(whatsUsingCollector{latest: latest})
}

var (
	procLabels = []string{"name"}
	ctrLabels  = []string{"id", "kind", "name"}
	sensLabels = []string{"id", "chip", "label"}
	gpuLabels  = []string{"id", "vendor", "name"}

	descProcs      = prometheus.NewDesc("vitals_processes", "Processes on the host.", nil, nil)
	descThreads    = prometheus.NewDesc("vitals_processes_threads", "Threads on the host.", nil, nil)
	descRunning    = prometheus.NewDesc("vitals_processes_running", "Runnable tasks (procs_running).", nil, nil)
	descBlocked    = prometheus.NewDesc("vitals_processes_blocked", "Tasks blocked on I/O (procs_blocked).", nil, nil)
	descForks      = prometheus.NewDesc("vitals_processes_forks_per_second", "Processes created per second over the last interval.", nil, nil)
	descProcCPU    = prometheus.NewDesc("vitals_process_cpu_percent", "CPU of the listed processes with this name over the last interval, in % of one core (top lists only).", procLabels, nil)
	descProcRSS    = prometheus.NewDesc("vitals_process_resident_bytes", "Resident memory of the listed processes with this name (top lists only).", procLabels, nil)
	descProcCount  = prometheus.NewDesc("vitals_process_listed", "Processes with this name in the top lists.", procLabels, nil)
	descCtrCPU     = prometheus.NewDesc("vitals_container_cpu_percent", "Container or service CPU over the last interval, in % of one core.", ctrLabels, nil)
	descCtrMem     = prometheus.NewDesc("vitals_container_memory_used_bytes", "Container or service memory: usage minus inactive file cache.", ctrLabels, nil)
	descCtrLimit   = prometheus.NewDesc("vitals_container_memory_limit_bytes", "Container or service memory limit (absent when unlimited).", ctrLabels, nil)
	descCtrRx      = prometheus.NewDesc("vitals_container_network_receive_bytes_per_second", "Container network received.", ctrLabels, nil)
	descCtrTx      = prometheus.NewDesc("vitals_container_network_transmit_bytes_per_second", "Container network sent.", ctrLabels, nil)
	descCtrRead    = prometheus.NewDesc("vitals_container_io_read_bytes_per_second", "Container or service block I/O read.", ctrLabels, nil)
	descCtrWrite   = prometheus.NewDesc("vitals_container_io_write_bytes_per_second", "Container or service block I/O written.", ctrLabels, nil)
	descTemp       = prometheus.NewDesc("vitals_sensor_temperature_celsius", "Temperature sensor reading.", sensLabels, nil)
	descTempCrit   = prometheus.NewDesc("vitals_sensor_critical_celsius", "The sensor's critical threshold, where the driver gives one.", sensLabels, nil)
	descTempMax    = prometheus.NewDesc("vitals_sensor_max_celsius", "The sensor's max threshold, where the driver gives one.", sensLabels, nil)
	descGPUUtil    = prometheus.NewDesc("vitals_gpu_utilization_percent", "GPU utilisation.", gpuLabels, nil)
	descGPUMem     = prometheus.NewDesc("vitals_gpu_memory_used_bytes", "GPU memory used.", gpuLabels, nil)
	descGPUMemTot  = prometheus.NewDesc("vitals_gpu_memory_total_bytes", "GPU memory in all.", gpuLabels, nil)
	descGPUTemp    = prometheus.NewDesc("vitals_gpu_temperature_celsius", "GPU temperature.", gpuLabels, nil)
	descGPUPower   = prometheus.NewDesc("vitals_gpu_power_watts", "GPU power draw.", gpuLabels, nil)
	whatsUsingDesc = []*prometheus.Desc{descProcs, descThreads, descRunning, descBlocked, descForks, descProcCPU, descProcRSS,
		descProcCount, descCtrCPU, descCtrMem, descCtrLimit, descCtrRx, descCtrTx, descCtrRead, descCtrWrite, descTemp,
		descTempCrit, descTempMax, descGPUUtil, descGPUMem, descGPUMemTot, descGPUTemp, descGPUPower}
)

type whatsUsingCollector struct{ latest func() []*history.Event }

func (whatsUsingCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range whatsUsingDesc {
		ch <- d
	}
}

func (c whatsUsingCollector) Collect(ch chan<- prometheus.Metric) {
	for _, e := range c.latest() {
		for _, m := range whatsUsingMetrics(e.Topic, e.Data) {
			ch <- m
		}
	}
}

// whatsUsingMetrics turns one event of a what-is-using-it topic into
// metrics; other topics and unreadable payloads give none. It is pure, for
// tests.
func whatsUsingMetrics(topic string, data []byte) []prometheus.Metric {
	var out []prometheus.Metric
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	opt := func(d *prometheus.Desc, v *float64, labels ...string) {
		if v != nil {
			gauge(d, *v, labels...)
		}
	}
	optU := func(d *prometheus.Desc, v *uint64, labels ...string) {
		if v != nil {
			gauge(d, float64(*v), labels...)
		}
	}
	switch topic {
	case procs.Topic:
		var p procs.Payload
		if json.Unmarshal(data, &p) != nil {
			return nil
		}
		gauge(descProcs, float64(p.Processes))
		gauge(descThreads, float64(p.Threads))
		gauge(descRunning, float64(p.Running))
		gauge(descBlocked, float64(p.Blocked))
		opt(descForks, p.Forks)
		for _, a := range byName(p) {
			gauge(descProcCPU, a.cpu, a.name)
			gauge(descProcRSS, float64(a.rss), a.name)
			gauge(descProcCount, float64(a.n), a.name)
		}
	case containers.Topic:
		var p containers.Payload
		if json.Unmarshal(data, &p) != nil {
			return nil
		}
		for _, k := range p.Containers {
			l := []string{k.ID, k.Kind, k.Name}
			opt(descCtrCPU, k.CPU, l...)
			optU(descCtrMem, k.MemUsed, l...)
			optU(descCtrLimit, k.MemLimit, l...)
			opt(descCtrRx, k.NetRx, l...)
			opt(descCtrTx, k.NetTx, l...)
			opt(descCtrRead, k.IORead, l...)
			opt(descCtrWrite, k.IOWrite, l...)
		}
	case sensors.Topic:
		var p sensors.Payload
		if json.Unmarshal(data, &p) != nil {
			return nil
		}
		for _, s := range p.Sensors {
			l := []string{s.ID, s.Chip, s.Label}
			gauge(descTemp, s.C, l...)
			opt(descTempCrit, s.Crit, l...)
			opt(descTempMax, s.Max, l...)
		}
	case gpu.Topic:
		var p gpu.Payload
		if json.Unmarshal(data, &p) != nil {
			return nil
		}
		for _, g := range p.GPUs {
			l := []string{g.ID, g.Vendor, g.Name}
			opt(descGPUUtil, g.Util, l...)
			optU(descGPUMem, g.MemUsed, l...)
			optU(descGPUMemTot, g.MemTotal, l...)
			opt(descGPUTemp, g.Temp, l...)
			opt(descGPUPower, g.Power, l...)
		}
	}
	return out
}

// nameTotal is the listed processes of one name.
type nameTotal struct {
	name string
	cpu  float64
	rss  uint64
	n    int
}

// byName sums the processes of both top lists by name, each pid once (a
// process is often in both), in name order.
func byName(p procs.Payload) []nameTotal {
	seen := map[int]bool{}
	idx := map[string]int{}
	var out []nameTotal
	for _, r := range slices.Concat(p.TopCPU, p.TopRSS) {
		if seen[r.PID] {
			continue
		}
		seen[r.PID] = true
		i, ok := idx[r.Name]
		if !ok {
			i = len(out)
			idx[r.Name] = i
			out = append(out, nameTotal{name: r.Name})
		}
		out[i].cpu += r.CPU
		out[i].rss += r.RSS
		out[i].n++
	}
	slices.SortFunc(out, func(a, b nameTotal) int { return strings.Compare(a.name, b.name) })
	return out
}
