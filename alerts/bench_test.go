package alerts

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// tickSamples is one tick of a host with 50 filesystems, 8 cores, 4 disks
// and 4 interfaces, shaped like the metrics payloads.
func tickSamples(i int) map[string][]byte {
	var fs []string
	for n := range 50 {
		p := 40 + float64(n) + float64(i%7)/10
		fs = append(fs, fmt.Sprintf(`{"mount":"/srv/vol%02d","fstype":"ext4","total":1000000000000,"used":%d,"percent":%.2f}`, n, int64(p*1e10), p))
	}
	var dev, ifs []string
	for n := range 4 {
		dev = append(dev, fmt.Sprintf(`"sd%c":{"read_bps":1234.5,"write_bps":45678.9,"read_iops":1.5,"write_iops":12.25}`, 'a'+n))
		ifs = append(ifs, fmt.Sprintf(`"eth%d":{"rx_bps":123456.7,"tx_bps":65432.1,"rx_pps":120.5,"tx_pps":98.25}`, n))
	}
	return map[string][]byte{
		"cpu":     []byte(fmt.Sprintf(`{"t":%d,"total":%d.5,"user":20.1,"system":5.2,"iowait":1.1,"steal":0,"idle":73.6,"cores":[30.1,25.2,20.3,10.4,35.5,40.6,15.7,22.8]}`, i, 20+i%10)),
		"memory":  []byte(`{"t":1,"total":16000000000,"used":8000000000,"available":8000000000,"cached":4000000000,"buffers":100000000,"percent":50,"swap_total":2000000000,"swap_used":100000000}`),
		"load":    []byte(`{"t":1,"load1":1.2,"load5":0.9,"load15":0.7,"cpus":8}`),
		"disk":    []byte(`{"t":1,"read_bps":4938,"write_bps":182715,"read_iops":6,"write_iops":49,"devices":{` + strings.Join(dev, ",") + `},"filesystems":[` + strings.Join(fs, ",") + `]}`),
		"network": []byte(`{"t":1,"rx_bps":493826.8,"tx_bps":261728.4,"rx_pps":482,"tx_pps":393,"interfaces":{` + strings.Join(ifs, ",") + `}}`),
		SelfTopic: []byte(`{"sampler_age":0.2,"store_failing":0}`),
	}
}

// BenchmarkTickDefaults is the per-tick cost of the default rules on a host
// with 50 filesystems, windows full (past the first two hours).
func BenchmarkTickDefaults(b *testing.B) {
	e, err := NewEngine(Options{Rules: Defaults(MetricsSchema())})
	if err != nil {
		b.Fatal(err)
	}
	ticks := make([]map[string][]byte, 7)
	for i := range ticks {
		ticks[i] = tickSamples(i)
	}
	now := t0
	// Fill every window: the longest is the 2 h prediction.
	for i := range 2 * 3600 {
		if _, err := e.Tick(now, ticks[i%7]); err != nil {
			b.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := e.Tick(now, ticks[i%7]); err != nil {
			b.Fatal(err)
		}
		now = now.Add(time.Second)
	}
}
