package telemetry

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"vitals/history"
	"vitals/history/redisstream"
	"vitals/hostinfo"
	"vitals/internal/buildinfo"
	"vitals/internal/tooltest"
	"vitals/metrics"
)

// rawCollector is a metrics.Collector that keeps a fixed raw reading.
type rawCollector struct {
	topic string
	raw   metrics.Raw
}

func (c rawCollector) Topic() string                     { return c.topic }
func (c rawCollector) Collect(time.Time) ([]byte, error) { return []byte(`{"t":0}`), nil }
func (c rawCollector) ReadRaw() metrics.Raw              { return c.raw }

func scrape(t *testing.T, tel *Telemetry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	tel.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestNodeMetrics(t *testing.T) {
	tick := time.UnixMilli(1_767_225_600_500)
	tel := New(slog.New(slog.DiscardHandler), buildinfo.Info{})
	tel.WatchCollectors([]metrics.Collector{
		rawCollector{"cpu", metrics.Raw{Topic: "cpu", T: tick, CPUs: []metrics.CPUTimes{
			{CPU: 0, User: 1500.17, System: 500.07, Idle: 3000.76, Steal: 0.5},
			{CPU: 3, User: 1}}}},
		rawCollector{"memory", metrics.Raw{Topic: "memory", T: tick, Memory: []metrics.MemoryField{
			{Name: "MemTotal", Value: 4 << 30, Bytes: true}, {Name: "Active_anon", Value: 1024, Bytes: true},
			{Name: "HugePages_Total", Value: 2}}}},
		rawCollector{"load", metrics.Raw{Topic: "load", T: tick, Load: &metrics.LoadAverage{Load1: 0.525, Load5: 0.41, Load15: 0.3}}},
		rawCollector{"disk", metrics.Raw{Topic: "disk", T: tick,
			Disks: []metrics.DiskCounters{{Device: "vda", Reads: 20010, Writes: 50040, ReadBytes: 2048971776,
				WrittenBytes: 4612194304, ReadSeconds: 0.1, WriteSeconds: 0.2, IOSeconds: 0.3}},
			Filesystems: []metrics.FilesystemSize{{Mountpoint: "/", Fstype: "ext4", Device: "/dev/vda1",
				Size: 1000, Free: 400, Avail: 300}, {Mountpoint: "/mnt/nfs", Fstype: "ext4", Device: "/dev/sdb", Stale: true}}}},
		rawCollector{"network", metrics.Raw{Topic: "network", T: tick, Interfaces: []metrics.NetCounters{
			{Device: "eth0", RxBytes: 900120000, TxBytes: 300030000, RxPackets: 700100, TxPackets: 400050}}}},
		rawCollector{"sensors", metrics.Raw{}}, // no tick yet: nothing
		plainCollector{},                       // keeps no raw values
	})
	tel.WatchHost(hostinfo.Info{Hostname: "web1", OS: "linux", Kernel: "6.1.0-18-amd64", Arch: "x86_64",
		BootTime: time.Unix(1_767_000_000, 0)})
	out := scrape(t, tel)
	for _, want := range []string{
		`node_uname_info{domainname="(none)",machine="x86_64",nodename="web1",release="6.1.0-18-amd64",sysname="Linux",version=""} 1`,
		"node_boot_time_seconds 1.767e+09", "# TYPE node_time_seconds gauge",
		"# TYPE node_cpu_seconds_total counter",
		`node_cpu_seconds_total{cpu="0",mode="user"} 1500.17`,
		`node_cpu_seconds_total{cpu="0",mode="idle"} 3000.76`,
		`node_cpu_seconds_total{cpu="0",mode="steal"} 0.5`,
		`node_cpu_seconds_total{cpu="0",mode="iowait"} 0`,
		`node_cpu_seconds_total{cpu="3",mode="user"} 1`,
		"# TYPE node_memory_MemTotal_bytes gauge", "node_memory_MemTotal_bytes 4.294967296e+09",
		"node_memory_Active_anon_bytes 1024", "node_memory_HugePages_Total 2",
		"# TYPE node_load1 gauge", "node_load1 0.525", "node_load5 0.41", "node_load15 0.3",
		"# TYPE node_disk_reads_completed_total counter",
		`node_disk_reads_completed_total{device="vda"} 20010`, `node_disk_writes_completed_total{device="vda"} 50040`,
		`node_disk_read_bytes_total{device="vda"} 2.048971776e+09`, `node_disk_written_bytes_total{device="vda"} 4.612194304e+09`,
		`node_disk_read_time_seconds_total{device="vda"} 0.1`, `node_disk_write_time_seconds_total{device="vda"} 0.2`,
		`node_disk_io_time_seconds_total{device="vda"} 0.3`,
		`node_filesystem_size_bytes{device="/dev/vda1",fstype="ext4",mountpoint="/"} 1000`,
		`node_filesystem_free_bytes{device="/dev/vda1",fstype="ext4",mountpoint="/"} 400`,
		`node_filesystem_avail_bytes{device="/dev/vda1",fstype="ext4",mountpoint="/"} 300`,
		`node_filesystem_device_error{device="/dev/vda1",fstype="ext4",mountpoint="/"} 0`,
		`node_filesystem_device_error{device="/dev/sdb",fstype="ext4",mountpoint="/mnt/nfs"} 1`,
		"# TYPE node_network_receive_bytes_total counter",
		`node_network_receive_bytes_total{device="eth0"} 9.0012e+08`, `node_network_transmit_bytes_total{device="eth0"} 3.0003e+08`,
		`node_network_receive_packets_total{device="eth0"} 700100`, `node_network_transmit_packets_total{device="eth0"} 400050`,
		`vitals_host_sample_timestamp_seconds{topic="cpu"} 1.7672256005e+09`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(out, `topic="sensors"`) {
		t.Error("a collector without a tick exported values")
	}
}

// TestPromtoolChecksTheScrape lints a whole /metrics answer, from the real
// collectors of this host after a tick and every other metric vitals
// registers, with promtool check metrics (names, units, types, help).
func TestPromtoolChecksTheScrape(t *testing.T) {
	promtool := tooltest.Path(t, "promtool", "prometheus")
	cs, err := metrics.NewCollectors(metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer metrics.CloseCollectors(cs)
	now := time.Now()
	for _, c := range cs {
		if _, err := c.Collect(now); err != nil {
			t.Logf("%s: %v", c.Topic(), err) // a host without a topic still lints
		}
	}
	tel := New(slog.New(slog.DiscardHandler), buildinfo.Read())
	tel.WatchCollectors(cs)
	tel.WatchHost(hostinfo.Info{Hostname: "web1", OS: "linux", Kernel: "6.1.0", Arch: "x86_64", BootTime: time.Unix(1_767_000_000, 0)})
	tel.WatchBroker(func() history.Stats { return history.Stats{Published: 1} })
	tel.WatchRedis(func() redisstream.PublisherStats { return redisstream.PublisherStats{} }, func() int { return 1 })
	tel.ObserveSample(time.Millisecond)
	tel.StreamOpened("all")
	tel.StreamClosed("all", "slow")
	out := scrape(t, tel)
	if !strings.Contains(out, "node_cpu_seconds_total{") {
		t.Fatalf("no CPU counters in the scrape:\n%s", out)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(out)
	var res bytes.Buffer
	cmd.Stdout, cmd.Stderr = &res, &res
	err = cmd.Run()
	// node_exporter's memory names keep /proc/meminfo's spelling
	// (node_memory_MemTotal_bytes), which the lint calls camelCase; the
	// dashboards made for node_exporter query exactly those names, so
	// that finding, and only that one, is expected.
	var findings []string
	for line := range strings.Lines(res.String()) {
		line = strings.TrimSpace(line)
		if line == "" || (strings.HasPrefix(line, "node_memory_") && strings.HasSuffix(line, "should be written in 'snake_case' not 'camelCase'")) {
			continue
		}
		findings = append(findings, line)
	}
	var exit *exec.ExitError
	if len(findings) > 0 || (err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 3)) { // 3: lint findings only
		t.Fatalf("promtool check metrics: %v\n%s", err, strings.Join(findings, "\n"))
	}
}
