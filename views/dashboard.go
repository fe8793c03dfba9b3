package views

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"vitals/hostinfo"
)

// Input is everything the page is built from.
type Input struct {
	Host      hostinfo.Info // for the header; the page takes the two settings below
	Interval  time.Duration // sampling interval
	Retention time.Duration // how much history the server keeps
	Now       time.Time     // for the uptime shown before the stream connects
}

// Dashboard is the view model of the whole page.
type Dashboard struct {
	Title       string
	Host        Host
	IntervalMS  int64
	RetentionMS int64
	Ranges      []Range
	// LongRanges are the ranges beyond the live window, read from
	// /api/range (static/longrange.js) rather than the stream.
	LongRanges []LongRange
	Charts     []Chart
	// SelfName is the name this server publishes its own host as ("" when
	// unknown): the page keys its stored position by host, and a picker
	// entry for it drops ?host= from the address.
	SelfName string
	Fleet    Fleet
}

// Fleet is the fleet overview's fixed text. Its rows and the host picker
// are filled by static/fleet.js from /api/fleet, and both stay hidden
// while the server knows only one host.
type Fleet struct {
	SparkPoints int    // CPU samples per sparkline (?points= of /api/fleet)
	SparkLabel  string // "CPU, last 1 min": the span the sparkline covers
}

// Host is the header's text about the machine.
type Host struct {
	Name   string // "web-1"
	OS     string // "Debian 12.5 (linux/amd64)"
	Kernel string // "kernel 6.1.0-18-amd64"
	CPUs   string // "8 CPUs"
	// Container is "docker container, limits 1.5 CPUs, 512 MiB"; "" on a
	// machine. static/app.js builds the same line from hello.
	Container string
	Uptime    string // "up 3 d 4 h"
	BootUnix  int64  // unix seconds, 0 when unknown; the page ticks uptime from it
	CPUCount  int
}

// Range is one button of the time-range switch.
type Range struct {
	Label    string // "15 min"
	MS       int64
	Pressed  bool
	Disabled bool   // longer than the history the server keeps
	Title    string // tooltip, explains a disabled range
}

// LongRange is one button of the long ranges: Key is its name in the
// address (?range=7d, static/range.js RANGES).
type LongRange struct {
	Label, Key string
	MS         int64
}

// longRanges are the long ranges of the picker, from 6 h to a year: the
// server answers each from the tier that covers it.
func longRanges() []LongRange {
	const day = 24 * time.Hour
	return []LongRange{
		{"6 h", "6h", (6 * time.Hour).Milliseconds()},
		{"24 h", "24h", day.Milliseconds()},
		{"7 d", "7d", (7 * day).Milliseconds()},
		{"30 d", "30d", (30 * day).Milliseconds()},
		{"90 d", "90d", (90 * day).Milliseconds()},
		{"1 y", "1y", (365 * day).Milliseconds()},
	}
}

// Chart is one chart card.
type Chart struct {
	ID          string // matches DEFS in static/charts.js
	Title       string
	Description string // the chart's accessible name
	Filesystems bool   // the card also lists filesystem usage bars
	// Topic, when set, is a topic not every host has (sensors, gpu): the
	// card starts hidden and static/app.js shows it when the stream's
	// hello lists the topic.
	Topic string
	// Feed is the topic the chart draws (DEFS' topic): /embed offers a
	// chart only on a host that publishes it.
	Feed string
}

// NewDashboard builds the page's view model.
func NewDashboard(in Input) Dashboard {
	name := in.Host.Hostname
	if name == "" {
		name = "this host"
	}
	return Dashboard{
		Title:       name + " · vitals",
		Host:        newHost(in.Host, in.Now),
		IntervalMS:  in.Interval.Milliseconds(),
		RetentionMS: in.Retention.Milliseconds(),
		Ranges:      ranges(in.Retention),
		LongRanges:  longRanges(),
		Charts:      charts(in.Interval),
		SelfName:    in.Host.Hostname,
		Fleet:       newFleet(in.Interval),
	}
}

// fleetSparkPoints is one minute at the default 1 s interval: enough for a
// trend in a sparkline a hundred pixels wide.
const fleetSparkPoints = 60

func newFleet(interval time.Duration) Fleet {
	f := Fleet{SparkPoints: fleetSparkPoints, SparkLabel: "CPU, recent"}
	if interval > 0 {
		f.SparkLabel = "CPU, last " + Duration(fleetSparkPoints*interval)
	}
	return f
}

// newHost derives the header from the host description.
func newHost(h hostinfo.Info, now time.Time) Host {
	out := Host{Name: h.Hostname, CPUCount: h.CPUs}
	if out.Name == "" {
		out.Name = "unknown host"
	}
	out.OS = OSLine(h.OS, h.Platform, h.PlatformVersion, h.Arch)
	if h.Kernel != "" {
		out.Kernel = "kernel " + h.Kernel
	}
	if h.CPUs > 0 {
		out.CPUs = plural(h.CPUs, "CPU")
	}
	out.Container = ContainerLine(h.Container, h.CPULimit, h.MemoryLimit)
	if !h.BootTime.IsZero() {
		out.BootUnix = h.BootTime.Unix()
		if !now.IsZero() && now.After(h.BootTime) {
			out.Uptime = "up " + Duration(now.Sub(h.BootTime))
		}
	}
	return out
}

// OSLine reads "Debian 12.5 (linux/amd64)"; static/app.js builds the same
// line from the hello event.
func OSLine(os, platform, version, arch string) string {
	name := strings.TrimSpace(capitalize(platform) + " " + version)
	var sys []string
	if os != "" {
		sys = append(sys, os)
	}
	if arch != "" {
		sys = append(sys, arch)
	}
	if len(sys) > 0 {
		if name == "" {
			return strings.Join(sys, "/")
		}
		name += " (" + strings.Join(sys, "/") + ")"
	}
	return name
}

// ranges offers the standard windows; those longer than the retention are
// disabled (they could never fill). If none fits, the retention itself is
// offered, so a short --history (as in tests) still gets a working switch.
func ranges(retention time.Duration) []Range {
	var out []Range
	for _, d := range []time.Duration{5 * time.Minute, 15 * time.Minute, time.Hour} {
		r := Range{Label: Duration(d), MS: d.Milliseconds()}
		if retention > 0 && d > retention {
			r.Disabled = true
			r.Title = "the server keeps only " + Duration(retention) + " of history"
		}
		out = append(out, r)
	}
	for i := range out {
		if !out[i].Disabled {
			out[i].Pressed = true
			return out
		}
	}
	return append([]Range{{Label: Duration(retention), MS: retention.Milliseconds(), Pressed: true}}, out...)
}

func charts(interval time.Duration) []Chart {
	every := "every " + Duration(interval)
	if interval == time.Second {
		every = "every second"
	}
	return []Chart{
		{ID: "cpu", Feed: "cpu", Title: "CPU", Description: "CPU busy percent, total and by user, system, iowait and steal, sampled " + every},
		{ID: "cores", Feed: "cpu", Title: "Per-core CPU", Description: "Heat strip of busy percent per CPU core over time, one row per core"},
		{ID: "memory", Feed: "memory", Title: "Memory", Description: "Memory used, cache and buffers, available, and swap used, in bytes or percent of total"},
		{ID: "load", Feed: "load", Title: "Load average", Description: "Load average over 1, 5 and 15 minutes, with the CPU count as a reference line"},
		{ID: "disk", Feed: "disk", Title: "Disk I/O", Description: "Disk read and write bytes per second; IOPS on hover", Filesystems: true},
		{ID: "network", Feed: "network", Title: "Network", Description: "Network received and sent per second, in bits or bytes; packets per second on hover"},
		{ID: "temperatures", Feed: "sensors", Title: "Temperatures", Topic: "sensors",
			Description: "Hottest and average temperature sensor in degrees Celsius, with the lowest critical threshold as a line"},
		{ID: "gpu", Feed: "gpu", Title: "GPU", Topic: "gpu", Description: "Busiest GPU's utilisation and GPU memory used, in percent; temperature and power on hover"},
	}
}

// Duration formats like static/format.js duration(): "45 s", "6 min",
// "1 h 5 min", "3 d 4 h".
func Duration(d time.Duration) string {
	if d < 0 {
		return "—"
	}
	if d > 0 && d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	s := int64((d + time.Second/2) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min", (s+30)/60)
	case s < 48*3600:
		h, m := s/3600, (s%3600)/60
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	default:
		days, h := s/86400, (s%86400)/3600
		if h == 0 {
			return fmt.Sprintf("%d d", days)
		}
		return fmt.Sprintf("%d d %d h", days, h)
	}
}

// ContainerLine reads "docker container, limits 1.5 CPUs, 512 MiB" for a
// host that is a container ("" otherwise); a limit that isn't set is left
// out.
func ContainerLine(runtime string, cpuLimit float64, memLimit uint64) string {
	if runtime == "" {
		return ""
	}
	var limits []string
	if cpuLimit > 0 {
		limits = append(limits, strconv.FormatFloat(cpuLimit, 'f', -1, 64)+" CPUs")
	}
	if memLimit > 0 {
		limits = append(limits, binaryBytes(memLimit))
	}
	line := runtime + " container"
	if len(limits) > 0 {
		line += ", limits " + strings.Join(limits, ", ")
	}
	return line
}

// binaryBytes writes a size with the largest binary unit that keeps it at
// 1 or more: 512 MiB, 1.5 GiB.
func binaryBytes(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v, i = v/1024, i+1
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + " " + units[i]
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
