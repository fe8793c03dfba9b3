package procs

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"

	"vitals/metrics/internal/fixture"
)

// BenchmarkProcesses measures one tick of the collector against the floor
// (a bare loop that preads every /proc/<pid>/stat through kept descriptors)
// in the same run, with 2,000 real processes started here: idle sleepers
// and a few busy loops at nice 19. Besides ns/op it reports cpu-ms/op, the
// CPU time (user+system, whole process) per tick: on a shared machine wall
// time includes waiting for a core, CPU time does not. VITALS_BENCH_PROCS
// changes the count.
func BenchmarkProcesses(b *testing.B) {
	n := 2000
	if s := os.Getenv("VITALS_BENCH_PROCS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	var started []*exec.Cmd
	b.Cleanup(func() {
		for _, c := range started { // only what this benchmark started, by pid
			c.Process.Kill()
			c.Wait()
		}
	})
	const busy = 3
	for i := range n {
		var c *exec.Cmd
		if i < busy {
			c = exec.Command("nice", "-n", "19", "sh", "-c", "while :; do :; done")
		} else {
			c = exec.Command("sleep", "600")
		}
		if err := c.Start(); err != nil {
			b.Fatalf("start process %d: %v", i, err)
		}
		started = append(started, c)
	}
	// Wait until the last child has exec'd (its comm is no longer the Go
	// binary's), so every pass reads the processes it is meant to.
	last := started[len(started)-1].Process.Pid
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", last)); string(comm) == "sleep\n" {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the children did not exec within 30 s")
		}
	}
	b.Logf("%d processes started; %d processes on the host", n, countPids(b))

	b.Run("floor", func(b *testing.B) {
		fds := openAll(b)
		defer closeAll(fds)
		buf := make([]byte, statBufSize)
		fixture.CPUPerOp(b, func() {
			for _, fd := range fds {
				unix.Pread(fd, buf, 0)
			}
		})
	})
	b.Run("floor_reopen", func(b *testing.B) {
		pids := listPids(b)
		buf := make([]byte, statBufSize)
		fixture.CPUPerOp(b, func() {
			for _, pid := range pids {
				fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
				if err == nil {
					unix.Read(fd, buf)
					unix.Close(fd)
				}
			}
		})
	})
	b.Run("collector", func(b *testing.B) {
		c, err := New(Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		c.Collect(time.Now()) // prime: opens the descriptors
		fixture.CPUPerOp(b, func() {
			if _, err := c.Collect(time.Now()); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("procfs", func(b *testing.B) {
		fs, err := procfs.NewFS("/proc")
		if err != nil {
			b.Fatal(err)
		}
		fixture.CPUPerOp(b, func() {
			ps, err := fs.AllProcs()
			if err != nil {
				b.Fatal(err)
			}
			for _, p := range ps {
				p.Stat()
			}
		})
	})
}

func listPids(b *testing.B) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func countPids(b *testing.B) int { return len(listPids(b)) }

func openAll(b *testing.B) []int {
	var fds []int
	for _, pid := range listPids(b) {
		if fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
			fds = append(fds, fd)
		}
	}
	return fds
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
