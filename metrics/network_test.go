package metrics

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

func TestNetIORates(t *testing.T) {
	c := func(rb, tb, rp, tp uint64) netCounters {
		return netCounters{BytesRecv: rb, BytesSent: tb, PacketsRecv: rp, PacketsSent: tp}
	}
	nr := func(rb, tb, rp, tp float64) netRates { return netRates{some(rb), some(tb), some(rp), some(tp)} }
	tests := []struct {
		name            string
		prev, cur       map[string]netCounters
		links           map[string]netLink // nil: no sysfs, every interface counted
		dt              float64
		wantTotal       netRates
		wantIfaces      map[string]netRates
		wantImplausible int
	}{
		{
			name:       "two interfaces summed",
			prev:       map[string]netCounters{"eth0": c(1000, 2000, 10, 20), "wlan0": c(0, 0, 0, 0)},
			cur:        map[string]netCounters{"eth0": c(3000, 2500, 12, 21), "wlan0": c(500, 100, 5, 1)},
			dt:         2,
			wantTotal:  nr(1250, 300, 3.5, 1),
			wantIfaces: map[string]netRates{"eth0": nr(1000, 250, 1, 0.5), "wlan0": nr(250, 50, 2.5, 0.5)},
		},
		{
			name:       "a new interface reports 0 on its first tick",
			prev:       map[string]netCounters{"eth0": c(0, 0, 0, 0)},
			cur:        map[string]netCounters{"eth0": c(10, 10, 1, 1), "veth1": c(1e12, 1e12, 1e9, 1e9)},
			dt:         1,
			wantTotal:  nr(10, 10, 1, 1),
			wantIfaces: map[string]netRates{"eth0": nr(10, 10, 1, 1), "veth1": nr(0, 0, 0, 0)},
		},
		{
			name:       "a removed interface is dropped",
			prev:       map[string]netCounters{"eth0": c(0, 0, 0, 0), "veth1": c(0, 0, 0, 0)},
			cur:        map[string]netCounters{"eth0": c(10, 10, 1, 1)},
			dt:         1,
			wantTotal:  nr(10, 10, 1, 1),
			wantIfaces: map[string]netRates{"eth0": nr(10, 10, 1, 1)},
		},
		{
			name:       "a 32-bit counter wrapping gives 0, not 4 GB/s",
			prev:       map[string]netCounters{"eth0": c(1<<32-100, 50, 7, 7)},
			cur:        map[string]netCounters{"eth0": c(200, 150, 9, 7)},
			dt:         1,
			wantTotal:  nr(0, 100, 2, 0),
			wantIfaces: map[string]netRates{"eth0": nr(0, 100, 2, 0)},
		},
		{
			name:       "negative elapsed is no rate",
			prev:       map[string]netCounters{"eth0": c(0, 0, 0, 0)},
			cur:        map[string]netCounters{"eth0": c(10, 10, 1, 1)},
			dt:         -1,
			wantIfaces: map[string]netRates{"eth0": {}},
		},
		{
			name:            "more than the link speed can carry is null and counted",
			prev:            map[string]netCounters{"eth0": c(0, 0, 0, 0)},
			cur:             map[string]netCounters{"eth0": c(1e9, 10, 1, 1)}, // 1 GB in 1 s on 1 Gb/s
			links:           map[string]netLink{"eth0": {Kind: kindPhysical, SpeedMbps: 1000}},
			dt:              1,
			wantTotal:       netRates{maybe{}, some(10), some(1), some(1)},
			wantIfaces:      map[string]netRates{"eth0": {maybe{}, some(10), some(1), some(1)}},
			wantImplausible: 1,
		},
		{
			name:       "only counted interfaces are in the total",
			prev:       map[string]netCounters{"eth0": c(0, 0, 0, 0), "br0": c(0, 0, 0, 0)},
			cur:        map[string]netCounters{"eth0": c(100, 10, 1, 1), "br0": c(100, 10, 1, 1)},
			links:      map[string]netLink{"eth0": {Kind: kindPhysical, Master: "br0"}, "br0": {Kind: kindBridge}},
			dt:         1,
			wantTotal:  nr(100, 10, 1, 1),
			wantIfaces: map[string]netRates{"eth0": nr(100, 10, 1, 1), "br0": nr(100, 10, 1, 1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			for n := range tt.cur {
				names = append(names, n)
			}
			state := make(map[string]*netState)
			for n, v := range tt.prev {
				state[n] = newNetState(v)
			}
			total, ifaces, implausible := netIORates(state, tt.cur, tt.links, countedLinks(names, tt.links), tt.dt)
			if total != tt.wantTotal {
				t.Errorf("total %+v, want %+v", total, tt.wantTotal)
			}
			want := make(map[string]netIface, len(tt.wantIfaces))
			for n, r := range tt.wantIfaces {
				want[n] = netIface{Kind: linkKind(tt.links, n), netRates: r}
			}
			if !reflect.DeepEqual(ifaces, want) {
				t.Errorf("interfaces %+v, want %+v", ifaces, want)
			}
			if implausible != tt.wantImplausible {
				t.Errorf("implausible = %d, want %d", implausible, tt.wantImplausible)
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
	got, err := json.Marshal(networkPayload{T: 5, netRates: netRates{some(1.5), some(0), some(0), maybe{}}, Interfaces: map[string]netIface{"eth0": {Kind: kindPhysical, netRates: netRates{some(1.5), some(0), some(0), maybe{}}}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"t":5,"rx_bps":1.5,"tx_bps":0,"rx_pps":0,"tx_pps":null,"interfaces":{"eth0":{"kind":"physical","rx_bps":1.5,"tx_bps":0,"rx_pps":0,"tx_pps":null}}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestClassifyLink(t *testing.T) {
	tests := []struct {
		name  string
		files netLinkFiles
		want  string
	}{
		{"loopback", netLinkFiles{Type: 772, IfIndex: 1, IfLink: 1}, kindLoopback},
		{"PCI NIC", netLinkFiles{HasDevice: true, Type: 1, IfIndex: 2, IfLink: 2}, kindPhysical},
		{"wifi", netLinkFiles{HasDevice: true, Type: 1, IfIndex: 3, IfLink: 3, DevType: "wlan"}, kindPhysical},
		{"bond port", netLinkFiles{HasDevice: true, Type: 1, IfIndex: 2, IfLink: 2, Master: "bond0"}, kindPhysical},
		{"bond", netLinkFiles{HasBonding: true, Type: 1, IfIndex: 4, IfLink: 4, DevType: "bond"}, kindBond},
		{"bridge", netLinkFiles{HasBridge: true, Type: 1, IfIndex: 3, IfLink: 3, DevType: "bridge"}, kindBridge},
		{"bridge without DEVTYPE", netLinkFiles{HasBridge: true, Type: 1, IfIndex: 3, IfLink: 3}, kindBridge},
		{"veth", netLinkFiles{Type: 1, IfIndex: 6, IfLink: 5, Master: "docker0"}, kindVeth},
		{"vlan", netLinkFiles{Type: 1, IfIndex: 7, IfLink: 2, DevType: "vlan"}, kindVLAN},
		{"wireguard", netLinkFiles{Type: 65534, IfIndex: 9, IfLink: 9, DevType: "wireguard"}, kindTunnel},
		{"tun", netLinkFiles{HasTun: true, Type: 65534, IfIndex: 5, IfLink: 5}, kindTunnel},
		{"tap", netLinkFiles{HasTun: true, Type: 1, IfIndex: 5, IfLink: 5}, kindTunnel},
		{"GRE", netLinkFiles{Type: 778, IfIndex: 10, IfLink: 0}, kindTunnel},
		{"dummy", netLinkFiles{Type: 1, IfIndex: 11, IfLink: 11}, kindVirtual},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classifyLink(tt.files); got != tt.want {
				t.Errorf("classifyLink(%+v) = %q, want %q", tt.files, got, tt.want)
			}
		})
	}
}

func TestCountedLinks(t *testing.T) {
	l := func(kind, master string) netLink { return netLink{Kind: kind, Master: master} }
	tests := []struct {
		name  string
		links map[string]netLink
		want  []string
	}{
		{
			name: "bridged NIC counts, bridge, veths and tunnel don't",
			links: map[string]netLink{
				"eth0": l(kindPhysical, "br0"), "br0": l(kindBridge, ""), "docker0": l(kindBridge, ""),
				"veth1": l(kindVeth, "docker0"), "veth2": l(kindVeth, "docker0"), "wg0": l(kindTunnel, ""),
			},
			want: []string{"eth0"},
		},
		{
			name:  "a bond counts instead of its slaves",
			links: map[string]netLink{"eno1": l(kindPhysical, "bond0"), "eno2": l(kindPhysical, "bond0"), "bond0": l(kindBond, ""), "eno3": l(kindPhysical, "")},
			want:  []string{"bond0", "eno3"},
		},
		{
			name:  "a container's veth end counts when there is no NIC",
			links: map[string]netLink{"eth0": l(kindVeth, ""), "tun0": l(kindTunnel, "")},
			want:  []string{"eth0"},
		},
		{
			name:  "an interface sysfs does not know is not counted",
			links: map[string]netLink{"eth0": l(kindPhysical, ""), "ghost0": l(kindUnknown, "")},
			want:  []string{"eth0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			for n := range tt.links {
				names = append(names, n)
			}
			var got []string
			for n, ok := range countedLinks(names, tt.links) {
				if ok {
					got = append(got, n)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("counted %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUeventValue(t *testing.T) {
	u := "INTERFACE=wg0\nIFINDEX=9\nDEVTYPE=wireguard\n"
	if got := ueventValue(u, "DEVTYPE"); got != "wireguard" {
		t.Errorf("DEVTYPE = %q", got)
	}
	if got := ueventValue(u, "DRIVER"); got != "" {
		t.Errorf("DRIVER = %q, want empty", got)
	}
}
