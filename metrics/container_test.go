package metrics

import (
	"path/filepath"
	"testing"
)

func TestDetectContainerOnFixtures(t *testing.T) {
	tests := []struct {
		fixture  string
		runtime  string
		cpuLimit float64
		memLimit uint64
	}{
		{"vm-2core", "", 0, 0},
		{"docker-cgroup2", "docker", 1.5, 512 << 20}, // quota 1.5 CPUs, cpuset of 4
		{"docker-cgroup1", "docker", 2, 1 << 30},     // no quota, cpuset of 2
		{"lxc-container", "lxc", 0, 0},               // container=lxc, no limits
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			root := filepath.Join("testdata", tt.fixture, "step1")
			env, err := newHostEnv(Options{HostProc: filepath.Join(root, "proc"), HostSys: filepath.Join(root, "sys"),
				HostEtc: filepath.Join(root, "etc")})
			if err != nil {
				t.Fatal(err)
			}
			c := detectContainer(env)
			var mem uint64
			if c.memory != nil {
				mem = c.memory.limit
			}
			if c.runtime != tt.runtime || c.cpuLimit != tt.cpuLimit || mem != tt.memLimit {
				t.Errorf("got runtime %q, %v CPUs, %d B; want %q, %v, %d", c.runtime, c.cpuLimit, mem, tt.runtime, tt.cpuLimit, tt.memLimit)
			}
		})
	}
}

func TestContainerRuntime(t *testing.T) {
	tests := []struct {
		name, environ, cgroups string
		dockerenv, podmanenv   bool
		want                   string
	}{
		{"a machine", "PATH=/bin\x00HOME=/", "0::/init.scope\n", false, false, ""},
		{"init says lxc", "container=lxc\x00", "0::/\n", false, false, "lxc"},
		{"init says nspawn", "container=systemd-nspawn\x00", "", false, false, "systemd-nspawn"},
		{"podman marker", "", "0::/\n", false, true, "podman"},
		{"docker marker", "", "0::/\n", true, false, "docker"},
		{"docker v1 paths", "", "12:memory:/docker/3f1c\n", false, false, "docker"},
		{"docker systemd driver", "", "0::/system.slice/docker-3f1c.scope\n", false, false, "docker"},
		{"kubernetes", "", "0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-1.scope\n", false, false, "kubernetes"},
		{"podman paths", "", "0::/machine.slice/libpod-3f1c.scope/container\n", false, false, "podman"},
		{"lxc v1 paths", "", "4:memory:/lxc.payload.web/\n", false, false, "lxc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := containerRuntime(tt.environ, tt.cgroups, tt.dockerenv, tt.podmanenv); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCgroupLimits(t *testing.T) {
	for text, want := range map[string]float64{"max 100000": 0, "200000 100000": 2, "50000 100000": 0.5, "": 0, "junk": 0} {
		if got := parseCPUMax(text); got != want {
			t.Errorf("parseCPUMax(%q) = %v, want %v", text, got, want)
		}
	}
	if got := parseCFSQuota("-1", "100000"); got != 0 {
		t.Errorf("v1 no quota = %v", got)
	}
	for text, want := range map[string]int{"0-3": 4, "0-3,8,10-11": 7, "5": 1, "": 0, "3-1": 0} {
		if got := cpusetSize(text); got != want {
			t.Errorf("cpusetSize(%q) = %d, want %d", text, got, want)
		}
	}
	if got := cpuLimit(1.5, 4); got != 1.5 {
		t.Errorf("quota under cpuset = %v", got)
	}
	if got := cpuLimit(8, 2); got != 2 {
		t.Errorf("cpuset under quota = %v", got)
	}
	for text, want := range map[string]uint64{"max": 0, "9223372036854771712": 0, "536870912\n": 512 << 20, "": 0} {
		if got := parseMemoryLimit(text); got != want {
			t.Errorf("parseMemoryLimit(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestContainerMemory(t *testing.T) {
	host := memoryPayload{Total: 8 << 30, Used: 6 << 30, Available: 2 << 30, Cached: 1 << 30, Buffers: 1 << 20, Percent: 75}
	tests := []struct {
		name                 string
		limit, used, cache   uint64
		total, wantUsed, avl uint64
		percent              float64
	}{
		{"under its limit", 1 << 30, 256 << 20, 64 << 20, 1 << 30, 256 << 20, 768 << 20, 25},
		{"limit above the host's memory", 16 << 30, 4 << 30, 0, 8 << 30, 4 << 30, 4 << 30, 50},
		{"use past the limit is clamped", 1 << 30, 2 << 30, 0, 1 << 30, 1 << 30, 0, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := containerMemory(host, tt.limit, tt.used, tt.cache)
			if p.Total != tt.total || p.Used != tt.wantUsed || p.Available != tt.avl || p.Percent != tt.percent {
				t.Errorf("got %+v", p)
			}
			if p.Used+p.Available > p.Total {
				t.Errorf("used + available %d > total %d", p.Used+p.Available, p.Total)
			}
		})
	}
	if inactive, file := parseCgroupMemoryStat("anon 5\nfile 300\ninactive_file 100\n", false); inactive != 100 || file != 300 {
		t.Errorf("v2 stat: %d %d", inactive, file)
	}
	if inactive, file := parseCgroupMemoryStat("cache 9\ntotal_cache 300\ntotal_inactive_file 100\n", true); inactive != 100 || file != 300 {
		t.Errorf("v1 stat: %d %d", inactive, file)
	}
}
