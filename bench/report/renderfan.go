package main

import (
	"fmt"
	"runtime"

	"vitals/bench/internal/loadresult"
)

// renderFan writes the fan-out section: every server's figures, vitals as
// a ratio of the floor and of the gin baseline, the targets, and the model
// for counts this machine can't hold.
func (rep *report) renderFan(p func(string, ...any)) {
	p("## Fan-out (every stream subscribed to the five core topics at 1 Hz)\n\n")
	p("Three servers on the same streams, one after the other: vitals; the floor (`bench/floor`: accept, read the request head, answer a fixed head, then one write of a %d-byte block per connection per tick from one writer per core, the size of vitals' tick body for these topics; no ids, history, heartbeats, deadlines or slow-reader handling); and the gin baseline.\n\n", rep.tickBytes)
	p("| streams | server | held | missed | events/s (expected) | p50 / p99 / max ms | server CPU %% of a core | server RSS | RSS per stream | kernel memory per stream | loadgen per stream |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range rep.fan {
		for _, row := range []struct {
			name string
			r    *loadresult.Result
			kern int64
		}{{"vitals", f.vitals, f.vitalsKern}, {"floor", f.floor, f.floorKern}, {"gin baseline", f.gin, -1}} {
			r := row.r
			if r == nil {
				continue
			}
			s := r.Server
			if s == nil {
				s = &loadresult.ProcReport{}
			}
			kern := "–"
			if row.kern >= 0 && r.Held > 0 {
				kern = fmtKiB(float64(row.kern) / float64(r.Held))
			}
			p("| %d | %s | %d | %d (%d streams) | %.0f (%.0f) | %.1f / %.1f / %.1f | %.1f | %s | %.1f KiB | %s | %.1f KiB |\n",
				f.n, row.name, r.Held, r.Check.Missed, r.Check.StreamsMissed, r.EventsPerSec, r.ExpectedPerSec,
				r.Latency.P50, r.Latency.P99, r.Latency.Max, s.CPUPercent, kib(s.RSSKiB), s.PerStreamKiB, kern, r.Loadgen.PerStreamKiB)
		}
	}
	p("\nKernel memory is `/proc/meminfo`'s `Slab` halfway through the window less its value before the run, divided by the streams: the sockets, TCP state, files and epoll entries of both ends of each loopback connection, which are in no process's RSS (other work on the machine moves it too). Socket buffers hold only unread bytes: on loopback, between ticks, next to nothing.\n")

	p("\nvitals ÷ floor (1.00: as cheap as the least a server can do):\n\n| streams | p99 latency | server CPU | RSS per stream |\n|---|---|---|---|\n")
	for _, f := range rep.fan {
		if f.vitals == nil || f.floor == nil || f.vitals.Server == nil || f.floor.Server == nil {
			continue
		}
		vs, fs := f.vitals.Server, f.floor.Server
		p("| %d | %s | %s | %s |\n", f.n, ratio(f.vitals.Latency.P99, f.floor.Latency.P99),
			ratio(vs.CPUPercent, fs.CPUPercent), ratio(vs.PerStreamKiB, fs.PerStreamKiB))
	}
	p("\nGin baseline ÷ vitals (above 1: vitals is cheaper or faster):\n\n| streams | server CPU | RSS per stream | p99 latency | missed (gin / vitals) |\n|---|---|---|---|---|\n")
	for _, f := range rep.fan {
		if f.vitals == nil || f.gin == nil || f.vitals.Server == nil || f.gin.Server == nil {
			continue
		}
		vs, gs := f.vitals.Server, f.gin.Server
		p("| %d | %s | %s | %s | %d / %d |\n", f.n, ratio(gs.CPUPercent, vs.CPUPercent), ratio(gs.PerStreamKiB, vs.PerStreamKiB),
			ratio(f.gin.Latency.P99, f.vitals.Latency.P99), f.gin.Check.Missed, f.vitals.Check.Missed)
	}

	p("\nTargets:\n\n")
	for _, f := range rep.fan {
		r := f.vitals
		if r == nil || r.Server == nil {
			continue
		}
		s := r.Server
		switch f.n {
		case 10000:
			p("- 10,000 streams: 0 missed ids %s (%d); p99 <= 50 ms %s (%.1f ms); <= 16 KiB RSS per stream %s (%.1f KiB); CPU <= 25 %% of a core %s (%.1f %%).\n",
				verdict(r.Check.Missed == 0), r.Check.Missed, verdict(r.Latency.P99 <= 50), r.Latency.P99,
				verdict(s.PerStreamKiB <= 16), s.PerStreamKiB, verdict(s.CPUPercent <= 25), s.CPUPercent)
			if fl := f.floor; fl != nil && fl.Server != nil {
				p("- 10,000 streams against the floor: p99 <= 1.1× floor %s (%s); CPU <= 1.2× floor %s (%s); RSS <= 4 KiB per stream %s (%.1f KiB).\n",
					verdict(r.Latency.P99 <= 1.1*fl.Latency.P99), ratio(r.Latency.P99, fl.Latency.P99),
					verdict(s.CPUPercent <= 1.2*fl.Server.CPUPercent), ratio(s.CPUPercent, fl.Server.CPUPercent),
					verdict(s.PerStreamKiB <= 4), s.PerStreamKiB)
			}
		case 50000:
			p("- 50,000 streams: holds %s (%d held); 0 missed ids %s (%d); p99 <= 250 ms %s (%.1f ms).\n",
				verdict(r.Held == int64(f.n)), r.Held, verdict(r.Check.Missed == 0), r.Check.Missed, verdict(r.Latency.P99 <= 250), r.Latency.P99)
		}
	}
	for _, n := range rep.fanSkipped {
		p("- %d streams: not run here; the hard open-file limit (`ulimit -Hn`) is below what one process needs to hold them. The model below stands in for it; `make bench` runs it wherever the limit allows.\n", n)
	}
	p("\nThe floor and the gin baseline have no ids, so their missed events are counted from sample times (one per topic per second); vitals' are counted id by id against `GET /api/history`.\n\n")
	rep.renderModel(p)
}

// renderModel scales the largest measured fan-out to 50,000 and 100,000
// streams. Per-stream CPU and memory are taken as linear in streams (each
// tick is one write per stream; each stream holds the same state), and so
// is the tick's burst: the last stream's write waits for every write
// before it on the same cores, so p99 grows with streams per core.
func (rep *report) renderModel(p func(string, ...any)) {
	var f *fanPair
	for i := range rep.fan {
		if g := &rep.fan[i]; g.vitals != nil && g.vitals.Server != nil && g.vitals.Held > 0 && (f == nil || g.n > f.n) {
			f = g
		}
	}
	if f == nil {
		return
	}
	v, s := f.vitals, f.vitals.Server
	held := float64(v.Held)
	cpuPer := s.CPUPercent / held // % of a core per stream
	rssPer := s.PerStreamKiB
	kernPer := -1.0
	if f.vitalsKern >= 0 {
		kernPer = float64(f.vitalsKern) / held
	}
	p("### Model: 50,000 and 100,000 streams\n\n")
	p("Scaled from the %d-stream run above: %.5f %% of a core and %.2f KiB of RSS per stream, %.0f MiB of RSS without streams; the p99 burst scaled by streams per core. Loopback doubles the kernel's share (it also does the receiving side's TCP work), so on a real network the server's share of the CPU and the latency are lower than shown. Cores here: the server's writes must fit within one tick, with room for the sampler and the readers; the row says how many cores keep the burst at or below this run's p99.\n\n",
		f.n, cpuPer, rssPer, float64(s.RSSBaseKiB)/1024)
	p("| streams | server CPU (average) | cores for this run's p99 | p99 on this machine's cores | RSS | kernel memory (both ends) |\n|---|---|---|---|---|---|\n")
	for _, n := range []float64{50000, 100000} {
		scale := n / held
		kern := "–"
		if kernPer >= 0 {
			kern = fmtMiB(kernPer * n)
		}
		p("| %.0f | %.0f %% of a core | %.0f | %.0f ms | %s | %s |\n", n, cpuPer*n, max(1, float64(rep.cores())*scale),
			v.Latency.P99*scale, fmtMiB(float64(s.RSSBaseKiB)+rssPer*n), kern)
	}
	p("\n")
}

func (rep *report) cores() int { return runtime.NumCPU() }

func fmtKiB(k float64) string { return fmt.Sprintf("%.1f KiB", k) }

func fmtMiB(k float64) string {
	if k >= 1024*1024 {
		return fmt.Sprintf("%.1f GiB", k/1024/1024)
	}
	return fmt.Sprintf("%.0f MiB", k/1024)
}
