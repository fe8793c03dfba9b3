package metrics

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/shirou/gopsutil/v3/cpu"
)

func TestCoresFromTimes(t *testing.T) {
	tests := []struct {
		name string
		in   []cpu.TimesStat
		want []cpuCore
	}{
		{"seconds become milliseconds", []cpu.TimesStat{
			{CPU: "cpu0", User: 1.5, Nice: 0.01, System: 2, Idle: 100.25, Iowait: 0.5, Irq: 0.02, Softirq: 0.03, Steal: 0.04},
		}, []cpuCore{{id: 0, times: cpuTimes{User: 1500, Nice: 10, System: 2000, Idle: 100250, Iowait: 500, Irq: 20, Softirq: 30, Steal: 40}}}},
		{"ids come from the name, gaps kept", []cpu.TimesStat{{CPU: "cpu0", User: 1}, {CPU: "cpu2", User: 2}},
			[]cpuCore{{id: 0, times: cpuTimes{User: 1000}}, {id: 2, times: cpuTimes{User: 2000}}}},
		{"odd name keeps its position", []cpu.TimesStat{{CPU: "x", User: 1}, {CPU: "y", User: 1}},
			[]cpuCore{{id: 0, times: cpuTimes{User: 1000}}, {id: 1, times: cpuTimes{User: 1000}}}},
		{"negative is zero", []cpu.TimesStat{{CPU: "cpu0", Iowait: -1}}, []cpuCore{{id: 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := coresFromTimes(tt.in, nil)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCPUUsage(t *testing.T) {
	core := func(id int, tm cpuTimes) cpuCore { return cpuCore{id: id, times: tm} }
	base := cpuTimes{User: 1000, Nice: 100, System: 500, Idle: 5000, Iowait: 50, Irq: 10, Softirq: 20, Steal: 5}
	// grow adds a delta to base.
	grow := func(d cpuTimes) cpuTimes { return base.add(d) }

	tests := []struct {
		name      string
		prev, cur []cpuCore
		want      cpuPayload
	}{
		{
			name: "fully idle",
			prev: []cpuCore{core(0, base)},
			cur:  []cpuCore{core(0, grow(cpuTimes{Idle: 100}))},
			want: cpuPayload{Idle: 100, Cores: pcts(0), CoreIDs: []int{0}},
		},
		{
			name: "nice counts as user, irq and softirq as system",
			prev: []cpuCore{core(0, base)},
			cur:  []cpuCore{core(0, grow(cpuTimes{User: 10, Nice: 10, System: 5, Irq: 5, Softirq: 10, Idle: 60}))},
			want: cpuPayload{Total: 40, User: 20, System: 20, Idle: 60, Cores: pcts(40), CoreIDs: []int{0}},
		},
		{
			name: "iowait is not busy, steal is",
			prev: []cpuCore{core(0, base)},
			cur:  []cpuCore{core(0, grow(cpuTimes{User: 25, Iowait: 25, Steal: 25, Idle: 25}))},
			want: cpuPayload{Total: 50, User: 25, Iowait: 25, Steal: 25, Idle: 25, Cores: pcts(50), CoreIDs: []int{0}},
		},
		{
			name: "total sums the cores: one busy, one idle",
			prev: []cpuCore{core(0, base), core(1, base)},
			cur:  []cpuCore{core(0, grow(cpuTimes{User: 100})), core(1, grow(cpuTimes{Idle: 100}))},
			want: cpuPayload{Total: 50, User: 50, Idle: 50, Cores: pcts(100, 0), CoreIDs: []int{0, 1}},
		},
		{
			name: "thirds round to two decimals",
			prev: []cpuCore{core(0, base)},
			cur:  []cpuCore{core(0, grow(cpuTimes{User: 1, System: 1, Idle: 1}))},
			want: cpuPayload{Total: 66.67, User: 33.33, System: 33.33, Idle: 33.33, Cores: pcts(66.67), CoreIDs: []int{0}},
		},
		{
			name: "a counter going backwards counts as zero, never negative",
			prev: []cpuCore{core(0, base)},
			cur: []cpuCore{core(0, cpuTimes{
				User: base.User + 50, Nice: base.Nice, System: base.System, Idle: base.Idle + 50,
				Iowait: base.Iowait - 40, // known kernel quirk
				Irq:    base.Irq, Softirq: base.Softirq, Steal: base.Steal,
			})},
			want: cpuPayload{Total: 50, User: 50, Idle: 50, Cores: pcts(50), CoreIDs: []int{0}},
		},
		{
			name: "no time passed",
			prev: []cpuCore{core(0, base)},
			cur:  []cpuCore{core(0, base)},
			want: cpuPayload{Cores: pcts(0), CoreIDs: []int{0}},
		},
		{
			name: "all counters reset (reboot between samples)",
			prev: []cpuCore{core(0, base)},
			cur:  []cpuCore{core(0, cpuTimes{User: 1, Idle: 1})},
			want: cpuPayload{Cores: pcts(0), CoreIDs: []int{0}},
		},
		{
			name: "a cpu that came online reports 0 and is left out of the totals",
			prev: []cpuCore{core(0, base)},
			cur:  []cpuCore{core(0, grow(cpuTimes{User: 100})), core(1, cpuTimes{Idle: 99999})},
			want: cpuPayload{Total: 100, User: 100, Cores: pcts(100, 0), CoreIDs: []int{0, 1}},
		},
		{
			name: "a cpu that went offline is dropped; the others keep their numbers",
			prev: []cpuCore{core(0, base), core(1, base), core(2, base)},
			cur:  []cpuCore{core(0, grow(cpuTimes{Idle: 100})), core(2, grow(cpuTimes{System: 100}))},
			want: cpuPayload{Total: 50, System: 50, Idle: 50, Cores: pcts(0, 100), CoreIDs: []int{0, 2}},
		},
		{
			name: "a cpu that comes back keeps its number and reports 0 for its first tick",
			prev: []cpuCore{core(0, base), core(2, base)},
			cur:  []cpuCore{core(0, grow(cpuTimes{Idle: 100})), core(1, base), core(2, grow(cpuTimes{System: 100}))},
			want: cpuPayload{Total: 50, System: 50, Idle: 50, Cores: pcts(0, 0, 100), CoreIDs: []int{0, 1, 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := make(map[int]*cpuState)
			for _, c := range tt.prev {
				s := newCPUState(c.times)
				state[c.id] = &s
			}
			got, implausible := cpuUsage(state, tt.cur, 1, nil, nil)
			if implausible != 0 {
				t.Errorf("implausible = %d, want 0", implausible)
			}
			if len(state) != len(tt.cur) {
				t.Errorf("state keeps %d cpus, want %d", len(state), len(tt.cur))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// pcts is a cores slice of percentages, none of them null.
func pcts(v ...float64) []maybe {
	m := make([]maybe, len(v))
	for i, x := range v {
		m[i] = some(x)
	}
	return m
}

// TestCPUUsageGlitches follows two CPUs over several samples one second
// apart, where one counter misbehaves.
func TestCPUUsageGlitches(t *testing.T) {
	base := cpuTimes{User: 1_000_000, System: 500_000, Idle: 5_000_000}
	// at is base after n seconds at 20 % user, 80 % idle.
	at := func(n uint64) cpuTimes {
		return cpuTimes{User: base.User + 200*n, System: base.System, Idle: base.Idle + 800*n}
	}
	glitch := func(t cpuTimes) cpuTimes { t.User = 0; return t }
	tests := []struct {
		name            string
		samples         [][]cpuTimes // per second, per cpu
		want            [][]maybe    // per sample after the first
		wantImplausible int
	}{
		{
			name:    "user reads 0 once: a dip, then the true share, never 100 %",
			samples: [][]cpuTimes{{at(0), at(0)}, {at(1), glitch(at(1))}, {at(2), at(2)}, {at(3), at(3)}},
			want:    [][]maybe{pcts(20, 0), pcts(20, 20), pcts(20, 20)},
		},
		{
			name: "a core whose counters jump past what a CPU can run is null",
			samples: [][]cpuTimes{{at(0), at(0)}, {at(1), func() cpuTimes {
				c := at(1)
				c.System += 1 << 40
				return c
			}()}},
			want:            [][]maybe{{some(20), {}}},
			wantImplausible: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := make(map[int]*cpuState)
			for id, c := range tt.samples[0] {
				s := newCPUState(c)
				state[id] = &s
			}
			total := 0
			for i, sample := range tt.samples[1:] {
				var cur []cpuCore
				for id, c := range sample {
					cur = append(cur, cpuCore{id: id, times: c})
				}
				p, implausible := cpuUsage(state, cur, 1, nil, nil)
				total += implausible
				if !reflect.DeepEqual(p.Cores, tt.want[i]) {
					t.Errorf("sample %d: cores %+v, want %+v", i+2, p.Cores, tt.want[i])
				}
			}
			if total != tt.wantImplausible {
				t.Errorf("implausible = %d, want %d", total, tt.wantImplausible)
			}
		})
	}
}

// TestOfflineCPUKeepsItsNumber reads the 64-core fixture, where cpu2 is
// offline and cpu3 is 90 % busy: the 90 must be published under 3, not
// under the position 2 that an offline CPU's absence gives it.
func TestOfflineCPUKeepsItsNumber(t *testing.T) {
	var out map[string]map[string]json.RawMessage
	if err := json.Unmarshal(runFixture(t, filepath.Join("testdata", "server-64core")), &out); err != nil {
		t.Fatal(err)
	}
	var p struct {
		Cores   []*float64 `json:"cores"`
		CoreIDs []int      `json:"core_ids"`
	}
	if err := json.Unmarshal(out["step2"]["cpu"], &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Cores) != len(p.CoreIDs) {
		t.Fatalf("%d cores but %d core_ids", len(p.Cores), len(p.CoreIDs))
	}
	byID := map[int]*float64{}
	for i, id := range p.CoreIDs {
		byID[id] = p.Cores[i]
	}
	if _, ok := byID[2]; ok {
		t.Error("offline cpu2 has a value")
	}
	if v := byID[3]; v == nil || *v != 90 {
		t.Errorf("cpu3 = %v, want 90", v)
	}
}
