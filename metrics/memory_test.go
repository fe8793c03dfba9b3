package metrics

import (
	"encoding/json"
	"testing"

	"github.com/shirou/gopsutil/v3/load"
	"github.com/shirou/gopsutil/v3/mem"
)

func TestMemoryReading(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name string
		in   mem.VirtualMemoryStat
		want string // JSON of the payload without "t"
	}{
		{
			name: "used is total minus available, with swap",
			in: mem.VirtualMemoryStat{Total: 8 * gib, Available: 6 * gib, Free: 1 * gib, Cached: 4 * gib,
				Buffers: 256 << 20, SwapTotal: 2 * gib, SwapFree: 1536 << 20},
			want: `{"t":0,"total":8589934592,"used":2147483648,"available":6442450944,"cached":4294967296,` +
				`"buffers":268435456,"percent":25,"swap_total":2147483648,"swap_used":536870912}`,
		},
		{
			name: "no swap is null",
			in:   mem.VirtualMemoryStat{Total: 1000, Available: 333},
			want: `{"t":0,"total":1000,"used":667,"available":333,"cached":0,"buffers":0,"percent":66.7,"swap_total":null,"swap_used":null}`,
		},
		{
			name: "available above total is clamped, never an underflowed used",
			in:   mem.VirtualMemoryStat{Total: 1000, Available: 1200, SwapTotal: 10, SwapFree: 20},
			want: `{"t":0,"total":1000,"used":0,"available":1000,"cached":0,"buffers":0,"percent":0,"swap_total":10,"swap_used":0}`,
		},
		{
			name: "zero total does not divide by zero",
			in:   mem.VirtualMemoryStat{},
			want: `{"t":0,"total":0,"used":0,"available":0,"cached":0,"buffers":0,"percent":0,"swap_total":null,"swap_used":null}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(memoryReading(&tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestLoadReading(t *testing.T) {
	tests := []struct {
		name string
		in   *load.AvgStat
		cpus int
		want string
	}{
		{"rounded", &load.AvgStat{Load1: 0.123, Load5: 1.5, Load15: 12.005001}, 4,
			`{"t":0,"load1":0.12,"load5":1.5,"load15":12.01,"cpus":4}`},
		{"no load average is null", nil, 2,
			`{"t":0,"load1":null,"load5":null,"load15":null,"cpus":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(loadReading(tt.in, tt.cpus))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
