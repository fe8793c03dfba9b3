package metrics

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPercentOf(t *testing.T) {
	tests := []struct {
		name        string
		part, whole float64
		want        float64
	}{
		{"half", 1, 2, 50},
		{"zero whole", 1, 0, 0},
		{"over 100 is clamped", 3, 2, 100},
		{"negative is clamped", -1, 2, 0},
		{"rounded", 2, 3, 66.67},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentOf(tt.part, tt.whole); got != tt.want {
				t.Errorf("percentOf(%v, %v) = %v, want %v", tt.part, tt.whole, got, tt.want)
			}
		})
	}
}

func TestTopics(t *testing.T) {
	want := []string{"cpu", "memory", "load", "disk", "network"}
	if got := Topics(); !slices.Equal(got, want) {
		t.Errorf("Topics() = %v, want %v", got, want)
	}
}

func TestOnceLogLogsEachKeyOnce(t *testing.T) {
	var buf bytes.Buffer
	o := newOnceLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	for range 3 {
		o.debug("a", "thing a")
		o.debug("b", "thing b")
	}
	if got := strings.Count(buf.String(), "thing a"); got != 1 {
		t.Errorf("thing a logged %d times, want 1", got)
	}
	if got := strings.Count(buf.String(), "thing b"); got != 1 {
		t.Errorf("thing b logged %d times, want 1", got)
	}
	for i := range onceLogCap + 10 {
		o.debug(strings.Repeat("k", i+2), "many")
	}
	if len(o.seen) > onceLogCap {
		t.Errorf("remembers %d keys, want at most %d", len(o.seen), onceLogCap)
	}
}

func TestNewCollectorsRejectsBadRoot(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"missing proc", Options{HostProc: filepath.Join(t.TempDir(), "nope")}, "host proc root"},
		{"sys is a file", Options{HostSys: file}, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCollectors(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestHostProcRootIsUsed(t *testing.T) {
	// A fake /proc with two CPUs: the cpu collector and the CPU count must
	// come from it, not from the real /proc.
	proc := t.TempDir()
	stat := "cpu  0 0 0 0\ncpu0 10 0 10 80 0 0 0 0\ncpu5 10 0 10 80 0 0 0 0\n"
	if err := os.WriteFile(filepath.Join(proc, "stat"), []byte(stat), 0o600); err != nil {
		t.Fatal(err)
	}
	env, err := newHostEnv(Options{HostProc: proc})
	if err != nil {
		t.Fatal(err)
	}
	if got := hostCPUs(env); got != 2 {
		t.Errorf("hostCPUs = %d, want 2 from the fake /proc/stat", got)
	}
	c := newCPUCollector(env, slog.New(slog.DiscardHandler))
	c.prime()
	if c.coreCount() != 2 {
		t.Errorf("cpu collector saw %d cores, want 2", c.coreCount())
	}
}
