package app

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vitals/history/redisstream"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestParseConfigDefaults(t *testing.T) {
	c, err := parseConfig(nil, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" || c.Interval != time.Second || c.History != time.Hour ||
		c.HistoryBytes != 64<<20 || c.Retry != 2*time.Second || c.Heartbeat != 15*time.Second ||
		c.Tiers.Minutes != 90*24*time.Hour || c.Tiers.Hours != 730*24*time.Hour {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestParseConfigFlagsAndEnv(t *testing.T) {
	c, err := parseConfig(
		[]string{"--interval", "250ms", "--history-bytes", "8MiB", "--retry=1500", "--history-hours", "1y"},
		env("VITALS_INTERVAL", "5s", "VITALS_DATA_DIR", "/tmp/x", "VITALS_HISTORY", "10m", "VITALS_HISTORY_BYTES", "1GiB",
			"VITALS_HISTORY_MINUTES", "30d", "VITALS_HISTORY_MINUTES_BYTES", "16MiB"),
		io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// The flag wins over the variable; variables fill the rest.
	if c.Interval != 250*time.Millisecond || c.HistoryBytes != 8<<20 || c.DataDir != "/tmp/x" || c.History != 10*time.Minute ||
		c.Retry != 1500*time.Millisecond || c.Tiers.Hours != 365*24*time.Hour || c.Tiers.Minutes != 30*24*time.Hour ||
		c.Tiers.MinutesBytes != 16<<20 {
		t.Fatalf("config = %+v", c)
	}
}

func TestParseConfigRejects(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  []string
		want string // the error must name the flag
	}{
		{"interval too short", []string{"--interval", "10ms"}, nil, "--interval"},
		{"interval not a duration", []string{"--interval", "fast"}, nil, "--interval"},
		{"history shorter than interval", []string{"--interval", "2s", "--history", "1s"}, nil, "--history"},
		{"history bytes garbage", []string{"--history-bytes", "lots"}, nil, "--history-bytes"},
		{"history bytes tiny", []string{"--history-bytes", "1KiB"}, nil, "--history-bytes"},
		{"minutes garbage", []string{"--history-minutes", "3 months"}, nil, "--history-minutes"},
		{"minutes too short", []string{"--history-minutes", "10m"}, nil, "--history-minutes"},
		{"hours garbage from env", nil, []string{"VITALS_HISTORY_HOURS", "2yy"}, "--history-hours"},
		{"minutes bytes tiny", []string{"--history-minutes-bytes", "1KiB"}, nil, "--history-minutes-bytes"},
		{"hours bytes garbage", []string{"--history-hours-bytes", "big"}, nil, "--history-hours-bytes"},
		{"retry negative", []string{"--retry", "-5"}, nil, "--retry"},
		{"addr not host:port", []string{"--addr", "nonsense"}, nil, `--addr "nonsense" is not host:port`},
		{"heartbeat zero", []string{"--heartbeat", "0s"}, nil, "--heartbeat"},
		{"unknown flag", []string{"--colour", "red"}, nil, "-colour"},
		{"bad env names variable and flag", nil, []string{"VITALS_INTERVAL", "soon"}, "--interval (from VITALS_INTERVAL)"},
		{"stray argument", []string{"serve"}, nil, `"serve"`},
		{"bad log level", []string{"--log-level", "loud"}, nil, "--log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args, env(tt.env...), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is more than one line: %q", err)
			}
		})
	}
}

func TestParseConfigHelp(t *testing.T) {
	var out strings.Builder
	_, err := parseConfig([]string{"-h"}, env(), &out)
	if !errors.Is(err, ErrHelp) || !strings.Contains(out.String(), "-interval") {
		t.Fatalf("err %v, usage %q", err, out.String())
	}
}

func TestFlagMessagesSayWhatToDo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"typo gets the nearest flag", []string{"--intervall", "1s"}, "unknown flag --intervall: did you mean --interval? (vitals -h lists every flag)"},
		{"far from any flag", []string{"--colour", "red"}, "unknown flag --colour (vitals -h lists every flag)"},
		{"duration shows its form", []string{"--interval", "fast"}, `invalid value "fast" for --interval: want a duration like 500ms, 2s or 1m`},
		{"size shows its form", []string{"--history-bytes", "lots"}, `invalid value "lots" for --history-bytes: want a size like 64MiB, 512KiB or 1GiB`},
		{"missing value", []string{"--addr"}, "flag needs an argument: --addr"},
		{"log level shows its words", []string{"--log-level", "loud"}, `invalid value "loud" for --log-level: want debug, info, warn or error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args, env(), io.Discard)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant    %s", err, tt.want)
			}
		})
	}
}

func TestHelpShowsDefaultsAsTyped(t *testing.T) {
	var out strings.Builder
	parseConfig([]string{"-h"}, env(), &out)
	for _, want := range []string{"(default 64MiB)", "(default 1h)", "(default 10m)", "(default 15s)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}

func TestFormatDurationAndSize(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 10 * time.Minute: "10m", 90 * time.Second: "1m30s", 1500 * time.Millisecond: "1.5s",
		500 * time.Millisecond: "500ms", 2*time.Hour + 30*time.Second: "2h0m30s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
	for n, want := range map[int64]string{64 << 20: "64MiB", 512 << 10: "512KiB", 1 << 30: "1GiB", 1000: "1000", 1536 << 10: "1536KiB"} {
		b := byteSize(n)
		if got := b.String(); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCheckDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	if err := checkDataDir(dir); err != nil {
		t.Fatalf("a missing dir under a writable one: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the write check left %v behind", entries)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	err := checkDataDir(file)
	if err == nil || !strings.HasPrefix(err.Error(), "--data-dir "+file+" is not a writable directory") ||
		strings.Count(err.Error(), file) != 1 {
		t.Fatalf("err = %v: want one line naming --data-dir and the path once", err)
	}
}

func TestVersionFlag(t *testing.T) {
	var out strings.Builder
	_, err := parseConfig([]string{"--version"}, env(), &out)
	if !errors.Is(err, ErrHelp) || !strings.HasPrefix(out.String(), "vitals ") {
		t.Fatalf("err %v, output %q", err, out.String())
	}
}

func TestAlertsCommandSaysWhatItWants(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "alerts: want check FILE or test URL (vitals alerts -h)"},
		{[]string{"bogus"}, `unknown alerts command "bogus": want check FILE or test URL (vitals alerts -h)`},
		{[]string{"check"}, "alerts check takes one FILE"},
		{[]string{"test", "a", "b"}, "alerts test takes one URL"},
	} {
		err := runAlertsCommand(context.Background(), tt.args, env(), io.Discard)
		if err == nil || err.Error() != tt.want {
			t.Errorf("vitals alerts %q: %v, want %q", tt.args, err, tt.want)
		}
	}
}

// In --redis mode the tiers keep Redis's own defaults (memory, not a
// file) unless the user set a tier flag, by flag or by variable.
func TestRedisTiersTakeOnlyTheFlagsGiven(t *testing.T) {
	c, err := parseConfig([]string{"--history-hours", "1y"}, env("VITALS_HISTORY_MINUTES_BYTES", "2MiB"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := redisstream.TierOptions{HourRetention: 365 * 24 * time.Hour, MinuteBytes: 2 << 20}
	if got := c.Tiers.redis(); got != want {
		t.Fatalf("redis tiers = %+v, want %+v", got, want)
	}
	if m, h := c.Tiers.retention(true); m != redisstream.DefaultMinuteRetention || h != 365*24*time.Hour {
		t.Errorf("redis retention = %v, %v", m, h)
	}
	if m, h := c.Tiers.retention(false); m != 90*24*time.Hour || h != 365*24*time.Hour {
		t.Errorf("file retention = %v, %v", m, h)
	}
}
