package metrics

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shirou/gopsutil/v3/disk"
)

// blockingStatfs answers statfs at once for every mount but hung, whose
// calls block until release is called.
type blockingStatfs struct {
	hung    string
	mu      sync.Mutex
	calls   map[string]int
	release chan struct{}
	once    sync.Once
}

func newBlockingStatfs(hung string) *blockingStatfs {
	return &blockingStatfs{hung: hung, calls: make(map[string]int), release: make(chan struct{})}
}

func (b *blockingStatfs) statfs(_ context.Context, path string) (*disk.UsageStat, error) {
	b.mu.Lock()
	b.calls[path]++
	b.mu.Unlock()
	if path == b.hung {
		<-b.release
	}
	return &disk.UsageStat{Path: path, Total: 1000, Used: 100, UsedPercent: 10}, nil
}

func (b *blockingStatfs) callsOn(path string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[path]
}

func (b *blockingStatfs) unblock() { b.once.Do(func() { close(b.release) }) }

// TestFSSizesHungMount runs the statfs reader on a fake clock with one
// mount whose statfs blocks: read never waits longer than statfsWait, the
// mount turns stale at the deadline and is not called again while its call
// is stuck, and after it answers it is retried with backoff and comes back.
func TestFSSizesHungMount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newBlockingStatfs("/hung")
		defer fake.unblock()
		s := newFSSizes(context.Background(), fake.statfs)
		mounts := []string{"/", "/hung"}

		read := func() (ok, hung fsResult) {
			t.Helper()
			start := time.Now()
			got := s.read(mounts)
			if d := time.Since(start); d > statfsWait {
				t.Fatalf("read took %v, more than statfsWait %v", d, statfsWait)
			}
			if got[0].stale || got[0].usage == nil {
				t.Fatalf("/ answers at once but reads %+v", got[0])
			}
			return got[0], got[1]
		}

		// The first call is in flight but not yet past the deadline: no
		// sizes, not stale.
		if _, h := read(); h.stale || h.usage != nil {
			t.Fatalf("first read of /hung: %+v, want no sizes and not stale", h)
		}
		// One tick a second for ten seconds: stale from the deadline on,
		// and never a second call on the stuck mount.
		for tick := 1; tick <= 10; tick++ {
			time.Sleep(time.Second)
			_, h := read()
			if want := time.Duration(tick)*time.Second >= statfsDeadline; h.stale != want {
				t.Fatalf("after %d s /hung stale = %v, want %v", tick, h.stale, want)
			}
		}
		if n := fake.callsOn("/hung"); n != 1 {
			t.Fatalf("statfs called %d times on the stuck mount, want 1", n)
		}
		if n := fake.callsOn("/"); n != 11 {
			t.Fatalf("statfs called %d times on /, want one per read (11)", n)
		}

		// It answers, late: its sizes are back but it stays stale until a
		// call answers in time, and it is not called again before the
		// backoff (one deadline after the late answer).
		fake.unblock()
		synctest.Wait()
		_, h := read()
		if !h.stale || h.usage == nil || h.usage.Total != 1000 {
			t.Fatalf("after a late answer /hung reads %+v, want its sizes, still stale", h)
		}
		time.Sleep(statfsDeadline / 2)
		read()
		if n := fake.callsOn("/hung"); n != 1 {
			t.Fatalf("retried %d times before the backoff, want not at all", n-1)
		}
		time.Sleep(statfsDeadline / 2)
		read() // starts the retry, which answers at once
		synctest.Wait()
		if n := fake.callsOn("/hung"); n != 2 {
			t.Fatalf("statfs called %d times on /hung, want 2", n)
		}
		if _, h := read(); h.stale || h.usage == nil {
			t.Fatalf("after an answer in time /hung reads %+v, want fresh sizes", h)
		}
	})
}

// TestFSSizesBackoffGrows checks that a mount answering late every time is
// probed less and less often, up to statfsMaxBackoff.
func TestFSSizesBackoffGrows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var starts []time.Time
		slow := func(context.Context, string) (*disk.UsageStat, error) {
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
			time.Sleep(statfsDeadline + time.Second)
			return &disk.UsageStat{Total: 1}, nil
		}
		s := newFSSizes(context.Background(), slow)
		for range 600 {
			got := s.read([]string{"/slow"})
			mu.Lock()
			called := len(starts)
			mu.Unlock()
			if called > 1 && !got[0].stale {
				t.Fatalf("a mount that always answers late reads fresh")
			}
			time.Sleep(time.Second)
		}
		s.close()
		mu.Lock()
		defer mu.Unlock()
		// Each call runs 3 s; the gap after it doubles from 2 s: starts at
		// 0, 5, 12, 23, 42, 77, 140, 203... (capped at 60 s, plus the 3 s
		// of the call).
		var gaps []time.Duration
		for i := 1; i < len(starts); i++ {
			gaps = append(gaps, starts[i].Sub(starts[i-1]).Round(time.Second))
		}
		want := []time.Duration{5, 7, 11, 19, 35, 63, 63, 63, 63}
		if len(gaps) < len(want) {
			t.Fatalf("gaps %v, want at least %v (seconds)", gaps, want)
		}
		for i, w := range want {
			if gaps[i] != w*time.Second {
				t.Fatalf("gaps between calls %v, want %v (seconds)", gaps, want)
			}
		}
	})
}

// TestFSSizesCloseLeavesOnlyStuckCalls checks that close waits for a call
// that answers before its deadline, and leaves one past it.
func TestFSSizesCloseLeavesOnlyStuckCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newBlockingStatfs("/hung")
		defer fake.unblock()
		var slowDone bool
		statfs := func(ctx context.Context, path string) (*disk.UsageStat, error) {
			if path == "/slow" {
				time.Sleep(statfsDeadline / 2)
				slowDone = true // read by close's caller after close has waited
				return nil, errors.New("gone")
			}
			return fake.statfs(ctx, path)
		}
		s := newFSSizes(context.Background(), statfs)
		s.read([]string{"/hung", "/slow"})
		start := time.Now()
		stuck := s.close()
		if d := time.Since(start); d > statfsDeadline {
			t.Errorf("close took %v, more than the deadline", d)
		}
		if !slowDone {
			t.Error("close returned before a call that answers within the deadline")
		}
		if len(stuck) != 1 || stuck[0] != "/hung" {
			t.Errorf("close left %v running, want [/hung]", stuck)
		}
		// Nothing starts after close.
		s.read([]string{"/hung", "/slow", "/new"})
		if n := fake.callsOn("/new"); n != 0 {
			t.Errorf("statfs called %d times after close", n)
		}
	})
}
