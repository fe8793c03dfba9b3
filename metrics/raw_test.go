package metrics

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestReadRaw checks the raw values each collector keeps for /metrics
// against the numbers written in the vm-2core fixture's files, converted by
// hand to base units.
func TestReadRaw(t *testing.T) {
	step, err := filepath.Abs(filepath.Join("testdata", "vm-2core", "step2"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := NewCollectors(Options{
		HostProc: filepath.Join(step, "proc"), HostSys: filepath.Join(step, "sys"), HostEtc: filepath.Join(step, "etc"),
		now: func() time.Time { return fixtureEpoch }, statfs: fixtureStatfs(filepath.Join(step, "statfs.json")),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer CloseCollectors(cs)
	raws := map[string]Raw{}
	for _, c := range cs {
		if d, ok := c.(*diskCollector); ok {
			d.sizes.wait = time.Minute // the fixture's statfs never hangs
		}
		if got := c.(RawReader).ReadRaw(); got.Topic != "" || !got.T.IsZero() {
			t.Errorf("%s: raw before the first tick: %+v", c.Topic(), got) // priming is no tick
		}
		if _, err := c.Collect(fixtureEpoch); err != nil {
			t.Fatalf("%s: %v", c.Topic(), err)
		}
		raws[c.Topic()] = c.(RawReader).ReadRaw()
	}
	for topic, r := range raws {
		if r.Topic != topic || !r.T.Equal(fixtureEpoch) {
			t.Errorf("%s: topic %q, tick %v", topic, r.Topic, r.T)
		}
	}

	// proc/stat: cpu0 150017 0 50007 300076 ..., in USER_HZ (1/100 s).
	if got, want := raws["cpu"].CPUs, []CPUTimes{
		{CPU: 0, User: 1500.17, System: 500.07, Idle: 3000.76},
		{CPU: 1, User: 1500.07, System: 500.03, Idle: 3000.90},
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("cpu:\n got %+v\nwant %+v", got, want)
	}
	mem := raws["memory"].Memory
	if len(mem) < 5 || mem[0] != (MemoryField{"MemTotal", 4028440 * 1024, true}) ||
		mem[2] != (MemoryField{"MemAvailable", 3000000 * 1024, true}) {
		t.Errorf("memory: %+v", mem)
	}
	if got := raws["load"].Load; got == nil || *got != (LoadAverage{0.52, 0.41, 0.30}) {
		t.Errorf("load: %+v", got)
	}
	// diskstats: vda 20010 reads, 4002048 sectors read, 100 ms reading,
	// 50040 writes, 9008192 sectors written, 200 ms writing, 300 ms busy.
	if got, want := raws["disk"].Disks, []DiskCounters{{Device: "vda", Reads: 20010, Writes: 50040,
		ReadBytes: 4002048 * 512, WrittenBytes: 9008192 * 512, ReadSeconds: 0.1, WriteSeconds: 0.2, IOSeconds: 0.3}}; !reflect.DeepEqual(got, want) {
		t.Errorf("disk:\n got %+v\nwant %+v", got, want)
	}
	// statfs.json: "/" has Total 42949672960, Used 12884901888 and
	// Free (f_bavail) 27917287424.
	if fs := raws["disk"].Filesystems; len(fs) != 2 || fs[0] != (FilesystemSize{Mountpoint: "/", Fstype: "ext4", Device: "/dev/vda1",
		Size: 42949672960, Free: 42949672960 - 12884901888, Avail: 27917287424}) {
		t.Errorf("filesystems: %+v", fs)
	}
	// net/dev: eth0 900120000 bytes, 700100 packets in; 300030000 and
	// 400050 out. lo is left out, as in the stream.
	if got, want := raws["network"].Interfaces, []NetCounters{{Device: "eth0", RxBytes: 900120000, TxBytes: 300030000,
		RxPackets: 700100, TxPackets: 400050}}; !reflect.DeepEqual(got, want) {
		t.Errorf("network:\n got %+v\nwant %+v", got, want)
	}

	// A copy: the collector's next read must not change what a scrape holds.
	r := raws["cpu"]
	r.CPUs[0].User = -1
	if cs[0].(RawReader).ReadRaw().CPUs[0].User == -1 {
		t.Error("ReadRaw shares its slice with the collector")
	}
}

func TestParseMeminfoFields(t *testing.T) {
	got := parseMeminfoFields("MemTotal:  2 kB\nActive(anon):  3 kB\nHugePages_Total:   4\nbad line\nX: y\n", nil)
	want := []MemoryField{{"MemTotal", 2048, true}, {"Active_anon", 3072, true}, {"HugePages_Total", 4, false}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}
