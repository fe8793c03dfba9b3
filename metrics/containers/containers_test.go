package containers

import (
	"flag"
	"strings"
	"testing"
	"time"

	"vitals/metrics/internal/fixture"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	dockerID = "3f2a9c1b7e6d5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a"
	podmanID = "aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233"
	k8sID    = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		rel, kind, id string
	}{
		{"/system.slice/docker-" + dockerID + ".scope", KindDocker, dockerID},
		{"/docker/" + dockerID, KindDocker, dockerID},
		{"/machine.slice/libpod-" + podmanID + ".scope", KindPodman, podmanID},
		{"/libpod_parent/libpod-" + podmanID, KindPodman, podmanID},
		{"/machine.slice/libpod-conmon-" + podmanID + ".scope", "", ""},
		{"/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + k8sID + ".scope", KindContainerd, k8sID},
		{"/kubepods.slice/kubepods-pod1.slice/crio-" + k8sID + ".scope", KindContainerd, k8sID},
		{"/kubepods/burstable/pod1234/" + k8sID, KindContainerd, k8sID},
		{"/lxc.payload.web", KindLXC, "web"},
		{"/lxc.payload/web", KindLXC, "web"},
		{"/lxc/web", KindLXC, "web"},
		{"/lxc.monitor.web", "", ""},
		{"/lxc/web/nested", "", ""},
		{"/system.slice/nginx.service", KindService, "nginx"},
		{"/system.slice/docker-short.scope", "", ""},
		{"/user.slice/user-1000.slice/session-1.scope", "", ""},
		{"/docker/" + strings.ToUpper(dockerID), "", ""},
		{"/", "", ""},
	} {
		t.Run(tc.rel, func(t *testing.T) {
			kind, id, ok := classify(tc.rel)
			if ok != (tc.kind != "") || kind != tc.kind || id != tc.id {
				t.Fatalf("classify = %q, %q, %v; want %q, %q", kind, id, ok, tc.kind, tc.id)
			}
		})
	}
}

func TestParsers(t *testing.T) {
	if n, ok := keyValue([]byte("user_usec 1\nusage_usec 42\n"), "usage_usec"); !ok || n != 42 {
		t.Errorf("keyValue = %d, %v", n, ok)
	}
	if _, ok := keyValue([]byte("usage_usec_x 1\n"), "usage_usec"); ok {
		t.Error("keyValue matched a longer key")
	}
	if r, w := parseIOStat([]byte("8:0 rbytes=1 wbytes=2 rios=3\n8:16 rbytes=10 wbytes=20\n")); r != 11 || w != 22 {
		t.Errorf("parseIOStat = %d, %d", r, w)
	}
	if r, w := parseBlkio([]byte("8:0 Read 1\n8:0 Write 2\n8:0 Total 3\n8:16 Read 10\nTotal 13\n")); r != 11 || w != 2 {
		t.Errorf("parseBlkio = %d, %d", r, w)
	}
	for _, tc := range []struct {
		in    string
		limit uint64
		ok    bool
	}{
		{"max\n", 0, false},
		{"9223372036854771712\n", 0, false},
		{"1073741824\n", 1 << 30, true},
	} {
		if l, ok := parseLimit([]byte(tc.in)); l != tc.limit || ok != tc.ok {
			t.Errorf("parseLimit(%q) = %d, %v", tc.in, l, ok)
		}
	}
	if memUsed(100, 30) != 70 || memUsed(10, 30) != 0 {
		t.Error("memUsed")
	}
	if cpuPercent(0, 2e9, 1) != 200 || cpuPercent(5, 1, 1) != 0 || cpuPercent(0, 1, 0) != 0 {
		t.Error("cpuPercent")
	}
	rx, tx, ok := parseNetDev([]byte("Inter-|\n face |\n    lo: 5 1 0 0 0 0 0 0 5 1 0 0 0 0 0 0\n  eth0: 10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0\n  eth1: 1 1 0 0 0 0 0 0 2 2 0 0 0 0 0 0\n"))
	if rx != 11 || tx != 22 || !ok {
		t.Errorf("parseNetDev = %d, %d, %v", rx, tx, ok)
	}
}

// TestFixtures runs two ticks, 2 s apart, over a v2 and a v1 tree in which
// the docker container uses 1 s of CPU, receives 20000 bytes and reads
// 4000 bytes between them.
func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cpuFile string
		cpuNext string
		ioFile  string
		ioNext  string
	}{
		{
			name:    "v2",
			cpuFile: "system.slice/docker-" + dockerID + ".scope/cpu.stat",
			cpuNext: "usage_usec 6000000\n",
			ioFile:  "system.slice/docker-" + dockerID + ".scope/io.stat",
			ioNext:  "8:0 rbytes=5000 wbytes=2000\n259:0 rbytes=500 wbytes=0\n",
		},
		{
			name:    "v1",
			cpuFile: "cpuacct/docker/" + dockerID + "/cpuacct.usage",
			cpuNext: "6000000000\n",
			ioFile:  "blkio/docker/" + dockerID + "/blkio.throttle.io_service_bytes",
			ioNext:  "8:0 Read 5000\n8:0 Write 2000\n259:0 Read 500\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cg := fixture.CopyTree(t, "testdata/"+tc.name+"/cgroup")
			proc := fixture.CopyTree(t, "testdata/v2/proc")
			c, err := New(Options{CgroupRoot: cg, Proc: proc, RuntimeSockets: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			t0 := time.UnixMilli(1700000000000)
			first := fixture.Collect(t, c, t0, nil)
			fixture.Golden(t, "testdata/"+tc.name+".tick1.golden.json", first, *update)
			fixture.Write(t, cg, tc.cpuFile, tc.cpuNext)
			fixture.Write(t, cg, tc.ioFile, tc.ioNext)
			fixture.Write(t, proc, "500/net/dev", "  eth0: 30000 1 0 0 0 0 0 0 20000 2 0 0 0 0 0 0\n")
			second := fixture.Collect(t, c, t0.Add(2*time.Second), nil)
			fixture.Golden(t, "testdata/"+tc.name+".tick2.golden.json", second, *update)
		})
	}
}

// TestVanishedContainer removes a container's cgroup between ticks. A kept
// descriptor of a removed cgroup file reads ENODEV, which drops it at once;
// a fixture file stays readable, so here the next walk (every tick with
// RescanTicks 1) is what drops it.
func TestVanishedContainer(t *testing.T) {
	cg := fixture.CopyTree(t, "testdata/v2/cgroup")
	c, err := New(Options{CgroupRoot: cg, Proc: t.TempDir(), RuntimeSockets: []string{}, RescanTicks: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	count := func() int {
		t.Helper()
		var p Payload
		fixture.Collect(t, c, time.Now(), &p)
		return len(p.Containers)
	}
	if n := count(); n != 5 {
		t.Fatalf("%d containers, want 5", n)
	}
	removeAll(t, cg+"/lxc.payload.web")
	if n := count(); n != 4 {
		t.Fatalf("%d containers after one vanished, want 4", n)
	}
}

func TestNoCgroups(t *testing.T) {
	if _, err := New(Options{CgroupRoot: t.TempDir()}); err == nil {
		t.Fatal("New without cgroups succeeded")
	}
}
