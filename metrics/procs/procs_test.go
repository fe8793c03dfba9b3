package procs

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vitals/metrics/internal/fixture"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestFixture runs two ticks over a fixture /proc: the first has no CPU
// baseline, the second sees pid 42 use 150 ticks in 1.5 s, pid 4242 exit,
// pid 77 start after the first tick, and 30 forks.
func TestFixture(t *testing.T) {
	root := fixture.CopyTree(t, "testdata/proc")
	c, err := New(Options{Proc: root, Etc: "testdata/etc", TopN: 2, Cmdline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t0 := time.UnixMilli(1700000100000)
	first := fixture.Collect(t, c, t0, nil)
	fixture.Golden(t, "testdata/tick1.golden.json", blankUsers(t, first), *update)

	write := func(rel, s string) { fixture.Write(t, root, rel, s) }
	write("42/stat", "42 (tmux: server) R 1 42 42 0 -1 4194560 1 0 0 0 1100 250 0 0 20 0 5 0 1000 100000 26000 0 1 1\n")
	// On procfs a kept descriptor of an exited process reads ESRCH; a
	// fixture file can't, so an empty one stands in (a failed parse drops
	// the process the same way).
	write("4242/stat", "")
	// Started 100.05 s after boot = 50 ms after t0: all its 30 ticks fall
	// in the interval.
	write("77/stat", "77 (make) R 1 77 77 0 -1 0 0 0 0 0 20 10 0 0 20 0 1 0 10005 0 500 0 1 1\n")
	stat, _ := os.ReadFile(filepath.Join(root, "stat"))
	write("stat", strings.Replace(string(stat), "processes 9000", "processes 9030", 1))

	second := fixture.Collect(t, c, t0.Add(1500*time.Millisecond), nil)
	fixture.Golden(t, "testdata/tick2.golden.json", blankUsers(t, second), *update)
	if c.OpenFiles() != 2+3 {
		t.Errorf("OpenFiles = %d, want 5 (3 pids + /proc/stat + /proc)", c.OpenFiles())
	}
}

// blankUsers checks every row has a user and blanks it: the fixture files'
// owner is whoever checked the repository out.
func blankUsers(t *testing.T, data []byte) []byte {
	t.Helper()
	var p Payload
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	for _, rows := range [][]Row{p.TopCPU, p.TopRSS} {
		for i := range rows {
			if rows[i].User == "" {
				t.Errorf("pid %d has no user", rows[i].PID)
			}
			rows[i].User = ""
		}
	}
	out, _ := json.Marshal(&p)
	return out
}

func TestPastTheCap(t *testing.T) {
	root := fixture.CopyTree(t, "testdata/proc")
	c, err := New(Options{Proc: root, Etc: "testdata/etc", MaxOpenFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data := fixture.Collect(t, c, time.UnixMilli(1700000100000), nil)
	var p Payload
	json.Unmarshal(data, &p)
	if p.Processes != 3 || c.OpenFiles() != 3 {
		t.Fatalf("processes = %d, open = %d; want 3 listed with 1 kept", p.Processes, c.OpenFiles())
	}
	if p.TopCPU[0].Cmdline != "" {
		t.Errorf("command line sent without Options.Cmdline: %q", p.TopCPU[0].Cmdline)
	}
}

func TestNoProc(t *testing.T) {
	if _, err := New(Options{Proc: t.TempDir()}); err == nil {
		t.Fatal("New on an empty directory succeeded")
	}
}

// TestRealHost runs a busy child and checks the collector finds it at the
// top with a plausible share of a core.
func TestRealHost(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no procfs here")
	}
	busy := exec.Command("sh", "-c", "while :; do :; done")
	if err := busy.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { busy.Process.Kill(); busy.Wait() }()
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var p Payload
	data := fixture.CollectLive(t, c, time.Second, &p)
	if p.Processes < 3 || p.Threads < uint64(p.Processes) || p.Forks == nil {
		t.Errorf("totals implausible: %s", data)
	}
	for _, r := range p.TopCPU {
		if r.PID == busy.Process.Pid {
			// A shared CI core may give it less than all of one.
			if r.CPU < 10 || r.CPU > 110 || r.Name != "sh" || r.User == "" || r.Start < time.Now().Add(-time.Minute).UnixMilli() {
				t.Errorf("busy child row implausible: %+v", r)
			}
			return
		}
	}
	t.Errorf("busy child %d not in top_cpu: %s", busy.Process.Pid, data)
}
