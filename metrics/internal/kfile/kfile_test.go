package kfile

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want int64
		ok   bool
	}{
		{"plain", "42", 42, true},
		{"newline", "42000\n", 42000, true},
		{"negative", "-5000\n", -5000, true},
		{"empty", "", 0, false},
		{"max keyword", "max\n", 0, false},
		{"overflow", "99999999999999999999999", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseInt([]byte(tc.in))
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParseInt(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestRate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prev, cur uint64
		dt, want  float64
	}{
		{"steady", 100, 300, 2, 100},
		{"backwards", 300, 100, 1, 0},
		{"no time", 1, 2, 0, 0},
		{"rounded", 0, 1, 3, 0.33},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Rate(tc.prev, tc.cur, tc.dt); got != tc.want {
				t.Fatalf("Rate = %v, want %v", got, tc.want)
			}
		})
	}
}
