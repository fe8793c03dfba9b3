package main

// monitor reads one process from /proc (and its pprof, if given) at the
// start, through and after the window. A zero pid makes it a no-op.
type monitor struct {
	pid   int
	pprof string
	b, s  procSample
	peak  int64
	gBase int64
	hBase int64
	gPeak int64
}

func newMonitor(pid int, pprof string) *monitor { return &monitor{pid: pid, pprof: pprof} }

func (m *monitor) base() {
	if m.pid == 0 {
		return
	}
	m.b, _ = readProc(m.pid)
	if m.pprof != "" {
		m.gBase, m.hBase, _ = pprofStats(m.pprof)
	}
}

func (m *monitor) begin() {
	if m.pid == 0 {
		return
	}
	m.s, _ = readProc(m.pid)
	m.peak = m.s.rssKiB
}

func (m *monitor) sample() {
	if m.pid == 0 {
		return
	}
	if p, err := readProc(m.pid); err == nil {
		m.peak = max(m.peak, p.rssKiB)
	}
}

// end closes the window; held is the number of streams the RSS growth is
// divided by.
func (m *monitor) end(held int64) *ProcReport {
	if m.pid == 0 {
		return nil
	}
	e, err := readProc(m.pid)
	if err != nil {
		return nil
	}
	r := &ProcReport{
		RSSBaseKiB: m.b.rssKiB, RSSKiB: e.rssKiB, RSSPeakKiB: max(m.peak, e.rssKiB),
		CPUPercent: cpuPercent(m.s, e), Threads: e.threads,
		GoroutinesBase: m.gBase, HeapBase: m.hBase,
	}
	if held > 0 {
		r.PerStreamKiB = float64(e.rssKiB-m.b.rssKiB) / float64(held)
	}
	if m.pprof != "" {
		r.GoroutinesPeak, _, _ = pprofStats(m.pprof)
	}
	return r
}

// after takes the reading once every stream is closed.
func (m *monitor) after(r *ProcReport) {
	if m.pid == 0 || r == nil {
		return
	}
	if e, err := readProc(m.pid); err == nil {
		r.RSSAfterKiB = e.rssKiB
	}
	if m.pprof != "" {
		r.GoroutinesAfter, r.HeapAfter, _ = pprofStats(m.pprof)
	}
}
