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

func TestMemoryFrom(t *testing.T) {
	const kb = 1024
	page := uint64(4096)
	tests := []struct {
		name     string
		meminfo  string
		low      uint64 // bytes
		arc      arcStats
		wantUsed uint64
		wantAvl  uint64
		wantCach uint64
	}{
		{
			name:     "MemAvailable is used as the kernel gives it",
			meminfo:  "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 600 kB\nCached: 300 kB\nSReclaimable: 50 kB\n",
			wantUsed: 400 * kb, wantAvl: 600 * kb, wantCach: 350 * kb,
		},
		{
			name: "no MemAvailable: the kernel's estimate with the low watermarks",
			meminfo: "MemTotal: 1000 kB\nMemFree: 200 kB\nCached: 300 kB\nActive(file): 200 kB\n" +
				"Inactive(file): 100 kB\nSReclaimable: 40 kB\n",
			low: 50 * kb,
			// 200-50 + 300-min(150,50) + 40-min(20,50) = 150 + 250 + 20
			wantUsed: 580 * kb, wantAvl: 420 * kb, wantCach: 340 * kb,
		},
		{
			name:     "no MemAvailable, free below the watermarks and no cache: all used, no wrap",
			meminfo:  "MemTotal: 1000 kB\nMemFree: 4 kB\nCached: 3 kB\nActive(file): 2 kB\nInactive(file): 1 kB\nSReclaimable: 1 kB\n",
			low:      3587 * page,
			wantUsed: 1000 * kb, wantAvl: 0, wantCach: 4 * kb,
		},
		{
			name:     "no MemAvailable, no file LRU counts (before 2.6.28): Cached is the page cache",
			meminfo:  "MemTotal: 1000 kB\nMemFree: 100 kB\nCached: 200 kB\n",
			wantUsed: 700 * kb, wantAvl: 300 * kb, wantCach: 200 * kb,
		},
		{
			name: "LXC: MemAvailable above MemTotal is replaced by the estimate without watermarks",
			meminfo: "MemTotal: 1000 kB\nMemFree: 500 kB\nMemAvailable: 2500 kB\nCached: 200 kB\n" +
				"Active(file): 100 kB\nInactive(file): 50 kB\nSReclaimable: 0 kB\n",
			low:      999 * kb,
			wantUsed: 350 * kb, wantAvl: 650 * kb, wantCach: 200 * kb,
		},
		{
			name:     "the ARC above its minimum is cache and available",
			meminfo:  "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 200 kB\nCached: 100 kB\n",
			arc:      arcStats{Size: 600 * kb, Min: 100 * kb},
			wantUsed: 300 * kb, wantAvl: 700 * kb, wantCach: 600 * kb,
		},
		{
			name:     "an ARC at its minimum frees nothing",
			meminfo:  "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 200 kB\nCached: 100 kB\n",
			arc:      arcStats{Size: 100 * kb, Min: 200 * kb},
			wantUsed: 800 * kb, wantAvl: 200 * kb, wantCach: 100 * kb,
		},
		{
			name:     "used + available never exceed total",
			meminfo:  "MemTotal: 1000 kB\nMemFree: 900 kB\nMemAvailable: 950 kB\nCached: 10 kB\n",
			arc:      arcStats{Size: 5000 * kb},
			wantUsed: 0, wantAvl: 1000 * kb, wantCach: 1000 * kb,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := memoryFrom(parseMeminfo(tt.meminfo), tt.low, tt.arc)
			if p.Used != tt.wantUsed || p.Available != tt.wantAvl || p.Cached != tt.wantCach {
				t.Errorf("used %d available %d cached %d, want %d %d %d",
					p.Used/kb, p.Available/kb, p.Cached/kb, tt.wantUsed/kb, tt.wantAvl/kb, tt.wantCach/kb)
			}
			if p.Used+p.Available != p.Total {
				t.Errorf("used %d + available %d != total %d", p.Used, p.Available, p.Total)
			}
		})
	}
}

func TestParseZoneinfoAndArcstats(t *testing.T) {
	zone := "Node 0, zone      DMA\n  pages free     900\n        min      70\n        low      87\n        high     105\n" +
		"Node 0, zone    DMA32\n  pages free     3000\n        low      3500\n  protection: (0, 1, 2)\n"
	if got := parseZoneinfoLow(zone); got != 3587 {
		t.Errorf("parseZoneinfoLow = %d, want 3587", got)
	}
	arc := "12 1 0x01 123 33456 7060381966 2410212962578\nname type data\nhits 4 1\nsize 4 8589934592\nc_min 4 1073741824\n"
	if got, want := parseArcstats(arc), (arcStats{Size: 8 << 30, Min: 1 << 30}); got != want {
		t.Errorf("parseArcstats = %+v, want %+v", got, want)
	}
}
