package metrics

import (
	"encoding/json"
	"testing"
	"time"
)

// TestRealCollectorsPlausible checks the values the real collectors give on
// this machine, whatever it is: percentages within 0..100, used no more than
// total, rates and loads never negative (null is allowed for a rate: it is
// how an implausible one is published), and every interface of a known
// kind. The fixtures pin the arithmetic; this catches a host shape they
// miss.
func TestRealCollectorsPlausible(t *testing.T) {
	cs, err := NewCollectors(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { CloseCollectors(cs) })
	time.Sleep(50 * time.Millisecond) // let the counters move a little
	for _, c := range cs {
		data, err := c.Collect(time.Now())
		if err != nil {
			t.Errorf("%s: %v", c.Topic(), err)
			continue
		}
		var p map[string]any
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatalf("%s: %v", c.Topic(), err)
		}
		checkPlausible(t, c.Topic(), p)
		t.Logf("%s", data)
	}
}

func checkPlausible(t *testing.T, topic string, p map[string]any) {
	t.Helper()
	num := func(where string, v any) (float64, bool) {
		if v == nil {
			return 0, false
		}
		f, ok := v.(float64)
		if !ok {
			t.Errorf("%s: %s = %v, want a number or null", topic, where, v)
		}
		return f, ok
	}
	percent := func(where string, v any) {
		if f, ok := num(where, v); ok && (f < 0 || f > 100) {
			t.Errorf("%s: %s = %v, want 0..100", topic, where, f)
		}
	}
	nonNegative := func(where string, v any) {
		if f, ok := num(where, v); ok && f < 0 {
			t.Errorf("%s: %s = %v, want >= 0", topic, where, f)
		}
	}
	atMost := func(partName, wholeName string, part, whole any) {
		pf, ok1 := num(partName, part)
		wf, ok2 := num(wholeName, whole)
		if ok1 && ok2 && pf > wf {
			t.Errorf("%s: %s %v > %s %v", topic, partName, pf, wholeName, wf)
		}
	}
	// rates checks the rate keys of p and of every entry of p[entries]
	// (devices, interfaces), and returns those entries.
	rates := func(entries string, keys ...string) map[string]any {
		for _, k := range keys {
			nonNegative(k, p[k])
		}
		each, _ := p[entries].(map[string]any)
		for name, e := range each {
			m, _ := e.(map[string]any)
			for _, k := range keys {
				nonNegative(name+"."+k, m[k])
			}
		}
		return each
	}
	switch topic {
	case topicCPU:
		for _, k := range []string{"total", "user", "system", "iowait", "steal", "idle"} {
			percent(k, p[k])
		}
		cores, _ := p["cores"].([]any)
		if len(cores) == 0 {
			t.Errorf("cpu: no cores")
		}
		for _, v := range cores {
			percent("cores[]", v)
		}
	case topicMemory:
		percent("percent", p["percent"])
		atMost("used", "total", p["used"], p["total"])
		atMost("available", "total", p["available"], p["total"])
		atMost("cached", "total", p["cached"], p["total"])
		used, _ := num("used", p["used"])
		avail, _ := num("available", p["available"])
		total, _ := num("total", p["total"])
		if used+avail > total {
			t.Errorf("memory: used %v + available %v > total %v", used, avail, total)
		}
		atMost("swap_used", "swap_total", p["swap_used"], p["swap_total"])
	case topicLoad:
		for _, k := range []string{"load1", "load5", "load15"} {
			nonNegative(k, p[k])
		}
		if n, _ := num("cpus", p["cpus"]); n < 1 {
			t.Errorf("load: cpus = %v, want >= 1", n)
		}
	case topicDisk:
		rates("devices", "read_bps", "write_bps", "read_iops", "write_iops")
		fss, _ := p["filesystems"].([]any)
		for _, f := range fss {
			m, _ := f.(map[string]any)
			percent("filesystem percent", m["percent"])
			atMost("filesystem used", "total", m["used"], m["total"])
		}
	case topicNetwork:
		ifaces := rates("interfaces", "rx_bps", "tx_bps", "rx_pps", "tx_pps")
		for name, i := range ifaces {
			m, _ := i.(map[string]any)
			switch m["kind"] {
			case kindPhysical, kindBond, kindBridge, kindVeth, kindVLAN, kindTunnel, kindLoopback, kindVirtual, kindUnknown:
			default:
				t.Errorf("network: %s has kind %v", name, m["kind"])
			}
		}
	}
}
