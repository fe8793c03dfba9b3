package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"vitals/hostinfo"
)

func TestNewDashboardHost(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   hostinfo.Info
		want Host
	}{
		{
			name: "full",
			in:   hostinfo.Info{Hostname: "web-1", OS: "linux", Platform: "debian", PlatformVersion: "12.5", Kernel: "6.1.0-18-amd64", Arch: "x86_64", CPUs: 8, BootTime: now.Add(-(3*24 + 4) * time.Hour)},
			want: Host{Name: "web-1", OS: "Debian 12.5 (linux/x86_64)", Kernel: "kernel 6.1.0-18-amd64", CPUs: "8 CPUs", Uptime: "up 3 d 4 h", BootUnix: now.Add(-(3*24 + 4) * time.Hour).Unix(), CPUCount: 8},
		},
		{
			name: "one cpu, no platform",
			in:   hostinfo.Info{Hostname: "pi", OS: "linux", CPUs: 1, BootTime: now.Add(-90 * time.Second)},
			want: Host{Name: "pi", OS: "linux", CPUs: "1 CPU", Uptime: "up 2 min", BootUnix: now.Add(-90 * time.Second).Unix(), CPUCount: 1},
		},
		{
			name: "nothing known",
			in:   hostinfo.Info{},
			want: Host{Name: "unknown host"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewDashboard(Input{Host: tt.in, Interval: time.Second, Retention: time.Hour, Now: now}).Host
			if got != tt.want {
				t.Errorf("Host =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestRanges(t *testing.T) {
	tests := []struct {
		name      string
		retention time.Duration
		want      string // label:pressed/disabled, ...
	}{
		{"one hour keeps all", time.Hour, "5 min:P 15 min:- 1 h:-"},
		{"ten minutes disables the longer", 10 * time.Minute, "5 min:P 15 min:D 1 h:D"},
		{"shorter than every range adds its own", 2 * time.Minute, "2 min:P 5 min:D 15 min:D 1 h:D"},
		{"unknown retention keeps all", 0, "5 min:P 15 min:- 1 h:-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var parts []string
			for _, r := range ranges(tt.retention) {
				mark := "-"
				if r.Pressed {
					mark = "P"
				}
				if r.Disabled {
					mark = "D"
					if r.Title == "" {
						t.Errorf("%s is disabled without saying why", r.Label)
					}
				}
				parts = append(parts, r.Label+":"+mark)
			}
			if got := strings.Join(parts, " "); got != tt.want {
				t.Errorf("ranges(%v) = %q, want %q", tt.retention, got, tt.want)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0 s"},
		{200 * time.Millisecond, "200 ms"},
		{14 * time.Second, "14 s"},
		{6 * time.Minute, "6 min"},
		{time.Hour + 5*time.Minute, "1 h 5 min"},
		{2 * time.Hour, "2 h"},
		{3*24*time.Hour + time.Hour, "3 d 1 h"},
		{-time.Second, "—"},
	}
	for _, tt := range tests {
		if got := Duration(tt.in); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPageRendersEveryChartAndEscapesHostText(t *testing.T) {
	d := NewDashboard(Input{
		Host:      hostinfo.Info{Hostname: `<script>alert(1)</script>`, OS: "linux", CPUs: 4},
		Interval:  time.Second,
		Retention: time.Hour,
	})
	var buf bytes.Buffer
	if err := Page(d).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if strings.Contains(html, "<script>alert(1)") {
		t.Error("host name rendered as markup")
	}
	for _, want := range []string{
		`data-chart="cpu"`, `data-chart="cores"`, `data-chart="memory"`, `data-chart="load"`, `data-chart="disk"`, `data-chart="network"`,
		`data-interval-ms="1000"`, `data-retention-ms="3600000"`, `id="badge"`, `id="btn-disconnect"`, `id="btn-forget"`, `id="log"`,
		`src="/static/app.js"`, `data-fs`, `data-self="&lt;script&gt;alert(1)&lt;/script&gt;"`, `data-fleet-points="60"`,
		`<div class="hostpick" id="hostpick" hidden>`, `<section id="fleet" class="fleet" aria-labelledby="fleet-title" hidden>`,
		`id="fleet-rows"`, `CPU, last 1 min`,
		`data-chart="temperatures"`, `data-topic="sensors" hidden`, `data-chart="gpu"`, `data-topic="gpu" hidden`,
		`id="proc-rows"`, `data-topic="processes"`, `id="ctr-rows"`, `data-topic="containers"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// No request may leave the machine: every src and href is local.
	for _, bad := range []string{"http://", "https://", "//cdn"} {
		if strings.Contains(html, bad) {
			t.Errorf("page references %q", bad)
		}
	}
}

func TestNewFleet(t *testing.T) {
	for _, tt := range []struct {
		interval time.Duration
		want     string
	}{
		{time.Second, "CPU, last 1 min"},
		{5 * time.Second, "CPU, last 5 min"},
		{250 * time.Millisecond, "CPU, last 15 s"},
		{0, "CPU, recent"},
	} {
		if got := newFleet(tt.interval); got.SparkLabel != tt.want || got.SparkPoints != 60 {
			t.Errorf("newFleet(%v) = %+v, want label %q", tt.interval, got, tt.want)
		}
	}
}

func TestContainerLine(t *testing.T) {
	tests := []struct {
		runtime string
		cpus    float64
		mem     uint64
		want    string
	}{
		{"", 2, 1 << 30, ""},
		{"docker", 1.5, 512 << 20, "docker container, limits 1.5 CPUs, 512 MiB"},
		{"lxc", 0, 0, "lxc container"},
		{"podman", 0, 3 << 29, "podman container, limits 1.5 GiB"},
	}
	for _, tt := range tests {
		if got := ContainerLine(tt.runtime, tt.cpus, tt.mem); got != tt.want {
			t.Errorf("ContainerLine(%q, %v, %d) = %q, want %q", tt.runtime, tt.cpus, tt.mem, got, tt.want)
		}
	}
}
