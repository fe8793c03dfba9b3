package procs

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"

	"vitals/metrics/internal/kfile"
)

// pidStat is the part of /proc/<pid>/stat that the topic uses.
type pidStat struct {
	comm    []byte // aliases the input; copy before keeping
	state   byte
	ticks   uint64 // utime + stime, in clock ticks
	threads uint64
	start   uint64 // starttime, clock ticks after boot
	rssPg   uint64 // resident pages
}

var errStatFormat = errors.New("unexpected /proc/<pid>/stat format")

// parsePidStat parses one /proc/<pid>/stat line without allocating. The
// command name sits in parentheses and may itself hold spaces and ')', so
// the fields are counted from the last ')'.
func parsePidStat(b []byte) (pidStat, error) {
	var s pidStat
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open || closing+2 >= len(b) {
		return s, errStatFormat
	}
	s.comm = b[open+1 : closing]
	rest := b[closing+2:]
	// Fields after the comm, numbered from 0 (state is field 3 in proc(5)).
	const (
		fState   = 0
		fUtime   = 11
		fStime   = 12
		fThreads = 17
		fStart   = 19
		fRSS     = 21
	)
	var utime uint64
	field := 0
	for field <= fRSS {
		end := bytes.IndexByte(rest, ' ')
		var tok []byte
		if end < 0 {
			tok, rest = rest, nil
		} else {
			tok, rest = rest[:end], rest[end+1:]
		}
		var err error
		switch field {
		case fState:
			if len(tok) != 1 {
				return s, errStatFormat
			}
			s.state = tok[0]
		case fUtime:
			utime, err = kfile.ParseUint(tok)
		case fStime:
			s.ticks, err = kfile.ParseUint(tok)
			s.ticks += utime
		case fThreads:
			s.threads, err = kfile.ParseUint(tok)
		case fStart:
			s.start, err = kfile.ParseUint(tok)
		case fRSS:
			// rss is signed in the kernel; a negative value is a
			// transient accounting artefact, shown as 0.
			if len(tok) > 0 && tok[0] == '-' {
				s.rssPg = 0
			} else {
				s.rssPg, err = kfile.ParseUint(tok)
			}
		}
		if err != nil {
			return s, errStatFormat
		}
		field++
		if rest == nil && field <= fRSS {
			return s, errStatFormat
		}
	}
	return s, nil
}

// sysStat is the part of /proc/stat that the topic uses.
type sysStat struct {
	bootTime uint64 // btime, unix seconds
	forks    uint64 // "processes": forks (and clones) since boot
	running  uint64 // procs_running: runnable tasks now
	blocked  uint64 // procs_blocked: tasks in uninterruptible I/O wait now
}

// parseSysStat picks btime, processes, procs_running and procs_blocked out
// of /proc/stat.
func parseSysStat(b []byte) (sysStat, error) {
	var s sysStat
	found := 0
	for line := range bytes.Lines(b) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		var dst *uint64
		var val []byte
		switch {
		case bytes.HasPrefix(line, []byte("btime ")):
			dst, val = &s.bootTime, line[len("btime "):]
		case bytes.HasPrefix(line, []byte("processes ")):
			dst, val = &s.forks, line[len("processes "):]
		case bytes.HasPrefix(line, []byte("procs_running ")):
			dst, val = &s.running, line[len("procs_running "):]
		case bytes.HasPrefix(line, []byte("procs_blocked ")):
			dst, val = &s.blocked, line[len("procs_blocked "):]
		default:
			continue
		}
		n, err := kfile.ParseUint(val)
		if err != nil {
			return s, errors.New("parse /proc/stat: bad " + string(bytes.Fields(line)[0]))
		}
		*dst = n
		found++
	}
	if found < 4 {
		return s, errors.New("parse /proc/stat: btime, processes, procs_running or procs_blocked missing")
	}
	return s, nil
}

// cpuPercent is the CPU a process used between two samples, as a
// percentage of one core: ticks of utime+stime over the interval's ticks.
// A counter that went backwards (it can't, short of pid reuse that slipped
// through) gives 0.
func cpuPercent(prev, cur uint64, dt float64, hz uint64) float64 {
	if cur < prev || dt <= 0 || hz == 0 {
		return 0
	}
	return kfile.Round2(float64(cur-prev) / (dt * float64(hz)) * 100)
}

// startMillis turns a starttime in clock ticks after boot into unix ms.
func startMillis(bootTime, startTicks, hz uint64) int64 {
	if hz == 0 {
		return 0
	}
	return int64(bootTime)*1000 + int64(startTicks*1000/hz)
}

// parsePasswd maps uids to user names from an /etc/passwd in its usual
// "name:x:uid:gid:..." form; malformed lines are skipped.
func parsePasswd(r io.Reader) map[uint32]string {
	users := make(map[uint32]string)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.SplitN(line, ":", 4)
		if len(f) < 4 || f[0] == "" {
			continue
		}
		uid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		if _, dup := users[uint32(uid)]; !dup { // first entry wins, as getpwuid does
			users[uint32(uid)] = f[0]
		}
	}
	return users
}

// cmdlineString turns /proc/<pid>/cmdline (NUL-separated arguments) into
// one space-separated line, capped at max bytes so one process with a huge
// argument list can't bloat every event.
func cmdlineString(b []byte, max int) string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) > max {
		b = b[:max]
	}
	return strings.ToValidUTF8(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})), "\uFFFD")
}
