package main

import (
	"vitals/bench/internal/loadresult"
	"vitals/internal/proctest"
)

// monitor reads one process from /proc (and its pprof, if given) at the
// start, through and after the window. A zero pid makes it a no-op.
type monitor struct {
	pid   int
	pprof string
	b, s  proctest.Usage
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
	m.b, _ = proctest.ReadUsage(m.pid)
	if m.pprof != "" {
		m.gBase, m.hBase, _ = pprofStats(m.pprof)
	}
}

func (m *monitor) begin() {
	if m.pid == 0 {
		return
	}
	m.s, _ = proctest.ReadUsage(m.pid)
	m.peak = m.s.RSSKiB
}

func (m *monitor) sample() {
	if m.pid == 0 {
		return
	}
	if p, err := proctest.ReadUsage(m.pid); err == nil {
		m.peak = max(m.peak, p.RSSKiB)
	}
}

// end closes the window; held is the number of streams the RSS growth is
// divided by.
func (m *monitor) end(held int64) *loadresult.ProcReport {
	if m.pid == 0 {
		return nil
	}
	e, err := proctest.ReadUsage(m.pid)
	if err != nil {
		return nil
	}
	r := &loadresult.ProcReport{
		RSSBaseKiB: m.b.RSSKiB, RSSKiB: e.RSSKiB, RSSPeakKiB: max(m.peak, e.RSSKiB),
		CPUPercent: proctest.CPUPercent(m.s, e), Threads: e.Threads,
		GoroutinesBase: m.gBase, HeapBase: m.hBase,
	}
	if held > 0 {
		r.PerStreamKiB = float64(e.RSSKiB-m.b.RSSKiB) / float64(held)
	}
	if m.pprof != "" {
		r.GoroutinesPeak, _, _ = pprofStats(m.pprof)
	}
	return r
}

// after takes the reading once every stream is closed.
func (m *monitor) after(r *loadresult.ProcReport) {
	if m.pid == 0 || r == nil {
		return
	}
	if e, err := proctest.ReadUsage(m.pid); err == nil {
		r.RSSAfterKiB = e.RSSKiB
	}
	if m.pprof != "" {
		r.GoroutinesAfter, r.HeapAfter, _ = pprofStats(m.pprof)
	}
}
