package metrics

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/shirou/gopsutil/v3/disk"
)

func TestDiskIORates(t *testing.T) {
	c := func(rb, wb, rc, wc uint64) disk.IOCountersStat {
		return disk.IOCountersStat{ReadBytes: rb, WriteBytes: wb, ReadCount: rc, WriteCount: wc}
	}
	dr := func(rb, wb, rc, wc float64) diskRates { return diskRates{some(rb), some(wb), some(rc), some(wc)} }
	tests := []struct {
		name            string
		prev, cur       map[string]disk.IOCountersStat
		dt              float64
		wantTotal       diskRates
		wantDevices     map[string]diskRates
		wantImplausible int
	}{
		{
			name:        "two disks summed",
			prev:        map[string]disk.IOCountersStat{"sda": c(0, 0, 0, 0), "nvme0n1": c(1000, 1000, 10, 10)},
			cur:         map[string]disk.IOCountersStat{"sda": c(4096, 8192, 1, 2), "nvme0n1": c(3000, 5000, 30, 50)},
			dt:          2,
			wantTotal:   dr(3048, 6096, 10.5, 21),
			wantDevices: map[string]diskRates{"sda": dr(2048, 4096, 0.5, 1), "nvme0n1": dr(1000, 2000, 10, 20)},
		},
		{
			name:        "a new disk reports 0 on its first tick",
			prev:        map[string]disk.IOCountersStat{"sda": c(0, 0, 0, 0)},
			cur:         map[string]disk.IOCountersStat{"sda": c(100, 0, 1, 0), "sdb": c(1<<40, 1<<40, 1e9, 1e9)},
			dt:          1,
			wantTotal:   dr(100, 0, 1, 0),
			wantDevices: map[string]diskRates{"sda": dr(100, 0, 1, 0), "sdb": dr(0, 0, 0, 0)},
		},
		{
			name:        "a removed disk is dropped",
			prev:        map[string]disk.IOCountersStat{"sda": c(0, 0, 0, 0), "sdb": c(0, 0, 0, 0)},
			cur:         map[string]disk.IOCountersStat{"sda": c(10, 10, 1, 1)},
			dt:          1,
			wantTotal:   dr(10, 10, 1, 1),
			wantDevices: map[string]diskRates{"sda": dr(10, 10, 1, 1)},
		},
		{
			name:        "counters that went backwards give 0, the rest still count",
			prev:        map[string]disk.IOCountersStat{"sda": c(5000, 100, 50, 5)},
			cur:         map[string]disk.IOCountersStat{"sda": c(10, 300, 1, 7)},
			dt:          1,
			wantTotal:   dr(0, 200, 0, 2),
			wantDevices: map[string]diskRates{"sda": dr(0, 200, 0, 2)},
		},
		{
			name:            "more than a disk can move is null, and so is the total",
			prev:            map[string]disk.IOCountersStat{"sda": c(0, 0, 0, 0), "sdb": c(0, 0, 0, 0)},
			cur:             map[string]disk.IOCountersStat{"sda": c(1<<50, 10, 1, 1), "sdb": c(10, 10, 1, 1)},
			dt:              1,
			wantTotal:       diskRates{maybe{}, some(20), some(2), some(2)},
			wantDevices:     map[string]diskRates{"sda": {maybe{}, some(10), some(1), some(1)}, "sdb": dr(10, 10, 1, 1)},
			wantImplausible: 1,
		},
		{
			name:        "zero elapsed is no rate",
			prev:        map[string]disk.IOCountersStat{"sda": c(0, 0, 0, 0)},
			cur:         map[string]disk.IOCountersStat{"sda": c(10, 10, 1, 1)},
			dt:          0,
			wantDevices: map[string]diskRates{"sda": {}},
		},
		{
			name:        "no disks",
			dt:          1,
			wantTotal:   dr(0, 0, 0, 0),
			wantDevices: map[string]diskRates{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := make(map[string]*diskState)
			for name, v := range tt.prev {
				state[name] = newDiskState(v)
			}
			total, devices, implausible := diskIORates(state, tt.cur, tt.dt)
			if total != tt.wantTotal {
				t.Errorf("total %+v, want %+v", total, tt.wantTotal)
			}
			if !reflect.DeepEqual(devices, tt.wantDevices) {
				t.Errorf("devices %+v, want %+v", devices, tt.wantDevices)
			}
			if implausible != tt.wantImplausible {
				t.Errorf("implausible = %d, want %d", implausible, tt.wantImplausible)
			}
			if len(state) != len(tt.cur) {
				t.Errorf("state keeps %d devices, want %d", len(state), len(tt.cur))
			}
		})
	}
}

func TestPhysicalDisks(t *testing.T) {
	sys := t.TempDir()
	// A whole disk has a device link; virtual devices do not, and the
	// name rule drops loop/zram even if some kernel grew one.
	for name, hasDevice := range map[string]bool{
		"sda": true, "nvme0n1": true, "vda": true, "mmcblk0": true,
		"loop0": true, "zram0": true, "ram0": false, "dm-0": false, "md127": false, "sr-fake": false,
	} {
		dir := filepath.Join(sys, "block", name)
		if hasDevice {
			dir = filepath.Join(dir, "device")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got, err := physicalDisks(sys)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"mmcblk0", "nvme0n1", "sda", "vda"}; !slices.Equal(got, want) {
		t.Errorf("physicalDisks = %v, want %v", got, want)
	}
	if _, err := physicalDisks(filepath.Join(sys, "missing")); err == nil {
		t.Error("physicalDisks of a missing sysfs: no error")
	}
}

func TestRealFilesystems(t *testing.T) {
	p := func(dev, mount, fstype string) disk.PartitionStat {
		return disk.PartitionStat{Device: dev, Mountpoint: mount, Fstype: fstype}
	}
	tests := []struct {
		name string
		in   []disk.PartitionStat
		want []string // mountpoints
	}{
		{
			name: "pseudo, overlay, squashfs, network and fuse mounts are skipped",
			in: []disk.PartitionStat{
				p("/dev/vda1", "/", "ext4"),
				p("tmpfs", "/run", "tmpfs"),
				p("overlay", "/var/lib/docker/overlay2/x/merged", "overlay"),
				p("/dev/loop3", "/snap/core/1", "squashfs"),
				p("server:/export", "/mnt/nfs", "nfs4"),
				p("sshfs#me@host:", "/mnt/ssh", "fuse.sshfs"),
				p("lxcfs", "/var/lib/lxcfs", "fuse.lxcfs"),
				p("/dev/sdb1", "/mnt/windows", "fuseblk"),
				p("/dev/vda15", "/boot/efi", "vfat"),
			},
			want: []string{"/", "/boot/efi", "/mnt/windows"},
		},
		{
			name: "a device mounted twice keeps its shortest mountpoint",
			in: []disk.PartitionStat{
				p("/dev/sda2", "/var/lib/docker", "btrfs"),
				p("/dev/sda2", "/", "btrfs"),
				p("/dev/sda2", "/home", "btrfs"),
				p("/dev/sdb1", "/data", "xfs"),
			},
			want: []string{"/", "/data"},
		},
		{
			name: "no device falls back to the mountpoint",
			in:   []disk.PartitionStat{p("", "/a", "ext4"), p("none", "/b", "ext4"), p("/dev/x", "", "ext4")},
			want: []string{"/a", "/b"},
		},
		{name: "nothing", in: nil, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []string{}
			for _, fs := range realFilesystems(tt.in) {
				got = append(got, fs.Mountpoint)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFsReading(t *testing.T) {
	part := disk.PartitionStat{Device: "/dev/vda1", Mountpoint: "/", Fstype: "ext4"}
	tests := []struct {
		name string
		in   fsResult
		want string
	}{
		{"statfs ok", fsResult{usage: &disk.UsageStat{Total: 1000, Used: 250, Free: 700, UsedPercent: 26.3157}},
			`{"mount":"/","fstype":"ext4","total":1000,"used":250,"avail":700,"percent":26.32}`},
		{"statfs failed is null", fsResult{err: errors.New("permission denied")},
			`{"mount":"/","fstype":"ext4","total":null,"used":null,"avail":null,"percent":null}`},
		{"stale keeps the last sizes", fsResult{usage: &disk.UsageStat{Total: 1000, Used: 250, Free: 750, UsedPercent: 25}, stale: true},
			`{"mount":"/","fstype":"ext4","total":1000,"used":250,"avail":750,"percent":25,"stale":true}`},
		{"stale before any answer is null", fsResult{stale: true},
			`{"mount":"/","fstype":"ext4","total":null,"used":null,"avail":null,"percent":null,"stale":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(fsReading(part, tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestDiskPayloadJSON(t *testing.T) {
	total, devices, _ := diskIORates(
		map[string]*diskState{"sda": newDiskState(disk.IOCountersStat{})},
		map[string]disk.IOCountersStat{"sda": {ReadBytes: 512, ReadCount: 1}}, 1)
	got, err := json.Marshal(diskPayload{T: 1700000000000, diskRates: total, Devices: devices, Filesystems: []fsUsage{}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"t":1700000000000,"read_bps":512,"write_bps":0,"read_iops":1,"write_iops":0,` +
		`"devices":{"sda":{"read_bps":512,"write_bps":0,"read_iops":1,"write_iops":0}},"filesystems":[]}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestUnescapeMount(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/", "/"},
		{`/media/My\040Passport`, "/media/My Passport"},
		{`/mnt/tab\011and\012newline`, "/mnt/tab\tand\nnewline"},
		{`/mnt/back\134slash`, `/mnt/back\slash`},
		{`/mnt/a\134040b`, `/mnt/a\040b`}, // a real backslash followed by 040
		{`/mnt/Ana's\040"best"\040photos`, `/mnt/Ana's "best" photos`},
		{`/mnt/Ünïcödé\040€`, "/mnt/Ünïcödé €"},
		{`/mnt/trailing\04`, `/mnt/trailing\04`},
		{`/mnt/not\9octal`, `/mnt/not\9octal`},
	}
	for _, tt := range tests {
		if got := unescapeMount(tt.in); got != tt.want {
			t.Errorf("unescapeMount(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseMountinfo(t *testing.T) {
	text := "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n" +
		"23 22 8:2 / /media/My\\040Disk rw master:3 propagate_from:2 - exfat /dev/sda2 rw\n" +
		"24 22 0:5 / /proc rw - proc proc rw\n" +
		"garbage line\n"
	want := []disk.PartitionStat{
		{Device: "/dev/sda1", Mountpoint: "/", Fstype: "ext4"},
		{Device: "/dev/sda2", Mountpoint: "/media/My Disk", Fstype: "exfat"},
		{Device: "proc", Mountpoint: "/proc", Fstype: "proc"},
	}
	if got := parseMountinfo(text); !reflect.DeepEqual(got, want) {
		t.Errorf("parseMountinfo = %+v, want %+v", got, want)
	}
	mounts := "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /srv/a\\040b xfs rw 0 0\n"
	wantMounts := []disk.PartitionStat{
		{Device: "/dev/sda1", Mountpoint: "/", Fstype: "ext4"},
		{Device: "/dev/sdb1", Mountpoint: "/srv/a b", Fstype: "xfs"},
	}
	if got := parseMounts(mounts); !reflect.DeepEqual(got, wantMounts) {
		t.Errorf("parseMounts = %+v, want %+v", got, wantMounts)
	}
}

func TestBlockFilesystems(t *testing.T) {
	types := parseFilesystems("nodev\tsysfs\nnodev\tproc\n\text4\n\tvfat\nnodev\tzfs\nnodev\ttmpfs\n")
	parts := []disk.PartitionStat{
		{Device: "/dev/sda1", Mountpoint: "/", Fstype: "ext4"},
		{Device: "proc", Mountpoint: "/proc", Fstype: "proc"},
		{Device: "rpool/data", Mountpoint: "/data", Fstype: "zfs"},
		{Device: "none", Mountpoint: "/x", Fstype: "ext4"},
		{Device: "tmpfs", Mountpoint: "/run", Fstype: "tmpfs"},
	}
	want := []disk.PartitionStat{parts[0], parts[2]}
	if got := blockFilesystems(parts, types); !reflect.DeepEqual(got, want) {
		t.Errorf("blockFilesystems = %+v, want %+v", got, want)
	}
}
