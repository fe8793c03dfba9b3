package app

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
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
		c.HistoryBytes != 64<<20 || c.Retry != 2*time.Second || c.Heartbeat != 15*time.Second {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestParseConfigFlagsAndEnv(t *testing.T) {
	c, err := parseConfig(
		[]string{"--interval", "250ms", "--history-bytes", "8MiB", "--retry=1500"},
		env("VITALS_INTERVAL", "5s", "VITALS_DATA_DIR", "/tmp/x", "VITALS_HISTORY", "10m", "VITALS_HISTORY_BYTES", "1GiB"),
		io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// The flag wins over the variable; variables fill the rest.
	if c.Interval != 250*time.Millisecond || c.HistoryBytes != 8<<20 || c.DataDir != "/tmp/x" || c.History != 10*time.Minute ||
		c.Retry != 1500*time.Millisecond {
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
		{"retry negative", []string{"--retry", "-5"}, nil, "--retry"},
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
