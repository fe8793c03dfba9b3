package containers

import (
	"bytes"
	"path"
	"strings"

	"vitals/metrics/internal/kfile"
)

// Kinds of cgroup the topic reports.
const (
	KindDocker     = "docker"
	KindPodman     = "podman"
	KindContainerd = "containerd"
	KindLXC        = "lxc"
	KindService    = "service"
)

// classify tells whether the cgroup at rel (a path from the hierarchy root,
// starting with "/") is a container or a systemd service, and if so its
// kind and id (the runtime's container id, or the LXC or unit name). It
// knows the paths of the systemd and cgroupfs drivers of each runtime:
//
//	/system.slice/docker-<id>.scope       /docker/<id>
//	/machine.slice/libpod-<id>.scope      /libpod_parent/libpod-<id>
//	/…/cri-containerd-<id>.scope          /kubepods/…/pod<uid>/<id>
//	/…/crio-<id>.scope
//	/lxc.payload.<name>  /lxc.payload/<name>  /lxc/<name>
//	/system.slice/<unit>.service
func classify(rel string) (kind, id string, ok bool) {
	base := path.Base(rel)
	parent := path.Base(path.Dir(rel))
	if id, ok := scopeID(base, "docker-"); ok {
		return KindDocker, id, true
	}
	if id, ok := scopeID(base, "libpod-"); ok {
		return KindPodman, id, true
	}
	if id, ok := scopeID(base, "cri-containerd-"); ok {
		return KindContainerd, id, true
	}
	if id, ok := scopeID(base, "crio-"); ok {
		return KindContainerd, id, true
	}
	switch {
	case parent == "docker" && isContainerID(base):
		return KindDocker, base, true
	case parent == "libpod_parent" && strings.HasPrefix(base, "libpod-") && isContainerID(base[len("libpod-"):]):
		return KindPodman, base[len("libpod-"):], true
	case strings.Contains(rel, "/kubepods") && strings.HasPrefix(parent, "pod") && isContainerID(base):
		return KindContainerd, base, true
	case strings.HasPrefix(base, "lxc.payload.") && len(base) > len("lxc.payload."):
		return KindLXC, base[len("lxc.payload."):], true
	case (parent == "lxc.payload" || parent == "lxc") && path.Dir(path.Dir(rel)) == "/" && !strings.HasPrefix(base, "lxc.monitor"):
		return KindLXC, base, true
	case strings.HasSuffix(base, ".service") && len(base) > len(".service"):
		return KindService, strings.TrimSuffix(base, ".service"), true
	}
	return "", "", false
}

// scopeID matches "<prefix><64 hex>.scope".
func scopeID(base, prefix string) (string, bool) {
	if !strings.HasPrefix(base, prefix) || !strings.HasSuffix(base, ".scope") {
		return "", false
	}
	id := base[len(prefix) : len(base)-len(".scope")]
	return id, isContainerID(id)
}

// isContainerID reports whether s is a 64-digit lower-case hex id, as
// Docker, Podman and containerd generate them.
func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// keyValue returns the value of the "key value" line in a flat-keyed
// cgroup file (cpu.stat, memory.stat).
func keyValue(b []byte, key string) (uint64, bool) {
	for line := range bytes.Lines(b) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(line) > len(key) && line[len(key)] == ' ' && string(line[:len(key)]) == key {
			n, err := kfile.ParseUint(line[len(key)+1:])
			return n, err == nil
		}
	}
	return 0, false
}

// parseIOStat sums rbytes and wbytes over the devices of a v2 io.stat:
//
//	8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0
func parseIOStat(b []byte) (read, write uint64) {
	for _, f := range bytes.Fields(b) {
		k, v, ok := bytes.Cut(f, []byte("="))
		if !ok {
			continue
		}
		n, err := kfile.ParseUint(v)
		if err != nil {
			continue
		}
		switch string(k) {
		case "rbytes":
			read += n
		case "wbytes":
			write += n
		}
	}
	return read, write
}

// parseBlkio sums Read and Write over the devices of a v1
// blkio.throttle.io_service_bytes:
//
//	8:0 Read 4096
//	8:0 Write 0
//	Total 4096
func parseBlkio(b []byte) (read, write uint64) {
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) != 3 {
			continue
		}
		n, err := kfile.ParseUint(f[2])
		if err != nil {
			continue
		}
		switch string(f[1]) {
		case "Read":
			read += n
		case "Write":
			write += n
		}
	}
	return read, write
}

// parseNetDev sums received and transmitted bytes over the interfaces of a
// /proc/<pid>/net/dev, leaving out loopback (traffic inside the container
// that never crosses its boundary).
func parseNetDev(b []byte) (rx, tx uint64, ok bool) {
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		name, rest, found := bytes.Cut(line, []byte(":"))
		if !found {
			continue
		}
		if string(bytes.TrimSpace(name)) == "lo" {
			ok = true
			continue
		}
		f := bytes.Fields(rest)
		if len(f) < 9 {
			continue
		}
		r, err1 := kfile.ParseUint(f[0])
		t, err2 := kfile.ParseUint(f[8])
		if err1 != nil || err2 != nil {
			continue
		}
		rx, tx, ok = rx+r, tx+t, true
	}
	return rx, tx, ok
}

// memUsed is memory as `docker stats` counts it: the cgroup's usage minus
// its inactive file cache, which the kernel reclaims first and which would
// otherwise make every container that reads files look full.
func memUsed(usage, inactiveFile uint64) uint64 {
	if inactiveFile > usage {
		return 0
	}
	return usage - inactiveFile
}

// unlimitedV1 is the smallest memory.limit_in_bytes treated as "no limit":
// v1 reports the page counter's maximum (9223372036854771712 on 4 KiB
// pages), not a keyword.
const unlimitedV1 = 1 << 62

// parseLimit reads memory.max (v2: a number or "max") or
// memory.limit_in_bytes (v1: a huge number); ok is false for no limit.
func parseLimit(b []byte) (uint64, bool) {
	n, err := kfile.ParseUint(b)
	if err != nil || n >= unlimitedV1 {
		return 0, false
	}
	return n, true
}

// cpuPercent is CPU time used over an interval as a percentage of one core
// (as `docker stats` shows it: a container using two full cores shows 200).
func cpuPercent(prevNs, curNs uint64, dt float64) float64 {
	if curNs < prevNs || dt <= 0 {
		return 0
	}
	return kfile.Round2(float64(curNs-prevNs) / (dt * 1e9) * 100)
}
