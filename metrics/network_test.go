package metrics

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestNetIORates(t *testing.T) {
	c := func(rb, tb, rp, tp uint64) netCounters {
		return netCounters{BytesRecv: rb, BytesSent: tb, PacketsRecv: rp, PacketsSent: tp}
	}
	tests := []struct {
		name       string
		prev, cur  map[string]netCounters
		dt         float64
		wantTotal  netRates
		wantIfaces map[string]netRates
	}{
		{
			name:       "two interfaces summed",
			prev:       map[string]netCounters{"eth0": c(1000, 2000, 10, 20), "wlan0": c(0, 0, 0, 0)},
			cur:        map[string]netCounters{"eth0": c(3000, 2500, 12, 21), "wlan0": c(500, 100, 5, 1)},
			dt:         2,
			wantTotal:  netRates{RxBps: 1250, TxBps: 300, RxPps: 3.5, TxPps: 1},
			wantIfaces: map[string]netRates{"eth0": {1000, 250, 1, 0.5}, "wlan0": {250, 50, 2.5, 0.5}},
		},
		{
			name:       "a new interface reports 0 on its first tick",
			prev:       map[string]netCounters{"eth0": c(0, 0, 0, 0)},
			cur:        map[string]netCounters{"eth0": c(10, 10, 1, 1), "veth1": c(1e12, 1e12, 1e9, 1e9)},
			dt:         1,
			wantTotal:  netRates{10, 10, 1, 1},
			wantIfaces: map[string]netRates{"eth0": {10, 10, 1, 1}, "veth1": {}},
		},
		{
			name:       "a removed interface is dropped",
			prev:       map[string]netCounters{"eth0": c(0, 0, 0, 0), "veth1": c(0, 0, 0, 0)},
			cur:        map[string]netCounters{"eth0": c(10, 10, 1, 1)},
			dt:         1,
			wantTotal:  netRates{10, 10, 1, 1},
			wantIfaces: map[string]netRates{"eth0": {10, 10, 1, 1}},
		},
		{
			name:       "a 32-bit counter wrapping gives 0, not 4 GB/s",
			prev:       map[string]netCounters{"eth0": c(1<<32-100, 50, 7, 7)},
			cur:        map[string]netCounters{"eth0": c(200, 150, 9, 7)},
			dt:         1,
			wantTotal:  netRates{TxBps: 100, RxPps: 2},
			wantIfaces: map[string]netRates{"eth0": {0, 100, 2, 0}},
		},
		{
			name:       "negative elapsed",
			prev:       map[string]netCounters{"eth0": c(0, 0, 0, 0)},
			cur:        map[string]netCounters{"eth0": c(10, 10, 1, 1)},
			dt:         -1,
			wantIfaces: map[string]netRates{"eth0": {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total, ifaces := netIORates(tt.prev, tt.cur, tt.dt)
			if total != tt.wantTotal {
				t.Errorf("total %+v, want %+v", total, tt.wantTotal)
			}
			if !reflect.DeepEqual(ifaces, tt.wantIfaces) {
				t.Errorf("interfaces %+v, want %+v", ifaces, tt.wantIfaces)
			}
		})
	}
}

func TestLoopbackName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"lo", true},
		{"lo0", true},
		{"eth0", false},
		{"lonely", false},
		{"l", false},
		{"", false},
		{"wlo1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loopbackName(tt.name); got != tt.want {
				t.Errorf("loopbackName(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestNetworkPayloadJSON(t *testing.T) {
	got, err := json.Marshal(networkPayload{T: 5, netRates: netRates{RxBps: 1.5}, Interfaces: map[string]netRates{"eth0": {RxBps: 1.5}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"t":5,"rx_bps":1.5,"tx_bps":0,"rx_pps":0,"tx_pps":0,"interfaces":{"eth0":{"rx_bps":1.5,"tx_bps":0,"rx_pps":0,"tx_pps":0}}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
