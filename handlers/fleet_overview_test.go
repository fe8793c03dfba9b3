package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"vitals/history"
	"vitals/hostinfo"
)

func ev(topic, data string) *history.Event { return &history.Event{Topic: topic, Data: []byte(data)} }

func ptr(v float64) *float64 { return &v }

func TestNewFleetRow(t *testing.T) {
	seen := time.UnixMilli(1_800_000_002_000)
	st := hostinfo.Status{Info: hostinfo.Info{Hostname: "web-1", CPUs: 4}, LastSeen: seen, Live: true}
	tests := []struct {
		name   string
		st     hostinfo.Status
		latest []*history.Event
		cpu    []*history.Event
		want   FleetRow
	}{
		{
			name: "every topic",
			st:   st,
			latest: []*history.Event{
				ev("cpu", `{"t":1800000002000,"total":12.5,"user":10,"cores":[1,2]}`),
				ev("memory", `{"t":1800000002000,"total":8000,"used":2000,"percent":25}`),
				ev("load", `{"t":1800000002000,"load1":0.75,"load5":1,"cpus":4}`),
				ev("disk", `{"t":1800000002000,"read_bps":5}`),
				ev("network", `{"t":1800000002000,"rx_bps":100,"tx_bps":50,"interfaces":{"eth0":{"rx_bps":100}}}`),
			},
			cpu: []*history.Event{ev("cpu", `{"t":1800000001000,"total":10}`), ev("cpu", `{"t":1800000002000,"total":12.5}`)},
			want: FleetRow{Name: "web-1", Live: true, CPUs: 4, LastSeen: seen.UnixMilli(), T: 1_800_000_002_000,
				CPU: ptr(12.5), MemoryPercent: ptr(25), MemoryUsed: ptr(2000), MemoryTotal: ptr(8000), Load1: ptr(0.75),
				RxBps: ptr(100), TxBps: ptr(50),
				Spark: Spark{T: []int64{1_800_000_001_000, 1_800_000_002_000}, CPU: []float64{10, 12.5}}},
		},
		{
			name: "never sampled",
			st:   hostinfo.Status{Info: hostinfo.Info{Hostname: "new"}},
			want: FleetRow{Name: "new", Spark: Spark{T: []int64{}, CPU: []float64{}}},
		},
		{
			name: "nulls, garbage and other topics are skipped",
			st:   hostinfo.Status{Info: hostinfo.Info{Hostname: "odd"}, Self: true},
			latest: []*history.Event{
				ev("cpu", `not json`),
				ev("memory", `{"t":5,"total":null,"used":null,"percent":null}`),
				ev("network", `{"t":4,"rx_bps":null,"tx_bps":7}`),
			},
			cpu:  []*history.Event{ev("cpu", `{"t":1,"total":null}`), ev("load", `{"t":2,"total":3}`), ev("cpu", `{"t":3,"total":9}`), ev("cpu", `[`)},
			want: FleetRow{Name: "odd", Self: true, T: 5, TxBps: ptr(7), Spark: Spark{T: []int64{3}, CPU: []float64{9}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewFleetRow(tt.st, tt.latest, tt.cpu)
			if !reflect.DeepEqual(got, tt.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tt.want)
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
}

func TestFleetEndpoint(t *testing.T) {
	f := newFixture(t, nil)
	for range 5 {
		f.tick(t, 0)
	}
	get := func(query string) (int, fleetReply) {
		t.Helper()
		resp, err := http.Get(f.srv.URL + "/api/fleet" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r fleetReply
		json.NewDecoder(resp.Body).Decode(&r)
		return resp.StatusCode, r
	}
	code, r := get("?points=3")
	if code != http.StatusOK || r.Self != "testhost" || len(r.Hosts) != 1 {
		t.Fatalf("%d %+v", code, r)
	}
	row := r.Hosts[0]
	// The fixture's payloads carry only t, so the figures are null; the
	// spark has no totals either. The row must still name the host.
	if row.Name != "testhost" || !row.Self || !row.Live || row.CPUs != 2 || row.T == 0 || row.CPU != nil || len(row.Spark.T) != 0 {
		t.Errorf("row %+v", row)
	}
	for _, bad := range []string{"?points=0", "?points=601", "?points=x"} {
		if code, _ := get(bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
}

func TestFleetSparkFromHistory(t *testing.T) {
	f := newFixture(t, nil)
	base := f.clock()
	for i := range 4 {
		ts := base.Add(time.Duration(i) * time.Second)
		var samples []history.Sample
		for _, topic := range testTopics {
			samples = append(samples, history.Sample{Topic: topic,
				Data: fmt.Appendf(nil, `{"t":%d,"total":%d,"load1":%d}`, ts.UnixMilli(), 10*i, i)})
		}
		if err := f.broker.Publish(ts, samples); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Get(f.srv.URL + "/api/fleet?points=2")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r fleetReply
	json.NewDecoder(resp.Body).Decode(&r)
	row := r.Hosts[0]
	if !reflect.DeepEqual(row.Spark.CPU, []float64{20, 30}) || row.CPU == nil || *row.CPU != 30 || row.Load1 == nil || *row.Load1 != 3 {
		t.Errorf("row %+v spark %+v", row, row.Spark)
	}
}

type fleetReply struct {
	Self  string     `json:"self"`
	Hosts []FleetRow `json:"hosts"`
}
