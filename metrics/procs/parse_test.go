package procs

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePidStat(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want pidStat
		comm string
		bad  bool
	}{
		{
			name: "plain",
			in:   "1 (systemd) S 0 1 1 0 -1 4194560 112 0 0 0 150 50 0 0 20 0 1 0 5 172000000 3000 18446744073709551615 1 1\n",
			want: pidStat{state: 'S', ticks: 200, threads: 1, start: 5, rssPg: 3000},
			comm: "systemd",
		},
		{
			name: "comm with spaces and parens",
			in:   "7 (a) b) c) R 1 7 7 0 -1 0 0 0 0 0 7 3 0 0 20 0 12 0 900 1 42 0",
			want: pidStat{state: 'R', ticks: 10, threads: 12, start: 900, rssPg: 42},
			comm: "a) b) c",
		},
		{
			name: "negative rss",
			in:   "7 (x) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 -1 0",
			want: pidStat{state: 'Z', threads: 1, start: 9},
			comm: "x",
		},
		{name: "truncated", in: "7 (x) S 1 7 7 0", bad: true},
		{name: "no parens", in: "7 x S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 1 0", bad: true},
		{name: "garbage number", in: "7 (x) S 1 7 7 0 -1 0 0 0 0 0 zz 0 0 0 20 0 1 0 9 0 1 0", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsePidStat([]byte(tc.in))
			if tc.bad {
				if err == nil {
					t.Fatalf("parsePidStat(%q) succeeded, want error", tc.in)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got.comm) != tc.comm {
				t.Errorf("comm = %q, want %q", got.comm, tc.comm)
			}
			got.comm = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParsePidStatAllocates(t *testing.T) {
	line := []byte("1 (systemd) S 0 1 1 0 -1 4194560 112 0 0 0 150 50 0 0 20 0 1 0 5 172000000 3000 18446744073709551615 1 1\n")
	if n := testing.AllocsPerRun(100, func() { parsePidStat(line) }); n != 0 {
		t.Fatalf("parsePidStat allocates %v times, want 0", n)
	}
}

func TestParseSysStat(t *testing.T) {
	got, err := parseSysStat([]byte("cpu 1 2 3\nintr 5 6\nbtime 1700000000\nprocesses 9000\nprocs_running 2\nprocs_blocked 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (sysStat{bootTime: 1700000000, forks: 9000, running: 2, blocked: 1}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if _, err := parseSysStat([]byte("cpu 1 2 3\nbtime 1\n")); err == nil {
		t.Fatal("missing fields accepted")
	}
}

func TestCPUPercent(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prev, cur uint64
		dt        float64
		want      float64
	}{
		{"one busy core", 100, 200, 1, 100},
		{"two threads over two seconds", 0, 400, 2, 200},
		{"idle", 5, 5, 1, 0},
		{"went backwards", 10, 5, 1, 0},
		{"no interval", 0, 10, 0, 0},
		{"rounded", 0, 1, 3, 0.33},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cpuPercent(tc.prev, tc.cur, tc.dt, 100); got != tc.want {
				t.Fatalf("cpuPercent = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStartMillis(t *testing.T) {
	if got := startMillis(1700000000, 12345, 100); got != 1700000123450 {
		t.Fatalf("startMillis = %d", got)
	}
}

func TestParsePasswd(t *testing.T) {
	got := parsePasswd(strings.NewReader("root:x:0:0:root:/root:/bin/bash\n# c\nbad\nx:x:notnum:0::/:/\ndaemon:x:1:1::/:/\nroot2:x:0:0::/:/\n"))
	if len(got) != 2 || got[0] != "root" || got[1] != "daemon" {
		t.Fatalf("parsePasswd = %v", got)
	}
}

func TestCmdlineString(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"arguments joined", "tmux\x00-S\x00/tmp/a b\x00", 100, "tmux -S /tmp/a b"},
		{"kernel thread", "", 100, ""},
		{"capped", "abcdef\x00", 3, "abc"},
		{"invalid UTF-8", "\xff\x00", 100, "\uFFFD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cmdlineString([]byte(tc.in), tc.max); got != tc.want {
				t.Errorf("cmdlineString(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTopBy(t *testing.T) {
	ps := []*proc{
		{pid: 1, cpu: 5, rss: 10},
		{pid: 2, cpu: 50, rss: 1},
		{pid: 3, cpu: 5, rss: 30},
		{pid: 4, cpu: 0, rss: 99},
		{pid: 5, cpu: 50, rss: 1},
	}
	pids := func(ps []*proc) (out []int) {
		for _, p := range ps {
			out = append(out, p.pid)
		}
		return out
	}
	if got := pids(topBy(ps, 3, byCPU)); !equal(got, []int{2, 5, 3}) {
		t.Errorf("top by CPU = %v", got)
	}
	if got := pids(topBy(ps, 2, byRSS)); !equal(got, []int{4, 3}) {
		t.Errorf("top by RSS = %v", got)
	}
	if got := pids(topBy(ps, 10, byRSS)); len(got) != 5 {
		t.Errorf("top 10 of 5 = %v", got)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRedact(t *testing.T) {
	in := []byte(`{"t":1,"processes":1,"threads":1,"running":1,"blocked":0,"forks_per_s":null,"top_cpu":[{"pid":1,"name":"a","user":"root","state":"S","cpu_pct":1,"rss":2,"threads":1,"start":3,"cmdline":"a --password=x"}],"top_rss":[]}`)
	out, err := Redact(in)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(out); strings.Contains(s, "password") || strings.Contains(s, "root") || !strings.Contains(s, `"name":"a"`) {
		t.Fatalf("Redact = %s", s)
	}
	if _, err := Redact([]byte("{")); err == nil {
		t.Fatal("Redact accepted broken JSON")
	}
}
