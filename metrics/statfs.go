package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v3/disk"
)

// statfsDeadline is how long one statfs may run before its mount is
// reported stale. A local filesystem answers in microseconds and a network
// one in milliseconds; a call still running after 2 s is waiting on
// something that does not answer (an NFS server that is down, whose client
// retries its RPC for minutes, or a FUSE daemon that hung), and calling it
// stale then says so within two ticks at the default interval without
// flagging a server that is merely busy.
const statfsDeadline = 2 * time.Second

// statfsWait is how long Collect waits for the statfs calls it started on
// its tick. It is short of the shortest interval (50 ms) so that a mount
// that stops answering delays that one tick a little and never makes the
// sampler skip one; a mount that takes longer keeps its sizes from its last
// answer for the tick, which for a filesystem's size is as good as new.
const statfsWait = 20 * time.Millisecond

// statfsMaxBackoff caps the wait between calls on a mount whose last statfs
// answered only after the deadline: such a mount is retried after the
// deadline, then twice that, and so on up to a minute, so that a flapping
// NFS server is probed a few times a minute, not on every tick.
const statfsMaxBackoff = time.Minute

// fsSizes reads the sizes of mounted filesystems off the sampling path:
// each statfs runs on a goroutine of its own, with at most one call per
// mount point at any time, and read, called by Collect, waits for them
// only for a bounded time (statfsWait). A statfs that never returns (a
// hung FUSE daemon, a dead NFS server on a hard mount) cannot be cancelled:
// its goroutine is blocked in the kernel until the filesystem answers or is
// unmounted by force (umount -f, or aborting the FUSE connection), and no
// other call is made on that mount until it returns, so at most one
// goroutine per mount point is ever left behind.
//
// read and close are called by the collector's owner, one at a time; the
// statfs goroutines report back under mu.
type fsSizes struct {
	ctx    context.Context
	statfs func(ctx context.Context, path string) (*disk.UsageStat, error)
	// deadline and wait are statfsDeadline and statfsWait; tests change
	// them before the first read.
	deadline, wait time.Duration

	mu     sync.Mutex // guards following fields
	probes map[string]*fsProbe
	closed bool
}

// fsProbe is one mount point's statfs state. Its fields are guarded by
// fsSizes.mu. Times are of the real clock (time.Now), not the collectors'
// injected one: deadlines are about how long a syscall blocks.
type fsProbe struct {
	// usage and err are the last answer: sizes, or why there are none.
	usage *disk.UsageStat
	err   error
	// done is closed when the call in flight returns; nil when no call is
	// in flight. started is when that call began.
	done    chan struct{}
	started time.Time
	// late counts consecutive calls that passed the deadline (the one in
	// flight not included); retryAt is when the next call may start.
	late    int
	retryAt time.Time
}

// fsResult is what read reports for one mount.
type fsResult struct {
	usage *disk.UsageStat // last known sizes; nil if none
	err   error           // why usage is nil, when statfs failed
	// stale is true while the mount's statfs passes the deadline: its call
	// in flight has run past it, or the last one answered only after it
	// and no call has answered in time since.
	stale bool
}

func newFSSizes(ctx context.Context, statfs func(context.Context, string) (*disk.UsageStat, error)) *fsSizes {
	return &fsSizes{ctx: ctx, statfs: statfs, deadline: statfsDeadline, wait: statfsWait,
		probes: make(map[string]*fsProbe)}
}

// read returns the sizes of the given mount points, in order. It starts a
// statfs on each mount that has none in flight and is not waiting for a
// retry, waits up to s.wait for those of them whose mount answered in time
// before, and reports each mount's last answer. Mount points not in the
// list are forgotten once they have no call in flight.
func (s *fsSizes) read(mounts []string) []fsResult {
	var waitFor []chan struct{}
	s.mu.Lock()
	now := time.Now()
	listed := make(map[string]bool, len(mounts))
	for _, m := range mounts {
		listed[m] = true
		p := s.probes[m]
		if p == nil {
			p = &fsProbe{}
			s.probes[m] = p
		}
		if p.done != nil || now.Before(p.retryAt) || s.closed {
			continue
		}
		p.done, p.started = make(chan struct{}), now
		if p.late == 0 {
			// A mount being retried after a late answer is not waited
			// for: it would cost the tick statfsWait on every retry.
			waitFor = append(waitFor, p.done)
		}
		go s.call(m, p)
	}
	for m, p := range s.probes {
		if !listed[m] && p.done == nil {
			delete(s.probes, m)
		}
	}
	s.mu.Unlock()

	if len(waitFor) > 0 {
		timer := time.NewTimer(s.wait)
		defer timer.Stop()
	wait:
		for _, done := range waitFor {
			select {
			case <-done:
			case <-timer.C:
				break wait
			}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now = time.Now()
	out := make([]fsResult, len(mounts))
	for i, m := range mounts {
		p := s.probes[m]
		overdue := p.done != nil && now.Sub(p.started) >= s.deadline
		out[i] = fsResult{usage: p.usage, err: p.err, stale: p.late > 0 || overdue}
	}
	return out
}

// call runs one statfs on mount and records its answer in p.
func (s *fsSizes) call(mount string, p *fsProbe) {
	// Passed on for a statfs that honours it; the syscall itself can't be
	// interrupted, which is why the deadline is also judged here.
	ctx, cancel := context.WithTimeout(s.ctx, s.deadline)
	u, err := s.statfs(ctx, mount)
	cancel()

	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		u = nil
	}
	p.usage, p.err = u, err
	if now := time.Now(); now.Sub(p.started) >= s.deadline {
		p.late++
		p.retryAt = now.Add(min(s.deadline<<(min(p.late, 16)-1), statfsMaxBackoff))
	} else {
		p.late, p.retryAt = 0, time.Time{}
	}
	close(p.done)
	p.done = nil
}

// close starts no more calls and waits for the calls in flight, each until
// it returns or reaches its deadline; a call past its deadline is left
// running (see fsSizes) and the mounts it is stuck on are returned.
func (s *fsSizes) close() (stuck []string) {
	type inFlight struct {
		mount string
		done  chan struct{}
		until time.Time
	}
	var calls []inFlight
	s.mu.Lock()
	s.closed = true
	for m, p := range s.probes {
		if p.done != nil {
			calls = append(calls, inFlight{m, p.done, p.started.Add(s.deadline)})
		}
	}
	s.mu.Unlock()

	for _, c := range calls {
		select {
		case <-c.done:
			continue // answered while close waited for another call
		default:
		}
		timer := time.NewTimer(time.Until(c.until))
		select {
		case <-c.done:
		case <-timer.C:
			stuck = append(stuck, c.mount)
		}
		timer.Stop()
	}
	return stuck
}

// logStuck warns about the statfs calls close left running.
func logStuck(log *slog.Logger, stuck []string) {
	for _, m := range stuck {
		log.Warn("statfs still blocked at close: leaving its goroutine until the mount answers or is unmounted",
			"mount", m)
	}
}
