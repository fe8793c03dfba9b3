package telemetry

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"vitals/history"
)

func TestWhatsUsingMetrics(t *testing.T) {
	evs := []*history.Event{
		{Topic: "processes", Data: []byte(`{"t":1,"processes":300,"threads":900,"running":2,"blocked":1,"forks_per_s":4.5,
			"top_cpu":[{"pid":10,"name":"postgres","user":"pg","cpu_pct":50,"rss":100},{"pid":11,"name":"postgres","cpu_pct":25,"rss":50},{"pid":12,"name":"nginx","cpu_pct":5,"rss":10}],
			"top_rss":[{"pid":10,"name":"postgres","cpu_pct":50,"rss":100},{"pid":13,"name":"java","cpu_pct":0,"rss":1000}]}`)},
		{Topic: "containers", Data: []byte(`{"t":1,"containers":[{"id":"docker/abc","kind":"docker","name":"web","cpu_pct":12.5,"mem_used":2048,"mem_limit":null,"net_rx":null,"net_tx":null,"io_read":0,"io_write":0}]}`)},
		{Topic: "sensors", Data: []byte(`{"t":1,"sensors":[{"id":"coretemp/temp1","chip":"coretemp","label":"Package id 0","c":55,"crit":100,"max":null}]}`)},
		{Topic: "gpu", Data: []byte(`{"t":1,"gpus":[{"id":"amd/0000:03:00.0","vendor":"amd","name":"card0","util_pct":40,"mem_used":1024,"mem_total":4096,"temp_c":60,"power_w":null}]}`)},
		{Topic: "cpu", Data: []byte(`{"t":1,"total":3}`)},
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(whatsUsingCollector{latest: func() []*history.Event { return evs }})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				if n := l.GetName(); n == "pid" || n == "user" || n == "cmdline" {
					t.Errorf("%s has a %s label: unbounded", mf.GetName(), n)
				}
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			got[mf.GetName()+"{"+strings.Join(ls, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	for k, v := range map[string]float64{
		"vitals_process_cpu_percent{name=postgres}":                                             75, // pid 10 counted once, though in both lists
		"vitals_process_resident_bytes{name=postgres}":                                          150,
		"vitals_process_listed{name=postgres}":                                                  2,
		"vitals_process_resident_bytes{name=java}":                                              1000,
		"vitals_processes{}":                                                                    300,
		"vitals_processes_forks_per_second{}":                                                   4.5,
		"vitals_container_cpu_percent{id=docker/abc,kind=docker,name=web}":                      12.5,
		"vitals_container_memory_used_bytes{id=docker/abc,kind=docker,name=web}":                2048,
		"vitals_sensor_temperature_celsius{chip=coretemp,id=coretemp/temp1,label=Package id 0}": 55,
		"vitals_sensor_critical_celsius{chip=coretemp,id=coretemp/temp1,label=Package id 0}":    100,
		"vitals_gpu_utilization_percent{id=amd/0000:03:00.0,name=card0,vendor=amd}":             40,
	} {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	for _, k := range []string{"vitals_container_memory_limit_bytes{id=docker/abc,kind=docker,name=web}",
		"vitals_sensor_max_celsius{chip=coretemp,id=coretemp/temp1,label=Package id 0}",
		"vitals_gpu_power_watts{id=amd/0000:03:00.0,name=card0,vendor=amd}"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s present for a null", k)
		}
	}
}
