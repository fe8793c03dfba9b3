package telemetry

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vitals/hostinfo"
	"vitals/metrics"
)

// nodeCollector serves the host's raw counters and levels under
// node_exporter's names and labels (node_cpu_seconds_total{cpu,mode},
// node_network_receive_bytes_total{device}, ...), read at scrape time from
// what each collector read on its last tick: a Prometheus server computes
// rates with rate() at any scrape interval, and Grafana's dashboards made
// for node_exporter work on them. The stream keeps the per-tick rates.
//
// Its node_memory_* names depend on what /proc/meminfo holds, so Describe
// sends nothing: an unchecked collector, which the registry allows.
type nodeCollector struct {
	readers []metrics.RawReader

	cpu, load1, load5, load15                      *prometheus.Desc
	diskReads, diskWrites, diskRead, diskWritten   *prometheus.Desc
	diskReadTime, diskWriteTime, diskIOTime        *prometheus.Desc
	fsSize, fsFree, fsAvail, fsStale               *prometheus.Desc
	netRxBytes, netTxBytes, netRxPackets, netTxPkt *prometheus.Desc
	sampleTime                                     *prometheus.Desc
}

func newNodeCollector(readers []metrics.RawReader) nodeCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	fs := []string{"device", "fstype", "mountpoint"}
	return nodeCollector{
		readers: readers,
		cpu:     d("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", "cpu", "mode"),
		load1:   d("node_load1", "1m load average."),
		load5:   d("node_load5", "5m load average."),
		load15:  d("node_load15", "15m load average."),

		diskReads:     d("node_disk_reads_completed_total", "The total number of reads completed successfully.", "device"),
		diskWrites:    d("node_disk_writes_completed_total", "The total number of writes completed successfully.", "device"),
		diskRead:      d("node_disk_read_bytes_total", "The total number of bytes read successfully.", "device"),
		diskWritten:   d("node_disk_written_bytes_total", "The total number of bytes written successfully.", "device"),
		diskReadTime:  d("node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", "device"),
		diskWriteTime: d("node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.", "device"),
		diskIOTime:    d("node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", "device"),

		fsSize:  d("node_filesystem_size_bytes", "Filesystem size in bytes.", fs...),
		fsFree:  d("node_filesystem_free_bytes", "Filesystem free space in bytes.", fs...),
		fsAvail: d("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.", fs...),
		fsStale: d("node_filesystem_device_error", "Whether an error occurred while getting statistics for the given device.", fs...),

		netRxBytes:   d("node_network_receive_bytes_total", "Network device statistic receive_bytes.", "device"),
		netTxBytes:   d("node_network_transmit_bytes_total", "Network device statistic transmit_bytes.", "device"),
		netRxPackets: d("node_network_receive_packets_total", "Network device statistic receive_packets.", "device"),
		netTxPkt:     d("node_network_transmit_packets_total", "Network device statistic transmit_packets.", "device"),

		sampleTime: d("vitals_host_sample_timestamp_seconds",
			"Time of the tick the node_* values of each topic were read at.", "topic"),
	}
}

func (nodeCollector) Describe(chan<- *prometheus.Desc) {}

func (c nodeCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, rr := range c.readers {
		r := rr.ReadRaw()
		if r.T.IsZero() {
			continue // no tick yet
		}
		gauge(c.sampleTime, float64(r.T.UnixNano())/float64(time.Second), r.Topic)
		for _, t := range r.CPUs {
			cpu := strconv.Itoa(t.CPU)
			for _, m := range []struct {
				mode string
				v    float64
			}{{"user", t.User}, {"nice", t.Nice}, {"system", t.System}, {"idle", t.Idle},
				{"iowait", t.Iowait}, {"irq", t.Irq}, {"softirq", t.Softirq}, {"steal", t.Steal}} {
				counter(c.cpu, m.v, cpu, m.mode)
			}
		}
		for _, f := range r.Memory {
			name := "node_memory_" + f.Name
			if f.Bytes {
				name += "_bytes"
			}
			d := prometheus.NewDesc(name, "Memory information field "+f.Name+" (/proc/meminfo).", nil, nil)
			m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, f.Value)
			if err != nil {
				m = prometheus.NewInvalidMetric(d, err) // a field name no metric can have
			}
			ch <- m
		}
		if l := r.Load; l != nil {
			gauge(c.load1, l.Load1)
			gauge(c.load5, l.Load5)
			gauge(c.load15, l.Load15)
		}
		for _, d := range r.Disks {
			counter(c.diskReads, float64(d.Reads), d.Device)
			counter(c.diskWrites, float64(d.Writes), d.Device)
			counter(c.diskRead, float64(d.ReadBytes), d.Device)
			counter(c.diskWritten, float64(d.WrittenBytes), d.Device)
			counter(c.diskReadTime, d.ReadSeconds, d.Device)
			counter(c.diskWriteTime, d.WriteSeconds, d.Device)
			counter(c.diskIOTime, d.IOSeconds, d.Device)
		}
		for _, f := range r.Filesystems {
			gauge(c.fsSize, float64(f.Size), f.Device, f.Fstype, f.Mountpoint)
			gauge(c.fsFree, float64(f.Free), f.Device, f.Fstype, f.Mountpoint)
			gauge(c.fsAvail, float64(f.Avail), f.Device, f.Fstype, f.Mountpoint)
			stale := 0.0
			if f.Stale {
				stale = 1
			}
			gauge(c.fsStale, stale, f.Device, f.Fstype, f.Mountpoint)
		}
		for _, n := range r.Interfaces {
			counter(c.netRxBytes, float64(n.RxBytes), n.Device)
			counter(c.netTxBytes, float64(n.TxBytes), n.Device)
			counter(c.netRxPackets, float64(n.RxPackets), n.Device)
			counter(c.netTxPkt, float64(n.TxPackets), n.Device)
		}
	}
}

// WatchHost adds what node_exporter says about the host itself:
// node_uname_info (the dashboards made for node_exporter list hosts from
// its labels, so without it their host picker stays empty),
// node_boot_time_seconds when known, and node_time_seconds.
func (t *Telemetry) WatchHost(h hostinfo.Info) {
	sysname := h.OS
	if sysname == "linux" {
		sysname = "Linux" // as uname(2) spells it
	}
	uname := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "node_uname_info", Help: "Labeled system information as provided by the uname system call.",
		ConstLabels: prometheus.Labels{"sysname": sysname, "release": h.Kernel, "machine": h.Arch,
			"nodename": h.Hostname, "version": "", "domainname": "(none)"},
	})
	uname.Set(1)
	t.reg.MustRegister(uname, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "node_time_seconds", Help: "System time in seconds since epoch (1970).",
	}, func() float64 { return float64(time.Now().UnixNano()) / float64(time.Second) }))
	if !h.BootTime.IsZero() {
		boot := prometheus.NewGauge(prometheus.GaugeOpts{Name: "node_boot_time_seconds", Help: "Node boot time, in unixtime."})
		boot.Set(float64(h.BootTime.Unix()))
		t.reg.MustRegister(boot)
	}
}
