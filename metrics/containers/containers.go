package containers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"vitals/metrics/internal/kfile"
)

// Topic is the topic name of the collector.
const Topic = "containers"

// Options configures [New].
type Options struct {
	// CgroupRoot is where the cgroup hierarchies are mounted; empty means
	// /sys/fs/cgroup. Proc is the host's /proc (for a container's network
	// counters); empty means /proc.
	CgroupRoot, Proc string
	// RuntimeSockets are Docker Engine API sockets asked for container
	// names; nil means /var/run/docker.sock and /run/podman/podman.sock,
	// of which those that exist at New are used. An empty non-nil slice
	// turns the lookup off.
	RuntimeSockets []string
	// RescanTicks is how many ticks the list of cgroups is reused before
	// the tree is walked again; 0 means 10, so a new container shows up
	// within 10 s at a 1 s interval. A vanished one is noticed at once.
	RescanTicks int
	Logger      *slog.Logger // nil -> discard
}

// Container is one container or service in a "containers" event. Rates are
// null on the first tick a container is seen, and network figures are null
// for services and for containers in the host's network namespace (they
// would repeat the host's totals).
type Container struct {
	ID       string   `json:"id"`   // "<kind>/<runtime id, LXC or unit name>": stable, for history
	Kind     string   `json:"kind"` // docker, podman, containerd, lxc, service
	Name     string   `json:"name"`
	Cgroup   string   `json:"cgroup"`
	CPU      *float64 `json:"cpu_pct"`   // % of one core over the interval
	MemUsed  *uint64  `json:"mem_used"`  // bytes: usage minus inactive file cache
	MemLimit *uint64  `json:"mem_limit"` // bytes; null when unlimited
	NetRx    *float64 `json:"net_rx"`    // bytes/s
	NetTx    *float64 `json:"net_tx"`
	IORead   *float64 `json:"io_read"` // bytes/s
	IOWrite  *float64 `json:"io_write"`
}

// Payload is one "containers" event.
type Payload struct {
	T          int64       `json:"t"`
	Containers []Container `json:"containers"`
}

// layout is where the controllers' files are.
type layout struct {
	v2            bool
	cpu, mem, blk string // hierarchy roots; "" when the controller is absent
	walk          string // the hierarchy searched for containers
}

// detect finds the cgroup layout under root: v2 when the root itself is a
// cgroup2 mount (it has cgroup.controllers), else v1 with one hierarchy
// per controller. On a v1 + v2 hybrid the v2 part (root/unified) holds no
// CPU or memory controller, so v1 is the one to read.
func detect(root string) (layout, error) {
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		return layout{v2: true, cpu: root, mem: root, blk: root, walk: root}, nil
	}
	var l layout
	for _, d := range []string{"cpuacct", "cpu,cpuacct", "cpuacct,cpu"} {
		if _, err := os.Stat(filepath.Join(root, d, "cpuacct.usage")); err == nil {
			l.cpu = filepath.Join(root, d)
			break
		}
	}
	if _, err := os.Stat(filepath.Join(root, "memory", "memory.usage_in_bytes")); err == nil {
		l.mem = filepath.Join(root, "memory")
	}
	if _, err := os.Stat(filepath.Join(root, "blkio", "blkio.throttle.io_service_bytes")); err == nil {
		l.blk = filepath.Join(root, "blkio")
	}
	l.walk = l.cpu
	if l.walk == "" {
		l.walk = l.mem
	}
	if l.walk == "" {
		return l, fmt.Errorf("no cgroup v2 and no v1 cpuacct or memory hierarchy under %s", root)
	}
	return l, nil
}

// ctr is the state kept for one cgroup between ticks.
type ctr struct {
	rel            string
	kind, id, name string
	limit          uint64
	hasLimit       bool
	netPid         int // a process in the cgroup with its own network namespace; 0: none
	files          [nFiles]kept
	seen           bool
	prev           sample
	prevOK         bool
}

// sample is one read of a cgroup's counters.
type sample struct {
	cpuNs          uint64
	cpuOK          bool
	memUsed        uint64
	memOK          bool
	rx, tx         uint64
	netOK          bool
	ioRead, ioWrit uint64
	ioOK           bool
}

// The files read on every tick, kept open between ticks: an open costs as
// much as the read itself.
const (
	fCPU     = iota // cpu.stat (v2) or cpuacct.usage (v1)
	fMem            // memory.current or memory.usage_in_bytes
	fMemStat        // memory.stat
	fIO             // io.stat or blkio.throttle.io_service_bytes
	fNet            // /proc/<netPid>/net/dev
	nFiles
)

// kept is a file read on every tick through a descriptor kept open.
type kept struct {
	path string // "" when the controller is absent
	fd   int    // -1 when not open
}

// maxKept caps the descriptors the collector keeps open (five per
// container): they share RLIMIT_NOFILE with every stream, so it stays far
// below the soft limit the Go runtime raises at start. Past it files are
// opened and closed on each read.
const maxKept = 1024

// Collector is the "containers" collector. See the package documentation.
type Collector struct {
	lay       layout
	proc      string
	rescan    int
	log       *slog.Logger
	names     *runtimeNames // nil without a runtime socket
	hostNetNS string

	ctrs      map[string]*ctr
	open      int    // descriptors kept in ctrs
	buf       []byte // one file's content, reused
	sinceScan int
	prevT     time.Time
}

// maxWalk bounds the cgroups visited in one walk: a host with thousands of
// transient scopes must not make one tick slow. Containers are at most a
// few levels down and found long before.
const maxWalk = 5000

// New detects the cgroup layout and starts the name lookup. An error means
// this host can't provide the topic (no readable cgroup hierarchy with CPU
// or memory accounting): the app leaves "containers" out. A host with
// cgroups but no container yet is available and sends an empty list.
func New(opts Options) (*Collector, error) {
	root := opts.CgroupRoot
	if root == "" {
		root = "/sys/fs/cgroup"
	}
	lay, err := detect(root)
	if err != nil {
		return nil, fmt.Errorf("containers: %w", err)
	}
	c := &Collector{
		lay:    lay,
		proc:   opts.Proc,
		rescan: opts.RescanTicks,
		log:    opts.Logger,
		ctrs:   make(map[string]*ctr),
		buf:    make([]byte, 64<<10),
	}
	if c.proc == "" {
		c.proc = "/proc"
	}
	if c.rescan <= 0 {
		c.rescan = 10
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	// Comparing namespace links needs the right to read /proc/1/ns (root);
	// without it network figures stay null.
	c.hostNetNS, _ = os.Readlink(filepath.Join(c.proc, "1", "ns", "net"))
	sockets := opts.RuntimeSockets
	if sockets == nil {
		for _, s := range []string{"/var/run/docker.sock", "/run/podman/podman.sock"} {
			if _, err := os.Stat(s); err == nil {
				sockets = append(sockets, s)
			}
		}
	}
	if len(sockets) > 0 {
		c.names = newRuntimeNames(sockets, c.log)
	}
	return c, nil
}

// Topic returns "containers".
func (c *Collector) Topic() string { return Topic }

// Close stops the name lookup, waits for it and closes the kept files.
func (c *Collector) Close() error {
	if c.names != nil {
		c.names.close()
	}
	for rel, k := range c.ctrs {
		c.drop(rel, k)
	}
	return nil
}

// drop forgets a container and closes its files.
func (c *Collector) drop(rel string, k *ctr) {
	for i := range k.files {
		c.closeKept(&k.files[i])
	}
	delete(c.ctrs, rel)
}

func (c *Collector) closeKept(f *kept) {
	if f.fd >= 0 {
		unix.Close(f.fd)
		f.fd = -1
		c.open--
	}
}

// readKept reads f from its start into c.buf; the result is valid until
// the next read.
func (c *Collector) readKept(f *kept) ([]byte, error) {
	if f.path == "" {
		return nil, fs.ErrNotExist
	}
	if f.fd < 0 {
		fd, err := unix.Open(f.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: f.path, Err: err}
		}
		if c.open >= maxKept {
			defer unix.Close(fd)
			n, err := unix.Read(fd, c.buf)
			if err != nil {
				return nil, &fs.PathError{Op: "read", Path: f.path, Err: err}
			}
			return c.buf[:n], nil
		}
		f.fd = fd
		c.open++
	}
	n, err := unix.Pread(f.fd, c.buf, 0)
	if err != nil {
		// ENODEV: the cgroup was removed under the open file.
		c.closeKept(f)
		if errors.Is(err, unix.ENODEV) {
			err = fs.ErrNotExist
		}
		return nil, &fs.PathError{Op: "read", Path: f.path, Err: err}
	}
	return c.buf[:n], nil
}

// Collect reads every known container and returns the event for tick t.
func (c *Collector) Collect(t time.Time) ([]byte, error) {
	if c.sinceScan == 0 || c.sinceScan >= c.rescan {
		if err := c.scan(); err != nil {
			return nil, fmt.Errorf("containers: %w", err)
		}
		c.sinceScan = 0
	}
	c.sinceScan++
	var dt float64
	if !c.prevT.IsZero() {
		dt = t.Sub(c.prevT).Seconds()
	}
	p := Payload{T: t.UnixMilli(), Containers: []Container{}}
	for key, k := range c.ctrs {
		s, gone := c.read(k)
		if gone {
			c.drop(key, k)
			c.sinceScan = c.rescan // look for what replaced it next tick
			continue
		}
		out := Container{
			ID:     k.kind + "/" + k.id,
			Kind:   k.kind,
			Name:   c.nameOf(k),
			Cgroup: k.rel,
		}
		if s.memOK {
			out.MemUsed = &s.memUsed
		}
		if k.hasLimit {
			out.MemLimit = &k.limit
		}
		if k.prevOK && dt > 0 {
			prev := k.prev
			if s.cpuOK && prev.cpuOK {
				out.CPU = ptr(cpuPercent(prev.cpuNs, s.cpuNs, dt))
			}
			if s.netOK && prev.netOK {
				out.NetRx, out.NetTx = ptr(kfile.Rate(prev.rx, s.rx, dt)), ptr(kfile.Rate(prev.tx, s.tx, dt))
			}
			if s.ioOK && prev.ioOK {
				out.IORead, out.IOWrite = ptr(kfile.Rate(prev.ioRead, s.ioRead, dt)), ptr(kfile.Rate(prev.ioWrit, s.ioWrit, dt))
			}
		}
		k.prev, k.prevOK = s, true
		p.Containers = append(p.Containers, out)
	}
	slices.SortFunc(p.Containers, func(a, b Container) int {
		if a.Kind != b.Kind {
			return strings.Compare(a.Kind, b.Kind)
		}
		return strings.Compare(a.Name+a.ID, b.Name+b.ID)
	})
	c.prevT = t
	return json.Marshal(&p)
}

func ptr[T any](v T) *T { return &v }

func (c *Collector) nameOf(k *ctr) string {
	if k.name != "" {
		return k.name
	}
	if c.names != nil && (k.kind == KindDocker || k.kind == KindPodman) {
		if n, ok := c.names.name(k.id); ok {
			return n
		}
	}
	if isContainerID(k.id) {
		return k.id[:12] // what `docker ps` shows
	}
	return k.id
}

// scan walks the cgroup tree for containers and services, keeping the
// state of those already known. A container's own sub-cgroups are not
// searched: they are part of it.
func (c *Collector) scan() error {
	for _, k := range c.ctrs {
		k.seen = false
	}
	visited := 0
	err := filepath.WalkDir(c.lay.walk, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == c.lay.walk {
				return err
			}
			return nil // vanished while walking
		}
		if !d.IsDir() {
			return nil
		}
		if visited++; visited > maxWalk {
			return filepath.SkipAll
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(p, c.lay.walk), "/")
		kind, id, ok := classify(rel)
		if !ok {
			return nil
		}
		k := c.ctrs[rel]
		if k == nil {
			k = c.newCtr(rel, kind, id)
			c.ctrs[rel] = k
		}
		k.seen = true
		c.readLimit(k)
		c.findNetPid(k)
		return filepath.SkipDir
	})
	if err != nil {
		return fmt.Errorf("walk %s: %w", c.lay.walk, err)
	}
	for rel, k := range c.ctrs {
		if !k.seen {
			c.drop(rel, k)
		}
	}
	return nil
}

// newCtr sets up the files a container is read from.
func (c *Collector) newCtr(rel, kind, id string) *ctr {
	k := &ctr{rel: rel, kind: kind, id: id}
	for i := range k.files {
		k.files[i].fd = -1
	}
	l := c.lay
	at := func(root, file string) string {
		if root == "" {
			return ""
		}
		return filepath.Join(root, rel, file)
	}
	if l.v2 {
		k.files[fCPU].path = at(l.cpu, "cpu.stat")
		k.files[fMem].path = at(l.mem, "memory.current")
		k.files[fIO].path = at(l.blk, "io.stat")
	} else {
		k.files[fCPU].path = at(l.cpu, "cpuacct.usage")
		k.files[fMem].path = at(l.mem, "memory.usage_in_bytes")
		k.files[fIO].path = at(l.blk, "blkio.throttle.io_service_bytes")
	}
	k.files[fMemStat].path = at(l.mem, "memory.stat")
	return k
}

// readLimit reads the memory limit, which changes only by an operator's
// hand: once per scan is enough.
func (c *Collector) readLimit(k *ctr) {
	if c.lay.mem == "" {
		return
	}
	file := "memory.limit_in_bytes"
	if c.lay.v2 {
		file = "memory.max"
	}
	if b, err := os.ReadFile(filepath.Join(c.lay.mem, k.rel, file)); err == nil {
		k.limit, k.hasLimit = parseLimit(b)
	}
}

// findNetPid picks a process of a container whose network namespace is
// not the host's; its /proc/<pid>/net/dev is then the container's traffic.
func (c *Collector) findNetPid(k *ctr) {
	k.netPid = 0
	c.closeKept(&k.files[fNet])
	k.files[fNet].path = ""
	if k.kind == KindService || c.hostNetNS == "" {
		return
	}
	b, err := os.ReadFile(filepath.Join(c.lay.walk, k.rel, "cgroup.procs"))
	if err != nil {
		return
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(first)
	if err != nil {
		return
	}
	ns, err := os.Readlink(filepath.Join(c.proc, first, "ns", "net"))
	if err != nil || ns == c.hostNetNS {
		return
	}
	k.netPid = pid
	k.files[fNet].path = filepath.Join(c.proc, first, "net", "dev")
}

// read takes one sample of k; gone reports that its cgroup was removed
// (the file of the hierarchy that containers are found in has vanished).
func (c *Collector) read(k *ctr) (s sample, gone bool) {
	l := c.lay
	if b, err := c.readKept(&k.files[fCPU]); err == nil {
		if l.v2 {
			us, ok := keyValue(b, "usage_usec")
			s.cpuNs, s.cpuOK = us*1000, ok
		} else {
			n, err := kfile.ParseUint(b)
			s.cpuNs, s.cpuOK = n, err == nil
		}
	} else if errors.Is(err, fs.ErrNotExist) && l.walk == l.cpu {
		return s, true
	}
	if b, err := c.readKept(&k.files[fMem]); err == nil {
		usage, err := kfile.ParseUint(b)
		inactiveKey := "total_inactive_file" // v1: this cgroup and its children
		if l.v2 {
			inactiveKey = "inactive_file"
		}
		if st, err2 := c.readKept(&k.files[fMemStat]); err == nil && err2 == nil {
			inactive, _ := keyValue(st, inactiveKey)
			s.memUsed, s.memOK = memUsed(usage, inactive), true
		}
	} else if errors.Is(err, fs.ErrNotExist) && l.walk == l.mem {
		return s, true
	}
	if b, err := c.readKept(&k.files[fIO]); err == nil {
		if l.v2 {
			s.ioRead, s.ioWrit = parseIOStat(b)
		} else {
			s.ioRead, s.ioWrit = parseBlkio(b)
		}
		s.ioOK = true
	}
	if k.netPid > 0 {
		if b, err := c.readKept(&k.files[fNet]); err == nil {
			s.rx, s.tx, s.netOK = parseNetDev(b)
		} else {
			c.findNetPid(k) // that process exited; try another next tick
		}
	}
	return s, false
}
