package tier

import (
	"fmt"
	"maps"
	"slices"
	"testing"
)

func flatten(t *testing.T, payload string) (map[string]float64, []string) {
	t.Helper()
	var f Flattener
	got := map[string]float64{}
	var marks []string
	err := f.Flatten([]byte(payload), func(p []byte, v float64) { got[string(p)] = v },
		func(k string, v int64) { marks = append(marks, fmt.Sprintf("%s=%d", k, v)) })
	if err != nil {
		t.Fatalf("Flatten(%s): %v", payload, err)
	}
	return got, marks
}

func TestFlatten(t *testing.T) {
	cases := []struct {
		name, payload string
		want          map[string]float64
		marks         []string
	}{
		{"cpu keyed by core number", `{"t":1,"total":12.5,"user":10,"cores":[4,null,90],"core_ids":[0,1,3],"restart":5000}`,
			map[string]float64{"total": 12.5, "user": 10, "cores.0": 4, "cores.3": 90}, []string{"restart=5000"}},
		{"cores without ids by position", `{"t":1,"cores":[1,2]}`,
			map[string]float64{"cores.0": 1, "cores.1": 2}, nil},
		{"disk devices and filesystems", `{"t":1,"read_bps":null,"devices":{"vda":{"read_bps":1.5e3,"write_iops":0}},` +
			`"filesystems":[{"mount":"/","fstype":"ext4","total":100,"used":40,"avail":50,"percent":44.4,"stale":true},{"mount":"/x","total":null}]}`,
			map[string]float64{"devices.vda.read_bps": 1500, "devices.vda.write_iops": 0,
				"filesystems./.total": 100, "filesystems./.used": 40, "filesystems./.avail": 50, "filesystems./.percent": 44.4}, nil},
		{"network interfaces skip kind", `{"t":1,"rx_bps":8,"interfaces":{"eth0":{"kind":"physical","rx_bps":8,"tx_pps":-0}},"skipped":2,"clock_step":-60000}`,
			map[string]float64{"rx_bps": 8, "interfaces.eth0.rx_bps": 8, "interfaces.eth0.tx_pps": 0}, []string{"skipped=2", "clock_step=-60000"}},
		{"processes keep counts, drop top lists", `{"t":1,"processes":212,"forks_per_s":3.5,"top_cpu":[{"pid":42,"name":"x","cpu_pct":100}],"top_rss":[]}`,
			map[string]float64{"processes": 212, "forks_per_s": 3.5}, nil},
		{"sensors by id without trip points", `{"t":1,"sensors":[{"id":"coretemp/temp1","chip":"coretemp","label":"Package \"0\"","c":51,"crit":100,"max":80}]}`,
			map[string]float64{"sensors.coretemp/temp1.c": 51}, nil},
		{"gpu by id", `{"t":1,"gpus":[{"id":"0","vendor":"nvidia","name":"H200","util_pct":97,"mem_used":1e9,"temp_c":null}]}`,
			map[string]float64{"gpus.0.util_pct": 97, "gpus.0.mem_used": 1e9}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, marks := flatten(t, c.payload)
			if !maps.Equal(got, c.want) {
				t.Errorf("fields\n got %v\nwant %v", got, c.want)
			}
			if !slices.Equal(marks, c.marks) {
				t.Errorf("marks got %v, want %v", marks, c.marks)
			}
		})
	}
}

func TestFlattenRefusesBrokenJSON(t *testing.T) {
	for _, p := range []string{``, `[]`, `{"a":}`, `{"a":1`, `{"a" 1}`, `{"cores":[1,}`, `{"restart":"x"}`} {
		var f Flattener
		if err := f.Flatten([]byte(p), func([]byte, float64) {}, nil); err == nil {
			t.Errorf("Flatten(%q) = nil, want an error", p)
		}
	}
}
