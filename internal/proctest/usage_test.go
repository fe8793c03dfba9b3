package proctest

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestReadTreeUsageCountsTheChildren(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	// sh with two children of its own.
	p, err := Start(exec.Command("sh", "-c", "sleep 30 & sleep 30 & wait"))
	if err != nil {
		t.Fatal(err)
	}
	// The sleeps are ended by their ids once sh is gone.
	defer func() {
		var kids []int
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if pid, err := strconv.Atoi(e.Name()); err == nil {
				if ppid, ok := parentOf(pid); ok && ppid == p.PID() {
					kids = append(kids, pid)
				}
			}
		}
		p.Kill()
		for _, pid := range kids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, procs, err := ReadTreeUsage(p.PID())
		if err != nil {
			t.Fatal(err)
		}
		if procs == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("read %d processes in the tree, want sh and its two sleeps", procs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, _, err := ReadTreeUsage(1 << 30); err == nil {
		t.Error("no error for a process that does not exist")
	}
}
