package metrics

import (
	"cmp"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v3/disk"
)

// diskRates are per-second rates; JSON keys are shared by the totals and by
// each device.
type diskRates struct {
	ReadBps   float64 `json:"read_bps"`
	WriteBps  float64 `json:"write_bps"`
	ReadIops  float64 `json:"read_iops"`
	WriteIops float64 `json:"write_iops"`
}

// fsUsage is one mounted filesystem. Sizes are null when statfs failed this
// tick (a mount that went away between refreshes, permissions).
type fsUsage struct {
	Mount   string   `json:"mount"`
	Fstype  string   `json:"fstype"`
	Total   *uint64  `json:"total"`
	Used    *uint64  `json:"used"`
	Percent *float64 `json:"percent"`
}

// diskPayload is the JSON of the disk topic. The totals are summed over
// physical whole disks only: partitions would count the same I/O twice,
// and device-mapper, md, loop and zram devices count I/O that also reaches a
// physical disk (or never does).
type diskPayload struct {
	T int64 `json:"t"`
	diskRates
	Devices     map[string]diskRates `json:"devices"`
	Filesystems []fsUsage            `json:"filesystems"`
}

// diskIORates computes per-device and total rates between two samples dt
// seconds apart. A device missing from prev reports 0 for this tick; one
// missing from cur is dropped.
func diskIORates(prev, cur map[string]disk.IOCountersStat, dt float64) (diskRates, map[string]diskRates) {
	var total diskRates
	devices := make(map[string]diskRates, len(cur))
	for name, c := range cur {
		var r diskRates
		if p, ok := prev[name]; ok {
			r = diskRates{
				ReadBps:   perSecond(p.ReadBytes, c.ReadBytes, dt),
				WriteBps:  perSecond(p.WriteBytes, c.WriteBytes, dt),
				ReadIops:  perSecond(p.ReadCount, c.ReadCount, dt),
				WriteIops: perSecond(p.WriteCount, c.WriteCount, dt),
			}
		}
		devices[name] = r
		total.ReadBps += r.ReadBps
		total.WriteBps += r.WriteBps
		total.ReadIops += r.ReadIops
		total.WriteIops += r.WriteIops
	}
	total = diskRates{
		ReadBps:   round2(total.ReadBps),
		WriteBps:  round2(total.WriteBps),
		ReadIops:  round2(total.ReadIops),
		WriteIops: round2(total.WriteIops),
	}
	return total, devices
}

// virtualDiskName reports whether a block device name is one that is never
// a physical disk, whatever sysfs says.
func virtualDiskName(name string) bool {
	for _, prefix := range []string{"loop", "ram", "zram", "dm-", "md", "nbd"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// physicalDisks lists the whole physical disks under sysRoot/block: on Linux
// a real disk has a "device" link to its bus device, which partitions (they
// are not in /sys/block at all), loop, ram, zram, dm-* and md devices lack.
func physicalDisks(sysRoot string) ([]string, error) {
	dir := filepath.Join(sysRoot, "block")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list block devices: %w", err)
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if virtualDiskName(name) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, name, "device")); err == nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// skipFstype reports whether a filesystem type is not worth a usage bar:
// pseudo and in-memory filesystems, read-only images that are always full,
// overlays that repeat the disk under them, and network filesystems, whose
// statfs can block for minutes on an unreachable server and would stall the
// whole sampler.
func skipFstype(fstype string) bool {
	switch fstype {
	case "tmpfs", "devtmpfs", "ramfs", "overlay", "aufs", "squashfs", "iso9660", "udf",
		"proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "debugfs", "tracefs",
		"securityfs", "pstore", "bpf", "autofs", "fusectl", "configfs", "hugetlbfs",
		"nsfs", "rpc_pipefs", "binfmt_misc", "efivarfs", "selinuxfs", "nfsd",
		"nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs", "9p", "afs", "davfs":
		return true
	}
	// fuse.<name> are user-space filesystems (sshfs, lxcfs, gvfs, rclone):
	// mostly pseudo or remote. fuseblk (ntfs-3g, exfat on a disk) is kept.
	return strings.HasPrefix(fstype, "fuse.") || fstype == "fuse"
}

// realFilesystems picks the mounts worth reporting from disk.Partitions:
// real filesystem types, one mount per device. A device mounted more than
// once (bind mounts, btrfs subvolumes) shares one capacity, so only its
// shortest mountpoint is kept ("/" rather than "/var/lib/docker/..."). The
// result is sorted by mountpoint.
func realFilesystems(parts []disk.PartitionStat) []disk.PartitionStat {
	byDevice := make(map[string]disk.PartitionStat, len(parts))
	for _, p := range parts {
		if skipFstype(p.Fstype) || p.Mountpoint == "" {
			continue
		}
		key := p.Device
		if key == "" || key == "none" {
			key = p.Mountpoint // no device to deduplicate on
		}
		if old, ok := byDevice[key]; ok && len(old.Mountpoint) <= len(p.Mountpoint) {
			continue
		}
		byDevice[key] = p
	}
	out := make([]disk.PartitionStat, 0, len(byDevice))
	for _, p := range byDevice {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b disk.PartitionStat) int { return cmp.Compare(a.Mountpoint, b.Mountpoint) })
	return out
}

// fsReading turns one statfs result (nil if it failed) into a filesystem
// entry.
func fsReading(p disk.PartitionStat, u *disk.UsageStat) fsUsage {
	f := fsUsage{Mount: p.Mountpoint, Fstype: p.Fstype}
	if u != nil {
		total, used, pct := u.Total, u.Used, round2(u.UsedPercent)
		f.Total, f.Used, f.Percent = &total, &used, &pct
	}
	return f
}

// diskCollector reports I/O rates of physical disks and usage of mounted
// filesystems. The device and mount lists are read at start and every
// refreshTicks ticks; the counters and statfs every tick.
type diskCollector struct {
	env hostEnv
	log *onceLog

	sinceRefresh int
	// devices are the physical disks to count; all is true when sysfs could
	// not be read (not Linux, or no /sys), and every non-virtual device
	// gopsutil reports is counted instead.
	devices []string
	all     bool
	mounts  []disk.PartitionStat

	prev   map[string]disk.IOCountersStat
	prevAt time.Time
}

func newDiskCollector(env hostEnv, log *slog.Logger) *diskCollector {
	return &diskCollector{env: env, log: newOnceLog(log), sinceRefresh: refreshTicks}
}

func (c *diskCollector) Topic() string { return topicDisk }

// refresh re-reads the device and mount lists when they are due.
func (c *diskCollector) refresh() {
	if c.sinceRefresh < refreshTicks {
		c.sinceRefresh++
		return
	}
	c.sinceRefresh = 1

	devices, err := physicalDisks(c.env.sys)
	if err != nil {
		c.log.debug("sysfs", "no sysfs: counting every non-virtual disk device", "err", err)
		c.devices, c.all = nil, true
	} else {
		c.devices, c.all = devices, false
	}

	parts, err := disk.PartitionsWithContext(c.env.ctx, false)
	if err != nil {
		// Keep the last good list: a transient mountinfo read error should
		// not blank the filesystem bars for a minute.
		c.log.debug("partitions", "list filesystems", "err", err)
		return
	}
	c.mounts = realFilesystems(parts)
}

// counters reads the I/O counters of the devices being counted.
func (c *diskCollector) counters() (map[string]disk.IOCountersStat, error) {
	if !c.all && len(c.devices) == 0 {
		// No names would mean "every device" to gopsutil.
		return map[string]disk.IOCountersStat{}, nil
	}
	got, err := disk.IOCountersWithContext(c.env.ctx, c.devices...)
	if err != nil {
		return nil, fmt.Errorf("read disk counters: %w", err)
	}
	if c.all {
		for name := range got {
			if virtualDiskName(name) {
				delete(got, name)
			}
		}
	}
	return got, nil
}

func (c *diskCollector) prime() {
	c.refresh()
	cur, err := c.counters()
	if err != nil {
		c.log.debug("prime", "prime disk collector", "err", err)
		return
	}
	c.prev, c.prevAt = cur, c.env.now()
}

func (c *diskCollector) Collect(t time.Time) ([]byte, error) {
	c.refresh()
	cur, err := c.counters()
	if err != nil {
		return nil, err
	}
	now := c.env.now()
	if c.prev == nil {
		c.prev, c.prevAt = cur, now
		return nil, errNoBaseline
	}
	total, devices := diskIORates(c.prev, cur, now.Sub(c.prevAt).Seconds())
	c.prev, c.prevAt = cur, now

	p := diskPayload{
		T:           t.UnixMilli(),
		diskRates:   total,
		Devices:     devices,
		Filesystems: make([]fsUsage, 0, len(c.mounts)),
	}
	for _, m := range c.mounts {
		u, err := c.env.statfs(c.env.ctx, m.Mountpoint)
		if err != nil {
			c.log.debug("statfs:"+m.Mountpoint, "statfs failed: reporting its sizes as null",
				"mount", m.Mountpoint, "err", err)
			u = nil
		}
		p.Filesystems = append(p.Filesystems, fsReading(m, u))
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode disk reading: %w", err)
	}
	return b, nil
}
