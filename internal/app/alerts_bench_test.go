package app

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"vitals/metrics"
)

// benchReadings is one tick of a host with 50 filesystems and 8 cores.
func benchReadings(i int) []metrics.Reading {
	var fs []string
	for n := range 50 {
		p := 40 + float64(n) + float64(i%7)/10
		fs = append(fs, fmt.Sprintf(`{"mount":"/srv/vol%02d","fstype":"ext4","total":1000000000000,"used":%d,"percent":%.2f}`, n, int64(p*1e10), p))
	}
	return []metrics.Reading{
		{Topic: "cpu", Data: fmt.Appendf(nil, `{"total":%d.5,"user":20.1,"system":5.2,"iowait":1.1,"steal":0,"idle":73.6,"cores":[30.1,25.2,20.3,10.4,35.5,40.6,15.7,22.8]}`, 20+i%10)},
		{Topic: "memory", Data: []byte(`{"total":16000000000,"used":8000000000,"available":8000000000,"percent":50,"swap_total":2000000000,"swap_used":100000000}`)},
		{Topic: "load", Data: []byte(`{"load1":1.2,"load5":0.9,"load15":0.7,"cpus":8}`)},
		{Topic: "disk", Data: []byte(`{"read_bps":4938,"write_bps":182715,"devices":{},"filesystems":[` + strings.Join(fs, ",") + `]}`)},
		{Topic: "network", Data: []byte(`{"rx_bps":493826.8,"tx_bps":261728.4,"interfaces":{}}`)},
	}
}

// BenchmarkAlertingTick is what the sampler's Publish pays per tick for
// alerts: the vitals topic, the default rules over 50 filesystems with
// full windows, and the copy-forward check, with no transition.
func BenchmarkAlertingTick(b *testing.B) {
	a, closeFn, err := newAlerting(Config{DataDir: b.TempDir(), History: time.Hour}, "h1", nil,
		func() error { return nil }, os.Getenv, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer closeFn()
	ticks := make([][]metrics.Reading, 7)
	for i := range ticks {
		ticks[i] = benchReadings(i)
	}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2 * 3600 { // the longest window, the 2 h prediction
		a.tick(now, ticks[i%7], 0)
		now = now.Add(time.Second)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if s, _ := a.tick(now, ticks[i%7], 0); len(s) != 0 {
			b.Fatalf("tick published %d alert events", len(s))
		}
		now = now.Add(time.Second)
	}
}
