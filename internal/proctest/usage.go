package proctest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// It is 100 on every Linux architecture Go supports.
const clockTicks = 100

// Usage is one reading of a process's CPU time and memory from /proc.
type Usage struct {
	At       time.Time
	CPUTicks int64 // utime + stime, in USER_HZ
	RSSKiB   int64
	Threads  int64
}

// ReadUsage reads the process pid's CPU time and memory.
func ReadUsage(pid int) (Usage, error) {
	s := Usage{At: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the command name, which is in parentheses and may
	// itself hold spaces.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of stat
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	s.CPUTicks = ut + st
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		v = strings.TrimSuffix(strings.TrimSpace(v), " kB")
		switch k {
		case "VmRSS":
			s.RSSKiB, _ = strconv.ParseInt(v, 10, 64)
		case "Threads":
			s.Threads, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return s, nil
}

// CPUPercent is the CPU used between two readings in percent of one core.
func CPUPercent(a, b Usage) float64 {
	el := b.At.Sub(a.At).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(b.CPUTicks-a.CPUTicks) / clockTicks / el * 100
}

// ReadTreeUsage is ReadUsage summed over pid and every process below it
// (a browser and its renderer, GPU and utility processes). A process that
// exits between two readings takes its CPU time with it, so a tree whose
// children come and go reads a little low, never high. Procs counts the
// processes read.
func ReadTreeUsage(pid int) (Usage, int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return Usage{}, 0, err
	}
	children := map[int][]int{}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(child); ok {
			children[ppid] = append(children[ppid], child)
		}
	}
	sum, err := ReadUsage(pid)
	if err != nil {
		return sum, 0, err
	}
	procs := 1
	queue := append([]int(nil), children[pid]...)
	for len(queue) > 0 {
		p := queue[0]
		queue = append(queue[1:], children[p]...)
		u, err := ReadUsage(p)
		if err != nil {
			continue // gone meanwhile
		}
		sum.CPUTicks += u.CPUTicks
		sum.RSSKiB += u.RSSKiB
		sum.Threads += u.Threads
		procs++
	}
	return sum, procs, nil
}

// parentOf reads a process's parent id from /proc/<pid>/stat.
func parentOf(pid int) (int, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}
