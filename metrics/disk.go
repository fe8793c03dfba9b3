package metrics

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v3/disk"
)

// diskRates are per-second rates; JSON keys are shared by the totals and by
// each device. A rate is null when the counters gave no trustworthy one for
// the tick (see rateOf); a total is null when a rate it sums is.
type diskRates struct {
	ReadBps   maybe `json:"read_bps"`
	WriteBps  maybe `json:"write_bps"`
	ReadIops  maybe `json:"read_iops"`
	WriteIops maybe `json:"write_iops"`
}

// zeroDiskRates is what a device reports on its first tick.
var zeroDiskRates = diskRates{some(0), some(0), some(0), some(0)}

// fsUsage is one mounted filesystem. Sizes are null when statfs failed (a
// mount that went away between refreshes, permissions) or has not answered
// yet. Stale is set while the mount's statfs does not answer within
// statfsDeadline; the sizes are then its last answer's.
type fsUsage struct {
	Mount  string  `json:"mount"`
	Fstype string  `json:"fstype"`
	Total  *uint64 `json:"total"`
	Used   *uint64 `json:"used"`
	// Avail is what unprivileged users may still write (statfs bavail):
	// less than total - used by the blocks reserved for root, and what
	// `df` shows as Avail and bases its Use% on.
	Avail   *uint64  `json:"avail"`
	Percent *float64 `json:"percent"`
	Stale   bool     `json:"stale,omitempty"`
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

// diskState follows one device's counters.
type diskState struct {
	rb, wb, rc, wc counter
}

func newDiskState(c disk.IOCountersStat) *diskState {
	return &diskState{counter{last: c.ReadBytes}, counter{last: c.WriteBytes}, counter{last: c.ReadCount}, counter{last: c.WriteCount}}
}

// diskMaxBytesPerSec bounds one block device: 2^36 B/s (about 69 GB/s) is
// more than a PCIe 5.0 x16 link carries (about 63 GB/s), the widest slot a
// single device, an NVMe drive or a RAID controller's volume, sits in; the
// fastest NVMe drives sold move about 15 GB/s. A counter read wrong (a
// baseline of 0 under a counter of terabytes) is far beyond it.
const diskMaxBytesPerSec = 1 << 36

// diskMaxIOPS bounds a device's I/O rate: every I/O moves at least one
// 512-byte sector.
const diskMaxIOPS = diskMaxBytesPerSec / 512

// diskIORates computes per-device rates from a new sample, secs after the
// last, and their total. state holds each device's counters from the earlier
// samples and is updated: a device new in cur reports 0 for this tick; one
// missing from cur is dropped. A rate more than a device can do is null
// (see rateOf) and counted in implausible.
func diskIORates(state map[string]*diskState, cur map[string]disk.IOCountersStat, secs float64) (total diskRates, devices map[string]diskRates, implausible int) {
	total = zeroDiskRates
	devices = make(map[string]diskRates, len(cur))
	for name, c := range cur {
		r := zeroDiskRates
		if st, ok := state[name]; ok {
			r = diskRates{
				ReadBps:   st.rb.rate(c.ReadBytes, secs, diskMaxBytesPerSec, &implausible),
				WriteBps:  st.wb.rate(c.WriteBytes, secs, diskMaxBytesPerSec, &implausible),
				ReadIops:  st.rc.rate(c.ReadCount, secs, diskMaxIOPS, &implausible),
				WriteIops: st.wc.rate(c.WriteCount, secs, diskMaxIOPS, &implausible),
			}
		} else {
			state[name] = newDiskState(c)
		}
		devices[name] = r
		total = diskRates{
			total.ReadBps.plus(r.ReadBps), total.WriteBps.plus(r.WriteBps),
			total.ReadIops.plus(r.ReadIops), total.WriteIops.plus(r.WriteIops),
		}
	}
	for name := range state {
		if _, ok := cur[name]; !ok {
			delete(state, name)
		}
	}
	total = diskRates{total.ReadBps.rounded(), total.WriteBps.rounded(), total.ReadIops.rounded(), total.WriteIops.rounded()}
	return total, devices, implausible
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
// statfs can block for minutes on an unreachable server: it no longer
// stalls the sampler (see fsSizes), but such a mount would then be shown
// stale, and their sizes are the server's, not this host's.
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

// fsReading turns one statfs result (nil sizes if it failed or none came
// yet) into a filesystem entry.
func fsReading(p disk.PartitionStat, r fsResult) fsUsage {
	f := fsUsage{Mount: p.Mountpoint, Fstype: p.Fstype, Stale: r.stale}
	if u := r.usage; u != nil {
		total, used, avail, pct := u.Total, u.Used, u.Free, round2(u.UsedPercent)
		f.Total, f.Used, f.Avail, f.Percent = &total, &used, &avail, &pct
	}
	return f
}

// diskCollector reports I/O rates of physical disks and usage of mounted
// filesystems. The device and mount lists are read at start and every
// refreshTicks ticks; the counters every tick, and the sizes every tick by
// sizes, off the sampling path. It is an io.Closer: see Close.
type diskCollector struct {
	env   hostEnv
	log   *onceLog
	sizes *fsSizes
	implausibleCount
	lastRaw

	sinceRefresh int
	// devices are the physical disks to count; all is true when sysfs could
	// not be read (not Linux, or no /sys), and every non-virtual device
	// gopsutil reports is counted instead.
	devices []string
	all     bool
	mounts  []disk.PartitionStat

	state  map[string]*diskState
	primed bool
	prevAt time.Time
}

func newDiskCollector(env hostEnv, log *slog.Logger) *diskCollector {
	return &diskCollector{env: env, log: newOnceLog(log), sizes: newFSSizes(env.ctx, env.statfs),
		sinceRefresh: refreshTicks, state: make(map[string]*diskState)}
}

// Close waits for the statfs calls in flight, each until it answers or
// passes statfsDeadline, and starts no more. A call past its deadline is
// left blocked in the kernel (it can't be interrupted) and logged; it ends
// when its mount answers or is unmounted by force. Call it after the last
// Collect; a Collect after Close reports the last known sizes.
func (c *diskCollector) Close() error {
	logStuck(c.log.log, c.sizes.close())
	return nil
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

	parts, err := c.partitions()
	if err != nil {
		// Keep the last good list: a transient mountinfo read error should
		// not blank the filesystem bars for a minute.
		c.log.debug("partitions", "list filesystems", "err", err)
		return
	}
	c.mounts = realFilesystems(parts)
}

// partitions lists the mounted filesystems. On Linux it reads mountinfo
// itself: gopsutil decodes the kernel's escapes with strconv.Unquote, which
// gives up on a whole mount point as soon as it holds a double quote, and
// then the mount point is statted under its escaped name and has no sizes.
// As gopsutil does, it prefers init's mount table (the host's, where
// HostProc is the host's /proc) to this process's, and leaves out devices
// named "none" and filesystem types /proc/filesystems marks nodev (but
// zfs).
func (c *diskCollector) partitions() ([]disk.PartitionStat, error) {
	if runtime.GOOS != "linux" {
		return disk.PartitionsWithContext(c.env.ctx, false)
	}
	fsTypes, err := os.ReadFile(filepath.Join(c.env.proc, "filesystems"))
	if err != nil {
		return nil, fmt.Errorf("list filesystem types: %w", err)
	}
	for _, src := range []struct {
		path  string
		parse func(string) []disk.PartitionStat
	}{
		{filepath.Join(c.env.proc, "1", "mountinfo"), parseMountinfo},
		{filepath.Join(c.env.proc, "self", "mountinfo"), parseMountinfo},
		// Kernels before 2.6.26 have no mountinfo.
		{filepath.Join(c.env.proc, "self", "mounts"), parseMounts},
	} {
		b, err := os.ReadFile(src.path)
		if err != nil {
			continue
		}
		return blockFilesystems(src.parse(string(b)), parseFilesystems(string(fsTypes))), nil
	}
	return nil, errors.New("list filesystems: no readable mountinfo or mounts under " + c.env.proc)
}

// parseMountinfo reads the mounts of a /proc/<pid>/mountinfo file:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// The optional fields before "-" vary in number; the mount point is the
// fifth field, the type and source the two after "-".
func parseMountinfo(text string) []disk.PartitionStat {
	var out []disk.PartitionStat
	for line := range strings.Lines(text) {
		fields := strings.Fields(line)
		sep := slices.Index(fields, "-")
		if sep < 5 || len(fields) < sep+3 {
			continue
		}
		out = append(out, disk.PartitionStat{
			Device:     unescapeMount(fields[sep+2]),
			Mountpoint: unescapeMount(fields[4]),
			Fstype:     fields[sep+1],
		})
	}
	return out
}

// parseMounts reads the mounts of a /proc/mounts file: source, mount
// point, type, options.
func parseMounts(text string) []disk.PartitionStat {
	var out []disk.PartitionStat
	for line := range strings.Lines(text) {
		fields := strings.Fields(line)
		if len(fields) < 3 {
			continue
		}
		out = append(out, disk.PartitionStat{
			Device:     unescapeMount(fields[0]),
			Mountpoint: unescapeMount(fields[1]),
			Fstype:     fields[2],
		})
	}
	return out
}

// unescapeMount decodes the escapes the kernel writes in mount tables:
// space, tab, newline and backslash become a backslash and three octal
// digits (\040, \011, \012, \134) so that fields stay space-separated.
// Every other byte is written as it is, quotes and non-ASCII included, and
// a backslash not followed by three octal digits is kept.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// parseFilesystems lists the types in /proc/filesystems that need a block
// device, plus zfs, which is marked nodev but holds data on disks.
func parseFilesystems(text string) map[string]bool {
	types := make(map[string]bool)
	for line := range strings.Lines(text) {
		nodev, name, ok := strings.Cut(strings.TrimRight(line, "\n"), "\t")
		if !ok {
			continue
		}
		if nodev == "" || name == "zfs" {
			types[name] = true
		}
	}
	return types
}

// blockFilesystems keeps the mounts of the given types with a named source.
func blockFilesystems(parts []disk.PartitionStat, types map[string]bool) []disk.PartitionStat {
	out := parts[:0]
	for _, p := range parts {
		if p.Device != "none" && types[p.Fstype] {
			out = append(out, p)
		}
	}
	return out
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
	c.start(cur, c.env.now())
}

// start makes cur the baseline of the next Collect.
func (c *diskCollector) start(cur map[string]disk.IOCountersStat, now time.Time) {
	clear(c.state)
	for name, v := range cur {
		c.state[name] = newDiskState(v)
	}
	c.primed, c.prevAt = true, now
}

func (c *diskCollector) Collect(t time.Time) ([]byte, error) {
	c.refresh()
	cur, err := c.counters()
	if err != nil {
		return nil, err
	}
	now := c.env.now()
	if !c.primed {
		c.start(cur, now)
		return nil, errNoBaseline
	}
	total, devices, implausible := diskIORates(c.state, cur, now.Sub(c.prevAt).Seconds())
	c.add(implausible)
	c.prevAt = now

	p := diskPayload{
		T:           t.UnixMilli(),
		diskRates:   total,
		Devices:     devices,
		Filesystems: make([]fsUsage, 0, len(c.mounts)),
	}
	points := make([]string, len(c.mounts))
	for i, m := range c.mounts {
		points[i] = m.Mountpoint
	}
	sizes := c.sizes.read(points)
	for i, r := range sizes {
		m := c.mounts[i]
		switch {
		case r.stale:
			c.log.logf(slog.LevelWarn, "stale:"+m.Mountpoint, "statfs is not answering: reporting the mount as stale",
				"mount", m.Mountpoint, "deadline", c.sizes.deadline)
		case r.err != nil:
			c.log.debug("statfs:"+m.Mountpoint, "statfs failed: reporting its sizes as null",
				"mount", m.Mountpoint, "err", r.err)
		}
		p.Filesystems = append(p.Filesystems, fsReading(m, r))
	}
	c.keepRaw(t, cur, sizes)
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode disk reading: %w", err)
	}
	return b, nil
}
