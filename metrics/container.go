package metrics

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// containerInfo is what vitals knows of the container it runs in, when the
// machine it watches is one: the runtime, and the limits of its cgroup.
//
// "The machine it watches" is the one behind the /proc root: a vitals in a
// container that is given the host's /proc (HOST_PROC=/host/proc) watches
// the host, whose init is not in a container, and reports no container.
type containerInfo struct {
	// runtime names the container manager: docker, podman, kubernetes,
	// containerd, lxc, systemd-nspawn, or the value of init's container=
	// variable. "" outside a container.
	runtime string
	// cpuLimit is the CPUs the container may use: its CFS quota over its
	// period, or its cpuset's size, whichever is smaller. 0 when neither
	// limits it.
	cpuLimit float64
	// memory reads the container's memory use against its limit; nil when
	// no memory limit is set.
	memory *cgroupMemory
}

// cgroupMemory reads a cgroup's memory limit and use.
type cgroupMemory struct {
	limit uint64 // bytes
	// usage and stat are the cgroup's memory.current and memory.stat (v2)
	// or memory.usage_in_bytes and memory.stat (v1).
	usage, stat string
	v1          bool
}

// unlimitedMemory: cgroup v1 writes "no limit" as the largest page-aligned
// int64 (9223372036854771712); anything at or above 2^60 bytes is no limit
// on any real machine.
const unlimitedMemory = 1 << 60

// detectContainer looks for the signs each runtime leaves (in the order
// systemd-detect-virt trusts them: init's container= variable, then the
// marker files, then cgroup paths) and, inside a container, reads its
// limits. It only reads files, a handful at start, and never fails: what
// it can't read it leaves out.
func detectContainer(env hostEnv) containerInfo {
	root := filepath.Dir(filepath.Clean(env.proc)) // "/" for /proc
	read := func(dir, file string) string {
		if dir == "" {
			return ""
		}
		b, _ := os.ReadFile(filepath.Join(dir, file))
		return string(b)
	}
	var c containerInfo
	cgroups := read(filepath.Join(env.proc, "1"), "cgroup")
	c.runtime = containerRuntime(read(filepath.Join(env.proc, "1"), "environ"), cgroups,
		fileExists(filepath.Join(root, ".dockerenv")), fileExists(filepath.Join(root, "run", ".containerenv")))
	if c.runtime == "" {
		return c
	}
	// The limits that bind vitals are those of its own cgroup.
	self := read(filepath.Join(env.proc, "self"), "cgroup")
	if self == "" {
		self = cgroups
	}
	v2Path, v1Paths := parseCgroupPaths(self)
	base := filepath.Join(env.sys, "fs", "cgroup")
	if fileExists(filepath.Join(base, "cgroup.controllers")) {
		dir := cgroupDir(base, v2Path, "memory.max")
		c.cpuLimit = cpuLimit(parseCPUMax(read(cgroupDir(base, v2Path, "cpu.max"), "cpu.max")),
			cpusetSize(read(cgroupDir(base, v2Path, "cpuset.cpus.effective"), "cpuset.cpus.effective")))
		if limit := parseMemoryLimit(read(dir, "memory.max")); limit > 0 {
			c.memory = &cgroupMemory{limit: limit,
				usage: filepath.Join(dir, "memory.current"), stat: filepath.Join(dir, "memory.stat")}
		}
		return c
	}
	// v1 mounts each controller on its own, the CPU one under one of
	// three names.
	v1 := func(controller, file string) string {
		mounts := []string{controller}
		if controller == "cpu" {
			mounts = []string{"cpu", "cpu,cpuacct", "cpuacct,cpu"}
		}
		for _, m := range mounts {
			if dir := filepath.Join(base, m); fileExists(dir) {
				return cgroupDir(dir, v1Paths[controller], file)
			}
		}
		return ""
	}
	quota := read(v1("cpu", "cpu.cfs_quota_us"), "cpu.cfs_quota_us")
	period := read(v1("cpu", "cpu.cfs_period_us"), "cpu.cfs_period_us")
	c.cpuLimit = cpuLimit(parseCFSQuota(quota, period), cpusetSize(read(v1("cpuset", "cpuset.cpus"), "cpuset.cpus")))
	if dir := v1("memory", "memory.limit_in_bytes"); dir != "" {
		if limit := parseMemoryLimit(read(dir, "memory.limit_in_bytes")); limit > 0 {
			c.memory = &cgroupMemory{limit: limit, v1: true,
				usage: filepath.Join(dir, "memory.usage_in_bytes"), stat: filepath.Join(dir, "memory.stat")}
		}
	}
	return c
}

// cgroupDir is where a cgroup's file is: under its path in the hierarchy
// when that is mounted whole (no cgroup namespace), else at the mount's
// root, which is the container's own cgroup when the runtime mounts only
// that (a cgroup namespace, or Docker's v1 bind mounts).
func cgroupDir(base, path, file string) string {
	if path != "" && path != "/" {
		if dir := filepath.Join(base, path); fileExists(filepath.Join(dir, file)) {
			return dir
		}
	}
	return base
}

// containerRuntime names the container from init's environment
// (NUL-separated, as /proc/1/environ holds it), its cgroup paths and the
// marker files Docker and Podman create. "" when none says container.
func containerRuntime(environ, cgroups string, dockerenv, containerenv bool) string {
	for _, kv := range strings.Split(environ, "\x00") {
		if v, ok := strings.CutPrefix(kv, "container="); ok && v != "" {
			return v // lxc, podman, systemd-nspawn, docker (some images), oci
		}
	}
	switch {
	case containerenv:
		return "podman"
	case dockerenv:
		return "docker"
	}
	for line := range strings.Lines(cgroups) {
		switch {
		case strings.Contains(line, "/kubepods"):
			return "kubernetes"
		case strings.Contains(line, "/docker/"), strings.Contains(line, "/docker-"):
			return "docker"
		case strings.Contains(line, "/libpod-"):
			return "podman"
		case strings.Contains(line, "/lxc/"), strings.Contains(line, "/lxc.payload"):
			return "lxc"
		case strings.Contains(line, "/containerd/"):
			return "containerd"
		}
	}
	return ""
}

// parseCgroupPaths reads /proc/<pid>/cgroup: "0::<path>" is the v2
// (unified) path, "N:<controllers>:<path>" lines give each v1 controller's
// path.
func parseCgroupPaths(text string) (v2 string, v1 map[string]string) {
	v1 = map[string]string{}
	for line := range strings.Lines(text) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2 = parts[2]
			continue
		}
		for _, ctl := range strings.Split(parts[1], ",") {
			v1[ctl] = parts[2]
		}
	}
	return v2, v1
}

// parseCPUMax reads cgroup v2's cpu.max, "<quota> <period>" in µs or
// "max <period>": the CPUs the quota allows, 0 for no limit.
func parseCPUMax(text string) float64 {
	f := strings.Fields(text)
	if len(f) != 2 {
		return 0
	}
	return parseCFSQuota(f[0], f[1])
}

// parseCFSQuota divides a CFS quota by its period (cgroup v1 writes -1 for
// no quota). 0 for no limit.
func parseCFSQuota(quota, period string) float64 {
	q, err1 := strconv.ParseFloat(strings.TrimSpace(quota), 64)
	p, err2 := strconv.ParseFloat(strings.TrimSpace(period), 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0
	}
	return q / p
}

// cpusetSize counts the CPUs of a cpuset list such as "0-3,8,10-11".
func cpusetSize(text string) int {
	n := 0
	for _, r := range strings.Split(strings.TrimSpace(text), ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				continue
			}
		}
		n += b - a + 1
	}
	return n
}

// cpuLimit is the smaller of a quota's CPUs and a cpuset's size, ignoring
// whichever is 0 (no limit).
func cpuLimit(quota float64, cpuset int) float64 {
	switch {
	case quota == 0:
		return float64(cpuset)
	case cpuset == 0:
		return quota
	}
	return min(quota, float64(cpuset))
}

// parseMemoryLimit reads memory.max ("max" for none) or
// memory.limit_in_bytes; 0 for no limit.
func parseMemoryLimit(text string) uint64 {
	v, err := strconv.ParseUint(strings.TrimSpace(text), 10, 64)
	if err != nil || v >= unlimitedMemory {
		return 0
	}
	return v
}

// read returns the cgroup's memory in use as `docker stats` counts it: the
// usage less the inactive file cache, which the kernel drops first under
// the limit; and its file cache (the "cached" figure). ok is false when
// the files can't be read.
func (m *cgroupMemory) read() (used, cache uint64, ok bool) {
	u, err := os.ReadFile(m.usage)
	if err != nil {
		return 0, 0, false
	}
	usage, err := strconv.ParseUint(string(bytes.TrimSpace(u)), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	s, _ := os.ReadFile(m.stat)
	inactive, file := parseCgroupMemoryStat(string(s), m.v1)
	return usage - min(inactive, usage), file, true
}

// parseCgroupMemoryStat picks the inactive file cache and the whole file
// cache from memory.stat: inactive_file and file (v2), or
// total_inactive_file and total_cache (v1, counting child cgroups).
func parseCgroupMemoryStat(text string, v1 bool) (inactiveFile, file uint64) {
	inactiveKey, fileKey := "inactive_file", "file"
	if v1 {
		inactiveKey, fileKey = "total_inactive_file", "total_cache"
	}
	for line := range strings.Lines(text) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case inactiveKey:
			inactiveFile = n
		case fileKey:
			file = n
		}
	}
	return inactiveFile, file
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// containerMemory restates a memory reading of the host's /proc/meminfo
// for a container with a memory limit, as `docker stats` and LXCFS-backed
// tools show it: total is the limit (or the host's memory when that is
// smaller), used is the cgroup's use less its inactive file cache, and
// available is what is left of the limit. Swap stays the host's.
func containerMemory(host memoryPayload, limit, used, cache uint64) memoryPayload {
	total := limit
	if host.Total > 0 {
		total = min(limit, host.Total)
	}
	used = min(used, total)
	p := host
	p.Total, p.Used, p.Available = total, used, total-used
	p.Cached, p.Buffers = min(cache, total), 0
	p.Percent = percentOf(float64(used), float64(total))
	return p
}
