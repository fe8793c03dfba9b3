package metrics

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []cpuCore
		wantErr string
	}{
		{
			name: "two cpus, aggregate line and the rest skipped",
			in: "cpu  9194 0 3100 64809 248 0 61 26 0 0\n" +
				"cpu0 4413 1 1291 32969 28 2 8 11 5 6\n" +
				"cpu1 4781 0 1809 31839 220 0 52 15 0 0\n" +
				"intr 626849 0 0 0\nctxt 12345\n",
			want: []cpuCore{
				{0, cpuTimes{User: 4413, Nice: 1, System: 1291, Idle: 32969, Iowait: 28, Irq: 2, Softirq: 8, Steal: 11}},
				{1, cpuTimes{User: 4781, System: 1809, Idle: 31839, Iowait: 220, Softirq: 52, Steal: 15}},
			},
		},
		{
			name: "old kernel with only four fields, no trailing newline",
			in:   "cpu 10 0 5 100\ncpu0 10 0 5 100",
			want: []cpuCore{{0, cpuTimes{User: 10, System: 5, Idle: 100}}},
		},
		{
			name: "offline cpu leaves a gap in ids",
			in:   "cpu0 1 2 3 4 5 6 7 8\ncpu3 9 9 9 9 9 9 9 9\n",
			want: []cpuCore{
				{0, cpuTimes{1, 2, 3, 4, 5, 6, 7, 8}},
				{3, cpuTimes{9, 9, 9, 9, 9, 9, 9, 9}},
			},
		},
		{name: "no per-cpu lines", in: "cpu  1 2 3 4\nintr 5\n", wantErr: "no per-cpu lines"},
		{name: "too few fields", in: "cpu0 1 2 3\n", wantErr: "want at least 4"},
		{name: "garbage number", in: "cpu0 1 2 x3 4\n", wantErr: "want at least 4"},
		{name: "empty", in: "", wantErr: "no per-cpu lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStat([]byte(tt.in), nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
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
			want: cpuPayload{Idle: 100, Cores: []float64{0}},
		},
		{
			name: "nice counts as user, irq and softirq as system",
			prev: []cpuCore{core(0, base)},
			cur:  []cpuCore{core(0, grow(cpuTimes{User: 10, Nice: 10, System: 5, Irq: 5, Softirq: 10, Idle: 60}))},
			want: cpuPayload{Total: 40, User: 20, System: 20, Idle: 60, Cores: []float64{40}},
		},
		{
			name: "iowait is not busy, steal is",
			prev: []cpuCore{core(0, base)},
			cur:  []cpuCore{core(0, grow(cpuTimes{User: 25, Iowait: 25, Steal: 25, Idle: 25}))},
			want: cpuPayload{Total: 50, User: 25, Iowait: 25, Steal: 25, Idle: 25, Cores: []float64{50}},
		},
		{
			name: "total sums the cores: one busy, one idle",
			prev: []cpuCore{core(0, base), core(1, base)},
			cur:  []cpuCore{core(0, grow(cpuTimes{User: 100})), core(1, grow(cpuTimes{Idle: 100}))},
			want: cpuPayload{Total: 50, User: 50, Idle: 50, Cores: []float64{100, 0}},
		},
		{
			name: "thirds round to two decimals",
			prev: []cpuCore{core(0, base)},
			cur:  []cpuCore{core(0, grow(cpuTimes{User: 1, System: 1, Idle: 1}))},
			want: cpuPayload{Total: 66.67, User: 33.33, System: 33.33, Idle: 33.33, Cores: []float64{66.67}},
		},
		{
			name: "a counter going backwards counts as zero, never negative",
			prev: []cpuCore{core(0, base)},
			cur: []cpuCore{core(0, cpuTimes{
				User: base.User + 50, Nice: base.Nice, System: base.System, Idle: base.Idle + 50,
				Iowait: base.Iowait - 40, // known kernel quirk
				Irq:    base.Irq, Softirq: base.Softirq, Steal: base.Steal,
			})},
			want: cpuPayload{Total: 50, User: 50, Idle: 50, Cores: []float64{50}},
		},
		{
			name: "no time passed",
			prev: []cpuCore{core(0, base)},
			cur:  []cpuCore{core(0, base)},
			want: cpuPayload{Cores: []float64{0}},
		},
		{
			name: "all counters reset (reboot between samples)",
			prev: []cpuCore{core(0, base)},
			cur:  []cpuCore{core(0, cpuTimes{User: 1, Idle: 1})},
			want: cpuPayload{Cores: []float64{0}},
		},
		{
			name: "a cpu that came online reports 0 and is left out of the totals",
			prev: []cpuCore{core(0, base)},
			cur:  []cpuCore{core(0, grow(cpuTimes{User: 100})), core(1, cpuTimes{Idle: 99999})},
			want: cpuPayload{Total: 100, User: 100, Cores: []float64{100, 0}},
		},
		{
			name: "a cpu that went offline is dropped",
			prev: []cpuCore{core(0, base), core(1, base), core(2, base)},
			cur:  []cpuCore{core(0, grow(cpuTimes{Idle: 100})), core(2, grow(cpuTimes{System: 100}))},
			want: cpuPayload{Total: 50, System: 50, Idle: 50, Cores: []float64{0, 100}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cpuUsage(tt.prev, tt.cur, nil)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestNextUint(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want uint64
		rest string
		ok   bool
	}{
		{"plain", "42 7", 42, " 7", true},
		{"leading blanks", " \t18446744073709551615", 18446744073709551615, "", true},
		{"empty", "", 0, "", false},
		{"letters", "abc", 0, "abc", false},
		{"digits then letters", "12ab", 0, "12ab", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rest, ok := nextUint([]byte(tt.in))
			if got != tt.want || string(rest) != tt.rest || ok != tt.ok {
				t.Errorf("nextUint(%q) = %d, %q, %v; want %d, %q, %v", tt.in, got, rest, ok, tt.want, tt.rest, tt.ok)
			}
		})
	}
}
