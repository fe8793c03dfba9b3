package metrics

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"
)

// TestRealCollectorsSmoke builds the real collectors on this machine and
// checks that every payload is one line of valid JSON with the right "t" and
// every required key.
func TestRealCollectorsSmoke(t *testing.T) {
	required := map[string][]string{
		"cpu":     {"t", "total", "user", "system", "iowait", "steal", "idle", "cores"},
		"memory":  {"t", "total", "used", "available", "cached", "buffers", "percent", "swap_total", "swap_used"},
		"load":    {"t", "load1", "load5", "load15", "cpus"},
		"disk":    {"t", "read_bps", "write_bps", "read_iops", "write_iops", "devices", "filesystems"},
		"network": {"t", "rx_bps", "tx_bps", "rx_pps", "tx_pps", "interfaces"},
	}
	var logBuf bytes.Buffer
	cs, err := NewCollectors(Options{Logger: slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { CloseCollectors(cs) })
	t.Cleanup(func() { t.Logf("collector log:\n%s", logBuf.String()) })

	var topics []string
	for _, c := range cs {
		topics = append(topics, c.Topic())
	}
	if got, want := topics, Topics(); !slices.Equal(got, want) {
		t.Fatalf("collector topics %v, want %v", got, want)
	}

	time.Sleep(20 * time.Millisecond) // let the counters move a little
	for round := range 2 {
		tick := time.Now().Truncate(time.Second)
		for _, c := range cs {
			data, err := c.Collect(tick)
			if err != nil {
				t.Errorf("round %d: %s: %v", round, c.Topic(), err)
				continue
			}
			if bytes.ContainsAny(data, "\r\n") {
				t.Errorf("%s: payload is not one line: %q", c.Topic(), data)
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(data, &obj); err != nil {
				t.Errorf("%s: invalid JSON %s: %v", c.Topic(), data, err)
				continue
			}
			for _, k := range required[c.Topic()] {
				if _, ok := obj[k]; !ok {
					t.Errorf("%s: missing key %q in %s", c.Topic(), k, data)
				}
			}
			var ts int64
			if err := json.Unmarshal(obj["t"], &ts); err != nil || ts != tick.UnixMilli() {
				t.Errorf("%s: t = %s, want %d", c.Topic(), obj["t"], tick.UnixMilli())
			}
			if round == 1 {
				t.Logf("%s", data)
			}
		}
	}
}

// TestCollectReturnsFreshSlices checks that a later Collect does not
// overwrite bytes an earlier caller kept.
func TestCollectReturnsFreshSlices(t *testing.T) {
	cs, err := NewCollectors(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { CloseCollectors(cs) })
	for _, c := range cs {
		first, err := c.Collect(time.UnixMilli(1000))
		if err != nil {
			t.Fatalf("%s: %v", c.Topic(), err)
		}
		kept := bytes.Clone(first)
		if _, err := c.Collect(time.UnixMilli(2000)); err != nil {
			t.Fatalf("%s: %v", c.Topic(), err)
		}
		if !bytes.Equal(first, kept) {
			t.Errorf("%s: second Collect changed the first payload", c.Topic())
		}
	}
}

func TestReadHostSmoke(t *testing.T) {
	h, err := ReadHost(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h.OS == "" || h.Arch == "" || h.CPUs < 1 {
		t.Errorf("ReadHost = %+v, want OS, Arch and CPUs set", h)
	}
	if h.BootTime.IsZero() || h.BootTime.After(time.Now()) {
		t.Errorf("BootTime = %v, want a time in the past", h.BootTime)
	}
	t.Logf("%+v", h)
}
