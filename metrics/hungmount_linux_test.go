package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// hangFS is a FUSE filesystem with an empty root whose statfs answers at
// once until hang is called, and then blocks until answer: a FUSE daemon
// that stopped answering, as the kernel sees it.
type hangFS struct {
	fs.Inode

	calls   atomic.Int64 // statfs requests received
	blocked atomic.Int64 // statfs requests blocked now

	mu   sync.Mutex // guards gate
	gate chan struct{}
}

var _ fs.NodeStatfser = (*hangFS)(nil)

// hangFS sizes: 1000 blocks of 4 KiB, 600 free.
const (
	hangFSBlocks = 1000
	hangFSFree   = 600
	hangFSBsize  = 4096
)

func (h *hangFS) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	h.calls.Add(1)
	h.mu.Lock()
	gate := h.gate
	h.mu.Unlock()
	if gate != nil {
		// Deaf to ctx on purpose: a hung daemon doesn't see the kernel's
		// interrupts either.
		h.blocked.Add(1)
		<-gate
		h.blocked.Add(-1)
	}
	*out = fuse.StatfsOut{Blocks: hangFSBlocks, Bfree: hangFSFree, Bavail: hangFSFree,
		Bsize: hangFSBsize, Frsize: hangFSBsize, NameLen: 255}
	return fs.OK
}

func (h *hangFS) hang() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gate == nil {
		h.gate = make(chan struct{})
	}
}

func (h *hangFS) answer() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gate != nil {
		close(h.gate)
		h.gate = nil
	}
}

// needsFUSE skips the test with why, or fails it when CI=true: CI must be
// able to run it.
func needsFUSE(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...) + ": the hung-mount test mounts a FUSE filesystem, which needs root and /dev/fuse (modprobe fuse)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// mountHangFS serves a hangFS at a new directory and unmounts it when the
// test ends, after letting any blocked statfs answer.
func mountHangFS(t *testing.T) (*hangFS, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		needsFUSE(t, "not root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		needsFUSE(t, "no /dev/fuse")
	}
	dir := filepath.Join(t.TempDir(), "hung")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := &hangFS{}
	// DirectMountStrict: mount(2) as root, so fusermount need not be
	// installed.
	server, err := fs.Mount(dir, h, &fs.Options{MountOptions: fuse.MountOptions{
		DirectMountStrict: true, FsName: "vitals-hang", Name: "vitalshang",
	}})
	if err != nil {
		needsFUSE(t, "mount FUSE at %s: %v", dir, err)
	}
	t.Cleanup(func() {
		h.answer()
		if err := server.Unmount(); err != nil {
			// Never leave a mount behind: detach it, and the server ends
			// when the kernel lets go of it.
			t.Errorf("unmount %s: %v; detaching it", dir, err)
			if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
				t.Errorf("detach %s: %v", dir, err)
			}
		}
		server.Wait()
	})
	return h, dir
}

// TestHungMount runs a real Sampler with every real collector on this host,
// the disk collector's mount table listing two mounts: a directory of the
// test's and a FUSE filesystem served by the test, whose statfs then stops
// answering. Every tick the sampler publishes must carry every topic while
// the mount hangs, the mount must be reported stale with its last sizes
// and asked only once, and its sizes must come back once it answers.
func TestHungMount(t *testing.T) {
	h, hungDir := mountHangFS(t)
	okDir := t.TempDir()

	// The collector reads its mount table from proc/1/mountinfo under its
	// proc root; everything else (counters, statfs) is this host's. FUSE
	// types are left out of the filesystems reported, so both mounts are
	// listed as ext4.
	proc := t.TempDir()
	mountinfo := fmt.Sprintf("36 25 0:50 / %s rw - ext4 /dev/vitals-ok rw\n37 25 0:51 / %s rw - ext4 /dev/vitals-hang rw\n",
		okDir, hungDir)
	if err := os.MkdirAll(filepath.Join(proc, "1"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"filesystems": "\text4\n", "1/mountinfo": mountinfo} {
		if err := os.WriteFile(filepath.Join(proc, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	cs, err := NewCollectors(Options{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := newHostEnv(Options{})
	if err != nil {
		t.Fatal(err)
	}
	env.proc = proc
	diskC := newDiskCollector(env, slog.New(slog.DiscardHandler))
	diskC.prime()
	for i, c := range cs {
		if c.Topic() == topicDisk {
			c.(io.Closer).Close()
			cs[i] = diskC
		}
	}
	t.Cleanup(func() {
		if err := CloseCollectors(cs); err != nil {
			t.Error(err)
		}
	})

	type tick struct {
		t      time.Time
		topics []string
		fs     map[string]fsUsage
	}
	var (
		mu       sync.Mutex // guards ticks and slowest
		ticks    []tick
		slowest  time.Duration
		interval = 200 * time.Millisecond
	)
	s, err := NewSampler(SamplerOptions{
		Interval:   interval,
		Collectors: cs,
		Observe: func(d time.Duration) {
			mu.Lock()
			slowest = max(slowest, d)
			mu.Unlock()
		},
		Publish: func(at time.Time, readings []Reading) {
			tk := tick{t: at, fs: make(map[string]fsUsage)}
			for _, r := range readings {
				tk.topics = append(tk.topics, r.Topic)
				if r.Topic == topicDisk {
					var p struct{ Filesystems []fsUsage }
					if err := json.Unmarshal(r.Data, &p); err == nil {
						for _, f := range p.Filesystems {
							tk.fs[f.Mount] = f
						}
					}
				}
			}
			mu.Lock()
			ticks = append(ticks, tk)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			wg.Wait()
		}
	}
	defer stop()

	// waitFor waits for a tick from index from on that satisfies cond and
	// returns its index. The time limit only stops a broken test; nothing
	// is judged by it.
	waitFor := func(from int, what string, cond func(tick) bool) int {
		t.Helper()
		for limit := time.Now().Add(30 * time.Second); time.Now().Before(limit); time.Sleep(interval / 4) {
			mu.Lock()
			for i := from; i < len(ticks); i++ {
				if cond(ticks[i]) {
					mu.Unlock()
					return i
				}
			}
			mu.Unlock()
		}
		mu.Lock()
		var lastFS map[string]fsUsage
		if len(ticks) > 0 {
			lastFS = ticks[len(ticks)-1].fs
		}
		mu.Unlock()
		t.Fatalf("no tick with %s within 30 s; the last tick's filesystems: %s", what, fsDump(lastFS))
		return 0
	}
	sized := func(f fsUsage) bool { return f.Total != nil && *f.Total == hangFSBlocks*hangFSBsize }

	fresh := waitFor(0, "the FUSE mount's sizes", func(tk tick) bool {
		f, ok := tk.fs[hungDir]
		return ok && sized(f) && !f.Stale
	})

	h.hang()
	callsAtHang := h.calls.Load()
	stale := waitFor(fresh+1, "the hung mount stale", func(tk tick) bool { return tk.fs[hungDir].Stale })
	mu.Lock()
	staleTick := ticks[stale]
	mu.Unlock()
	if f := staleTick.fs[hungDir]; !sized(f) {
		t.Errorf("the stale mount reads %+v, want its last sizes", f)
	}
	// Ten more ticks while it hangs.
	const whileHung = 10
	last := waitFor(stale+whileHung, fmt.Sprintf("%d ticks after the mount went stale", whileHung),
		func(tick) bool { return true })
	if n := h.calls.Load() - callsAtHang; n != 1 {
		t.Errorf("the hung mount got %d statfs calls while it hung, want 1", n)
	}
	if n := h.blocked.Load(); n != 1 {
		t.Errorf("%d statfs calls blocked on the hung mount, want 1", n)
	}

	h.answer()
	back := waitFor(last+1, "the mount's sizes back, not stale", func(tk tick) bool {
		f := tk.fs[hungDir]
		return sized(f) && !f.Stale
	})
	stop()

	mu.Lock()
	defer mu.Unlock()
	want := Topics()
	for i, tk := range ticks[:back+1] {
		if !slices.Equal(tk.topics, want) {
			t.Errorf("tick %d (%s): topics %v, want %v", i, tk.t.Format(time.StampMilli), tk.topics, want)
		}
		if f := tk.fs[okDir]; f.Stale || f.Total == nil {
			t.Errorf("tick %d: the answering mount reads %+v", i, f)
		}
		if i >= stale && i < back && !tk.fs[hungDir].Stale {
			t.Errorf("tick %d: the hung mount is not stale", i)
		}
	}
	// The sampler skips a tick only when one ran past the interval; a
	// sample never waits on the hung mount, so none may take that long.
	if slowest >= interval {
		t.Errorf("the slowest sample took %v, as long as the interval %v", slowest, interval)
	}
	published := back + 1
	expected := int(ticks[back].t.Sub(ticks[0].t)/interval) + 1
	t.Logf("%d ticks published of %d on the sampler's schedule (%d skipped by the machine's load); slowest sample %v; stale from tick %d to %d",
		published, expected, expected-published, slowest, stale, back)
}

func fsDump(m map[string]fsUsage) string {
	b, _ := json.Marshal(m)
	return string(b)
}
