package procs

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"vitals/metrics/internal/kfile"
)

// Topic is the topic name of the collector.
const Topic = "processes"

// Options configures [New].
type Options struct {
	// Proc and Etc are the roots of the host's /proc and /etc; empty means
	// "/proc" and "/etc". The app passes the same roots as to the other
	// collectors.
	Proc, Etc string
	// TopN is how many processes each list holds; 0 means 10.
	TopN int
	// Cmdline adds each listed process's full command line. Off by
	// default: command lines can hold passwords and tokens.
	Cmdline bool
	// MaxOpenFiles caps the /proc/<pid>/stat descriptors kept open between
	// ticks; 0 means 4096. Kept descriptors share RLIMIT_NOFILE with
	// everything else in the process (each SSE stream holds one socket),
	// so the cap is further lowered to a quarter of the soft limit: the Go
	// runtime raises the soft limit to the hard one at start (typically
	// 524288 under systemd), and with the old 1024 default a quarter still
	// leaves 768 for streams. Processes past the cap are still listed:
	// their file is opened and closed on every tick, which costs about
	// twice as much per process.
	MaxOpenFiles int
	Logger       *slog.Logger // nil -> discard
}

const (
	defaultTopN    = 10
	defaultMaxOpen = 4096
	// userHZ is the unit of utime, stime and starttime in /proc/<pid>/stat:
	// sysconf(_SC_CLK_TCK), which the kernel fixes at USER_HZ = 100 on
	// every Linux architecture Go supports, whatever CONFIG_HZ is. Asking
	// sysconf would need cgo; getconf would be a process per start.
	userHZ = 100
	// cmdlineMax caps one command line in a payload.
	cmdlineMax = 512
	// statBufSize holds any /proc/<pid>/stat: 52 numeric fields and a
	// 16-byte comm stay well under 1 KiB.
	statBufSize = 1024
)

// Row is one process in a list.
type Row struct {
	PID     int     `json:"pid"`
	Name    string  `json:"name"`
	User    string  `json:"user,omitempty"`
	State   string  `json:"state"`
	CPU     float64 `json:"cpu_pct"`
	RSS     uint64  `json:"rss"`
	Threads uint64  `json:"threads"`
	Start   int64   `json:"start"`
	Cmdline string  `json:"cmdline,omitempty"`
}

// Payload is one "processes" event.
type Payload struct {
	T         int64    `json:"t"`
	Processes int      `json:"processes"`
	Threads   uint64   `json:"threads"`
	Running   uint64   `json:"running"`
	Blocked   uint64   `json:"blocked"`
	Forks     *float64 `json:"forks_per_s"` // null on the first tick: no earlier count
	TopCPU    []Row    `json:"top_cpu"`
	TopRSS    []Row    `json:"top_rss"`
}

// Redact removes what a read-only viewer must not see: command lines and
// user names.
func (p *Payload) Redact() {
	for _, rows := range [][]Row{p.TopCPU, p.TopRSS} {
		for i := range rows {
			rows[i].User, rows[i].Cmdline = "", ""
		}
	}
}

// Redact returns a copy of an encoded "processes" event without command
// lines and user names. The app keeps one encoding per audience: the full
// one for the read-write token, this one for the read-only token.
func Redact(data []byte) ([]byte, error) {
	var p Payload
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("redact processes event: %w", err)
	}
	p.Redact()
	return json.Marshal(&p)
}

// proc is the state kept for one process between ticks.
type proc struct {
	pid   int
	fd    int    // kept /proc/<pid>/stat descriptor, -1 if past the cap
	start uint64 // starttime: with pid, the process's identity
	ticks uint64 // utime+stime at the last read
	name  string
	// From the latest read:
	cpu     float64
	rss     uint64
	threads uint64
	state   byte
}

// Collector is the "processes" collector. See the package documentation.
type Collector struct {
	root, etc string
	topN      int
	cmdline   bool
	maxOpen   int
	hz, page  uint64
	log       *slog.Logger

	bootTime uint64
	statFd   int // /proc/stat, kept open
	dirFd    int // /proc, kept open for listing
	procs    map[int]*proc
	list     []*proc
	open     int // descriptors kept in procs

	buf     []byte
	sysBuf  []byte
	dentBuf []byte

	prevT     time.Time
	prevForks uint64
	listed    bool // /proc was listed at least once

	users     map[uint32]string
	passwdMod time.Time
	logged    map[string]bool
}

// New opens /proc/stat and /proc and returns the collector. An error means
// this host can't provide the topic (no procfs, or an unreadable one): the
// app leaves "processes" out.
func New(opts Options) (*Collector, error) {
	c := &Collector{
		root:    orDefault(opts.Proc, "/proc"),
		etc:     orDefault(opts.Etc, "/etc"),
		topN:    opts.TopN,
		cmdline: opts.Cmdline,
		maxOpen: opts.MaxOpenFiles,
		hz:      userHZ,
		page:    uint64(os.Getpagesize()),
		log:     opts.Logger,
		statFd:  -1,
		dirFd:   -1,
		procs:   make(map[int]*proc),
		buf:     make([]byte, statBufSize),
		sysBuf:  make([]byte, 8192),
		dentBuf: make([]byte, 32<<10),
		logged:  make(map[string]bool),
	}
	if c.topN <= 0 {
		c.topN = defaultTopN
	}
	if c.maxOpen <= 0 {
		c.maxOpen = defaultMaxOpen
	}
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil && lim.Cur != unix.RLIM_INFINITY {
		c.maxOpen = min(c.maxOpen, int(lim.Cur/4))
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if c.statFd, err = unix.Open(filepath.Join(c.root, "stat"), unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		return nil, fmt.Errorf("processes: open %s/stat: %w", c.root, err)
	}
	s, err := c.readSys()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("processes: %w", err)
	}
	c.bootTime = s.bootTime
	if c.dirFd, err = unix.Open(c.root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		c.Close()
		return nil, fmt.Errorf("processes: open %s: %w", c.root, err)
	}
	return c, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Topic returns "processes".
func (c *Collector) Topic() string { return Topic }

// OpenFiles is how many descriptors the collector holds now (kept stat
// files, /proc/stat and /proc), for the app's own accounting.
func (c *Collector) OpenFiles() int { return c.open + 2 }

// Close closes every kept descriptor. The collector is unusable after.
func (c *Collector) Close() error {
	for _, p := range c.list {
		c.forget(p)
	}
	c.list = nil
	for _, fd := range []*int{&c.statFd, &c.dirFd} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
	return nil
}

// Collect reads every process once and returns the event for tick t.
func (c *Collector) Collect(t time.Time) ([]byte, error) {
	s, err := c.readSys()
	if err != nil {
		return nil, fmt.Errorf("processes: %w", err)
	}
	var dt float64
	if !c.prevT.IsZero() {
		dt = t.Sub(c.prevT).Seconds()
	}
	// A new process started after the previous tick used all its CPU time
	// within this interval; one already running at the previous tick but
	// unseen then (the first tick) has no baseline.
	sinceMs := int64(-1)
	if !c.prevT.IsZero() {
		sinceMs = c.prevT.UnixMilli()
	}

	// Re-read every known process first: one that exited fails its read
	// and is dropped, so a pid reused since is found as new by the listing
	// below rather than mistaken for the old process.
	live := c.list[:0]
	for _, p := range c.list {
		st, err := c.readPid(p)
		if err != nil {
			c.forget(p)
			continue
		}
		if st.start != p.start { // pid reused, seen through a non-kept fd
			p.start, p.ticks, p.name = st.start, 0, string(st.comm)
			if startMillis(c.bootTime, st.start, c.hz) < sinceMs {
				p.ticks = st.ticks
			}
		}
		c.update(p, st, dt)
		live = append(live, p)
	}
	c.list = live

	// No fork since the last listing means no new pid: skip listing /proc.
	if !c.listed || s.forks != c.prevForks {
		if err := c.discover(dt, sinceMs); err != nil {
			return nil, fmt.Errorf("processes: %w", err)
		}
		c.listed = true
	}

	p := Payload{
		T:         t.UnixMilli(),
		Processes: len(c.list),
		Running:   s.running,
		Blocked:   s.blocked,
	}
	if !c.prevT.IsZero() {
		f := kfile.Rate(c.prevForks, s.forks, dt)
		p.Forks = &f
	}
	for _, q := range c.list {
		p.Threads += q.threads
	}
	p.TopCPU = c.rows(topBy(c.list, c.topN, byCPU))
	p.TopRSS = c.rows(topBy(c.list, c.topN, byRSS))
	c.prevT, c.prevForks = t, s.forks
	return json.Marshal(&p)
}

// update stores a fresh read of p.
func (c *Collector) update(p *proc, st pidStat, dt float64) {
	p.cpu = cpuPercent(p.ticks, st.ticks, dt, c.hz)
	p.ticks = st.ticks
	p.rss = st.rssPg * c.page
	p.threads = st.threads
	p.state = st.state
	// comm changes only through prctl or exec; comparing first keeps the
	// common case free of allocation.
	if string(st.comm) != p.name {
		p.name = string(st.comm)
	}
}

// discover lists /proc and starts tracking every pid not yet known.
func (c *Collector) discover(dt float64, sinceMs int64) error {
	if _, err := unix.Seek(c.dirFd, 0, 0); err != nil {
		return fmt.Errorf("rewind %s: %w", c.root, err)
	}
	for {
		n, err := unix.Getdents(c.dirFd, c.dentBuf)
		if err != nil {
			return fmt.Errorf("list %s: %w", c.root, err)
		}
		if n <= 0 {
			return nil
		}
		for b := c.dentBuf[:n]; len(b) > 0; {
			// struct linux_dirent64: ino u64, off s64, reclen u16,
			// type u8, then the NUL-terminated name.
			reclen := int(b[16]) | int(b[17])<<8
			name := b[19:reclen]
			b = b[reclen:]
			pid := 0
			for _, ch := range name {
				if ch == 0 {
					break
				}
				if ch < '0' || ch > '9' {
					pid = -1
					break
				}
				pid = pid*10 + int(ch-'0')
			}
			if pid <= 0 {
				continue
			}
			if _, known := c.procs[pid]; known {
				continue
			}
			c.track(pid, dt, sinceMs)
		}
	}
}

// track starts following a pid found in /proc.
func (c *Collector) track(pid int, dt float64, sinceMs int64) {
	p := &proc{pid: pid, fd: -1}
	if c.open < c.maxOpen {
		fd, err := unix.Open(c.statPath(pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return // exited between the listing and the open
		}
		p.fd = fd
		c.open++
	}
	st, err := c.readPid(p)
	if err != nil {
		c.forget(p)
		return
	}
	p.start, p.name = st.start, string(st.comm)
	if startMillis(c.bootTime, st.start, c.hz) < sinceMs || sinceMs < 0 {
		p.ticks = st.ticks // no baseline: 0 % this tick
	}
	c.update(p, st, dt)
	c.procs[pid] = p
	c.list = append(c.list, p)
}

// forget stops following p and closes its descriptor.
func (c *Collector) forget(p *proc) {
	if p.fd >= 0 {
		unix.Close(p.fd)
		p.fd = -1
		c.open--
	}
	delete(c.procs, p.pid)
}

func (c *Collector) statPath(pid int) string {
	return c.root + "/" + strconv.Itoa(pid) + "/stat"
}

// readPid reads and parses p's stat file; the returned comm aliases c.buf.
func (c *Collector) readPid(p *proc) (pidStat, error) {
	var n int
	var err error
	if p.fd >= 0 {
		n, err = unix.Pread(p.fd, c.buf, 0)
	} else {
		var fd int
		fd, err = unix.Open(c.statPath(p.pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			n, err = unix.Read(fd, c.buf)
			unix.Close(fd)
		}
	}
	if err != nil {
		return pidStat{}, err
	}
	return parsePidStat(c.buf[:n])
}

// readSys reads /proc/stat through the kept descriptor, growing the buffer
// for hosts whose interrupt line is long.
func (c *Collector) readSys() (sysStat, error) {
	for {
		n, err := unix.Pread(c.statFd, c.sysBuf, 0)
		if err != nil {
			return sysStat{}, fmt.Errorf("read %s/stat: %w", c.root, err)
		}
		if n < len(c.sysBuf) {
			return parseSysStat(c.sysBuf[:n])
		}
		if len(c.sysBuf) >= 16<<20 {
			return sysStat{}, errors.New("read /proc/stat: larger than 16 MiB")
		}
		c.sysBuf = make([]byte, 2*len(c.sysBuf))
	}
}

// rows builds the payload rows for ps; only here are user names and
// command lines looked up, for at most 2×TopN processes per tick.
func (c *Collector) rows(ps []*proc) []Row {
	rows := make([]Row, 0, len(ps))
	for _, p := range ps {
		r := Row{
			PID:     p.pid,
			Name:    p.name,
			User:    c.user(p),
			State:   string(p.state),
			CPU:     p.cpu,
			RSS:     p.rss,
			Threads: p.threads,
			Start:   startMillis(c.bootTime, p.start, c.hz),
		}
		if c.cmdline {
			if b, err := os.ReadFile(filepath.Join(c.root, strconv.Itoa(p.pid), "cmdline")); err == nil {
				r.Cmdline = cmdlineString(b, cmdlineMax)
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// user names the owner of p: the owner of its /proc entry, which the
// kernel sets to the process's effective uid (root for processes that
// made themselves non-dumpable, as sshd and some setuid helpers do).
// Reading /proc/<pid>/status for the real uid would cost a second,
// longer file per row.
func (c *Collector) user(p *proc) string {
	var st unix.Stat_t
	var err error
	if p.fd >= 0 {
		err = unix.Fstat(p.fd, &st)
	} else {
		err = unix.Stat(c.statPath(p.pid), &st)
	}
	if err != nil {
		return ""
	}
	c.loadUsers()
	if name, ok := c.users[st.Uid]; ok {
		return name
	}
	return strconv.FormatUint(uint64(st.Uid), 10)
}

// loadUsers (re)reads <etc>/passwd when it changed; one stat per call.
func (c *Collector) loadUsers() {
	path := filepath.Join(c.etc, "passwd")
	fi, err := os.Stat(path)
	if err != nil {
		if !c.logged[path] {
			c.logged[path] = true
			c.log.Debug("processes: user names unavailable, sending uids", "err", err)
		}
		return
	}
	if c.users != nil && fi.ModTime().Equal(c.passwdMod) {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	c.users, c.passwdMod = parsePasswd(f), fi.ModTime()
}

func byCPU(a, b *proc) bool {
	if a.cpu != b.cpu {
		return a.cpu > b.cpu
	}
	if a.rss != b.rss {
		return a.rss > b.rss
	}
	return a.pid < b.pid
}

func byRSS(a, b *proc) bool {
	if a.rss != b.rss {
		return a.rss > b.rss
	}
	return a.pid < b.pid
}

// topBy returns the n first processes in the order of less, by insertion
// into a short sorted slice: O(len(ps)·n) compares, no sort of the whole
// list and no allocation beyond the result.
func topBy(ps []*proc, n int, less func(a, b *proc) bool) []*proc {
	top := make([]*proc, 0, n+1)
	for _, p := range ps {
		if len(top) == n && !less(p, top[n-1]) {
			continue
		}
		i := len(top)
		for i > 0 && less(p, top[i-1]) {
			i--
		}
		top = append(top, nil)
		copy(top[i+1:], top[i:])
		top[i] = p
		if len(top) > n {
			top = top[:n]
		}
	}
	return top
}
