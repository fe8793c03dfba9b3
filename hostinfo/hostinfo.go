package hostinfo

import "time"

// Info describes a host. The machine's own fields don't change while its
// vitals runs.
type Info struct {
	Hostname, OS, Platform, PlatformVersion, Kernel, Arch string
	CPUs                                                  int
	BootTime                                              time.Time // zero when unknown
	// Interval and Retention are the host's own sampling settings; zero
	// means unknown, and a server then takes its own.
	Interval, Retention time.Duration
	// Container names the runtime when the host is a container (docker,
	// podman, kubernetes, containerd, lxc, systemd-nspawn...); "" for a
	// machine. CPULimit (CPUs, fractional) and MemoryLimit (bytes) are its
	// cgroup's limits, 0 when not limited; the memory topic then reports
	// against MemoryLimit.
	Container   string
	CPULimit    float64
	MemoryLimit uint64
}

// Desc is a host's description as JSON. The name is not part of it: hello
// calls it "host", /api/hosts and a Redis record "name".
type Desc struct {
	OS              string `json:"os"`
	Platform        string `json:"platform"`
	PlatformVersion string `json:"platform_version"`
	Kernel          string `json:"kernel"`
	Arch            string `json:"arch"`
	CPUs            int    `json:"cpus"`
	BootTime        int64  `json:"boot_time"` // unix seconds, 0 when unknown
	// Omitted when zero: a Redis record keeps them beside its description,
	// and the handlers fill them from their own settings before they write
	// hello or /api/hosts.
	IntervalMS  int64 `json:"interval_ms,omitempty"`
	RetentionMS int64 `json:"retention_ms,omitempty"`
	// Only for a container: absent on a machine, and a limit is absent
	// when none is set.
	Container   string  `json:"container,omitempty"`
	CPULimit    float64 `json:"cpu_limit,omitempty"`
	MemoryLimit uint64  `json:"memory_limit,omitempty"`
}

// Desc returns i's JSON form.
func (i Info) Desc() Desc {
	d := Desc{OS: i.OS, Platform: i.Platform, PlatformVersion: i.PlatformVersion, Kernel: i.Kernel,
		Arch: i.Arch, CPUs: i.CPUs, IntervalMS: i.Interval.Milliseconds(), RetentionMS: i.Retention.Milliseconds(),
		Container: i.Container, CPULimit: i.CPULimit, MemoryLimit: i.MemoryLimit}
	if !i.BootTime.IsZero() {
		d.BootTime = i.BootTime.Unix()
	}
	return d
}

// Info is the host named name that d describes. A boot time that isn't
// after 1970 is unknown: earlier versions wrote an unknown one as the unix
// seconds of the zero time.Time, a large negative number.
func (d Desc) Info(name string) Info {
	i := Info{Hostname: name, OS: d.OS, Platform: d.Platform, PlatformVersion: d.PlatformVersion, Kernel: d.Kernel,
		Arch: d.Arch, CPUs: d.CPUs,
		Interval:  time.Duration(d.IntervalMS) * time.Millisecond,
		Retention: time.Duration(d.RetentionMS) * time.Millisecond,
		Container: d.Container, CPULimit: d.CPULimit, MemoryLimit: d.MemoryLimit}
	if d.BootTime > 0 {
		i.BootTime = time.Unix(d.BootTime, 0)
	}
	return i
}
