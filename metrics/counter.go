package metrics

import (
	"encoding/json"
	"sync/atomic"
)

// counter follows one cumulative counter (bytes, packets, I/Os, CPU time)
// from one reading to the next, so that a glitch, a wrap or a reset never
// becomes a rate.
//
// A counter that goes backwards is either reset for real (a driver reload,
// a device re-created under the same name, a 32-bit counter wrapping) or
// read wrong once (drivers have returned 0 for one read). The reading that
// goes backwards can't tell which, so it gives a growth of 0 (a dip, never a
// spike) and the counter keeps the value from before the drop. The next
// reading decides: back at or above the kept value, it was a glitch, and the
// growth is counted from the kept value over the whole time since it was
// read; below it but growing, it was a reset, and the growth is counted from
// the new start.
type counter struct {
	last     uint64  // the last reading
	held     uint64  // the reading before the counter went backwards
	heldSecs float64 // seconds from held to last
	holding  bool    // held is set: the last drop is not explained yet
}

// next takes a reading cur made secs seconds after the last one and returns
// the counter's new state, the growth to publish and the seconds it spans.
func (c counter) next(cur uint64, secs float64) (counter, uint64, float64) {
	switch {
	case c.holding && cur >= c.held:
		// Back where it was: the drop was a glitch.
		return counter{last: cur}, cur - c.held, c.heldSecs + secs
	case c.holding && cur > c.last:
		// Growing from a lower start: the drop was a reset.
		return counter{last: cur}, cur - c.last, secs
	case c.holding:
		// Lower again, or not moving: still unexplained. Keep the value
		// from before the first drop.
		return counter{last: cur, held: c.held, heldSecs: c.heldSecs + secs, holding: true}, 0, secs
	case cur >= c.last:
		return counter{last: cur}, cur - c.last, secs
	default:
		return counter{last: cur, held: c.last, heldSecs: secs, holding: true}, 0, secs
	}
}

// counterLag is how far behind the traffic a counter may be, in seconds.
// Many NIC drivers copy the hardware's counters into the kernel's from a
// periodic job (every 1 to 2 s), so one reading can carry up to two seconds
// of traffic that happened before the interval it closes. A growth is judged
// against what the device can move in the interval plus this lag; a glitch
// (a counter read as garbage, a baseline of 0) is orders of magnitude
// beyond either.
const counterLag = 2.0

// rateOf is growth n over secs seconds as a per-second rate, rounded. It is
// null when there is no interval to divide by (secs <= 0: the clock went
// back) and, with implausible true, when n is more than maxPerSec could
// produce in secs plus [counterLag].
func rateOf(n uint64, secs, maxPerSec float64) (r maybe, implausible bool) {
	if secs <= 0 {
		return maybe{}, false
	}
	if float64(n) > maxPerSec*(secs+counterLag) {
		return maybe{}, true
	}
	return some(round2(float64(n) / secs)), false
}

// rate advances c to reading v, secs after the last, and returns the rate
// to publish, adding 1 to *implausible when it was dropped for being beyond
// limit per second.
func (c *counter) rate(v uint64, secs, limit float64, implausible *int) maybe {
	next, n, span := c.next(v, secs)
	*c = next
	r, bad := rateOf(n, span, limit)
	if bad {
		*implausible++
	}
	return r
}

// maybe is a figure that may be missing; it is JSON null when !OK. A rate
// is missing when the counters can't give a trustworthy one for the
// interval (see rateOf).
type maybe struct {
	V  float64
	OK bool
}

func some(v float64) maybe { return maybe{V: v, OK: true} }

// plus is the sum of two figures, missing when either is: a total that
// leaves out a part is not the total.
func (m maybe) plus(o maybe) maybe {
	if !m.OK || !o.OK {
		return maybe{}
	}
	return some(m.V + o.V)
}

// rounded is m rounded to two decimals.
func (m maybe) rounded() maybe {
	m.V = round2(m.V)
	return m
}

func (m maybe) MarshalJSON() ([]byte, error) {
	if !m.OK {
		return []byte("null"), nil
	}
	return json.Marshal(m.V)
}

// ImplausibleRates is implemented by the collectors that turn counters into
// rates (cpu, disk and network). ImplausibleRates returns how many rates the
// collector has published as null since it was built because the counter
// grew by more than the device can do (a NIC's link speed, a disk's or a
// CPU's maximum): a counter read wrong, never a real burst. It is safe to
// call from any goroutine, at the same time as Collect, so that a metrics
// endpoint can export it.
type ImplausibleRates interface {
	Collector
	ImplausibleRates() uint64
}

// implausibleCount is the counter behind [ImplausibleRates].
type implausibleCount struct {
	n atomic.Uint64
}

func (c *implausibleCount) ImplausibleRates() uint64 { return c.n.Load() }

func (c *implausibleCount) add(n int) {
	if n > 0 {
		c.n.Add(uint64(n))
	}
}

var (
	_ ImplausibleRates = (*cpuCollector)(nil)
	_ ImplausibleRates = (*diskCollector)(nil)
	_ ImplausibleRates = (*networkCollector)(nil)
)
