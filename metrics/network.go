package metrics

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v3/net"
)

// netRates are per-second rates; JSON keys are shared by the totals and by
// each interface. A rate is null when the counters gave no trustworthy one
// for the tick (see rateOf); a total is null when a rate it sums is.
type netRates struct {
	RxBps maybe `json:"rx_bps"`
	TxBps maybe `json:"tx_bps"`
	RxPps maybe `json:"rx_pps"`
	TxPps maybe `json:"tx_pps"`
}

// zeroNetRates is what an interface reports on its first tick.
var zeroNetRates = netRates{some(0), some(0), some(0), some(0)}

func (r netRates) plus(o netRates) netRates {
	return netRates{r.RxBps.plus(o.RxBps), r.TxBps.plus(o.TxBps), r.RxPps.plus(o.RxPps), r.TxPps.plus(o.TxPps)}
}

// netIface is one interface in the payload: what it is and its rates.
type netIface struct {
	Kind string `json:"kind"`
	netRates
}

// networkPayload is the JSON of the network topic: totals and per-interface
// rates. The totals count each byte that enters or leaves the machine once:
// they sum only the interfaces [countedLinks] picks (physical NICs and bonds,
// not bridges, veths, VLANs, tunnels or loopback, whose traffic is also
// counted on the NIC under them or never leaves the host). Every interface
// but loopback is in interfaces, marked with its kind.
type networkPayload struct {
	T int64 `json:"t"`
	netRates
	Interfaces map[string]netIface `json:"interfaces"`
}

// netCounters is the part of net.IOCountersStat the rates need.
type netCounters struct {
	BytesRecv, BytesSent, PacketsRecv, PacketsSent uint64
}

// netState follows one interface's counters.
type netState struct {
	rxB, txB, rxP, txP counter
}

func newNetState(c netCounters) *netState {
	return &netState{counter{last: c.BytesRecv}, counter{last: c.BytesSent}, counter{last: c.PacketsRecv}, counter{last: c.PacketsSent}}
}

// netMaxBytesPerSec bounds the rate of an interface whose link speed is not
// known (wifi, virtual interfaces, a NIC that reports none): 200 GB/s is
// 1.6 Tb/s, twice the fastest Ethernet port sold (800 GbE). A veth or a
// bridge moves memory to memory and stays far below it too.
const netMaxBytesPerSec = 200e9

// netMinPacketBytes is the smallest packet an interface counts (an IPv4
// header alone, on a tun device): a link carries at most its byte rate
// divided by this many packets per second.
const netMinPacketBytes = 20

// netMaxRate is the most bytes per second an interface can move: its link
// speed (Mb/s, from sysfs) where known, else netMaxBytesPerSec.
func netMaxRate(l netLink) float64 {
	if l.SpeedMbps > 0 {
		return float64(l.SpeedMbps) * 1e6 / 8
	}
	return netMaxBytesPerSec
}

// netIORates computes per-interface rates from a new sample, secs after the
// last, and their total over the interfaces counted[name] is true for. state
// holds each interface's counters from the earlier samples and is updated:
// an interface new in cur reports 0 for this tick; one missing from cur is
// dropped. A rate more than the link can carry is null (see rateOf) and
// counted in implausible.
func netIORates(state map[string]*netState, cur map[string]netCounters, links map[string]netLink, counted map[string]bool, secs float64) (total netRates, ifaces map[string]netIface, implausible int) {
	total = zeroNetRates
	ifaces = make(map[string]netIface, len(cur))
	for name, c := range cur {
		r := zeroNetRates
		if st, ok := state[name]; ok {
			maxB := netMaxRate(links[name])
			r = netRates{
				RxBps: st.rxB.rate(c.BytesRecv, secs, maxB, &implausible),
				TxBps: st.txB.rate(c.BytesSent, secs, maxB, &implausible),
				RxPps: st.rxP.rate(c.PacketsRecv, secs, maxB/netMinPacketBytes, &implausible),
				TxPps: st.txP.rate(c.PacketsSent, secs, maxB/netMinPacketBytes, &implausible),
			}
		} else {
			state[name] = newNetState(c)
		}
		ifaces[name] = netIface{Kind: linkKind(links, name), netRates: r}
		if counted[name] {
			total = total.plus(r)
		}
	}
	for name := range state {
		if _, ok := cur[name]; !ok {
			delete(state, name)
		}
	}
	total = netRates{total.RxBps.rounded(), total.TxBps.rounded(), total.RxPps.rounded(), total.TxPps.rounded()}
	return total, ifaces, implausible
}

// The kinds of network interface, as the payload names them.
const (
	kindPhysical = "physical" // a NIC on a bus (PCI, USB, virtio, SDIO): wired or wireless
	kindBond     = "bond"     // a bond (link aggregation) of physical NICs
	kindBridge   = "bridge"   // a software switch (br0, docker0, virbr0, cni0)
	kindVeth     = "veth"     // a virtual Ethernet link with a peer: veth pair ends, macvlan, ipvlan
	kindVLAN     = "vlan"     // an 802.1Q VLAN on another interface
	kindTunnel   = "tunnel"   // WireGuard, tun/tap, IP-in-IP, GRE, sit: the underlay carries the bytes
	kindLoopback = "loopback"
	kindVirtual  = "virtual" // any other software interface (dummy, ...)
	kindUnknown  = "unknown" // not in sysfs: no sysfs (not Linux), or it appeared since the last read
)

// netLink is what sysfs says about one interface.
type netLink struct {
	Kind      string
	Master    string // the bridge or bond it is a port of; "" when none
	SpeedMbps int    // link speed of a physical NIC or bond; 0 when unknown
}

// netLinkFiles is the raw content of /sys/class/net/<name> that
// classifyLink looks at.
type netLinkFiles struct {
	HasDevice  bool   // device: a link to the bus device of a real NIC
	HasBridge  bool   // bridge/: the interface is a bridge
	HasBonding bool   // bonding/: the interface is a bond
	HasTun     bool   // tun_flags: a tun or tap device
	Type       int    // type: the ARPHRD_* hardware type
	IfIndex    int    // ifindex
	IfLink     int    // iflink: the peer's or lower device's ifindex, if any
	DevType    string // DEVTYPE= in uevent
	Master     string // the name master links to
	Speed      int    // speed: Mb/s; -1 or unreadable when unknown
}

// ARPHRD_* hardware types of tunnels that carry no Ethernet header
// (include/uapi/linux/if_arp.h).
const (
	arphrdLoopback = 772
	arphrdTunnel   = 768   // IP-in-IP
	arphrdTunnel6  = 769   // IPv6-in-IPv6
	arphrdSit      = 776   // IPv6-in-IPv4
	arphrdIPGRE    = 778   // GRE
	arphrdIP6GRE   = 823   // IPv6 GRE
	arphrdNone     = 65534 // tun, WireGuard
)

// classifyLink names the kind of an interface from its sysfs files.
func classifyLink(f netLinkFiles) string {
	switch {
	case f.Type == arphrdLoopback:
		return kindLoopback
	case f.HasBonding || f.DevType == "bond":
		return kindBond
	case f.HasBridge || f.DevType == "bridge":
		return kindBridge
	case f.DevType == "vlan":
		return kindVLAN
	case f.HasTun || f.DevType == "wireguard":
		return kindTunnel
	}
	switch f.Type {
	case arphrdTunnel, arphrdTunnel6, arphrdSit, arphrdIPGRE, arphrdIP6GRE, arphrdNone:
		return kindTunnel
	}
	if f.HasDevice {
		return kindPhysical
	}
	// A veth end's iflink is its peer's ifindex (macvlan's and ipvlan's is
	// their lower device's); only a device with a peer or lower device has
	// one different from its own.
	if f.IfLink != f.IfIndex && f.DevType == "" {
		return kindVeth
	}
	return kindVirtual
}

// countedLinks picks the interfaces whose traffic the totals sum: physical
// NICs that are not a bond's slaves, and bonds (a bond's bytes are its
// slaves' bytes, so one or the other). A port of a bridge still counts: the
// bytes cross it on the wire, and the bridge, not the port, is left out.
// Where no physical NIC or bond is in sysfs at all, the machine is a
// container or a VM that sees only the inside of its links, and its veth ends
// are where its traffic enters and leaves, so those are counted instead.
// Interfaces of kind unknown count only when sysfs could not be read at all
// (links is nil), which is the old behaviour of counting everything.
func countedLinks(names []string, links map[string]netLink) map[string]bool {
	counted := make(map[string]bool, len(names))
	if links == nil {
		for _, n := range names {
			counted[n] = true
		}
		return counted
	}
	uplinks := false
	for _, n := range names {
		l := links[n]
		switch l.Kind {
		case kindBond:
			counted[n], uplinks = true, true
		case kindPhysical:
			if links[l.Master].Kind != kindBond {
				counted[n] = true
			}
			uplinks = true
		}
	}
	if !uplinks {
		for _, n := range names {
			if links[n].Kind == kindVeth {
				counted[n] = true
			}
		}
	}
	return counted
}

// linkKind is the kind of name in links, or unknown.
func linkKind(links map[string]netLink, name string) string {
	if l, ok := links[name]; ok {
		return l.Kind
	}
	return kindUnknown
}

// readNetLinks reads /sys/class/net under sysRoot and classifies every
// interface in it.
func readNetLinks(sysRoot string) (map[string]netLink, error) {
	dir := filepath.Join(sysRoot, "class", "net")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	links := make(map[string]netLink, len(entries))
	for _, e := range entries {
		f := readNetLinkFiles(filepath.Join(dir, e.Name()))
		l := netLink{Kind: classifyLink(f), Master: f.Master}
		// Only a NIC's (and a bond's, the sum of its ports') speed is
		// a limit: a veth reports 10000 Mb/s and moves far more.
		if l.Kind == kindPhysical || l.Kind == kindBond {
			l.SpeedMbps = max(f.Speed, 0)
		}
		links[e.Name()] = l
	}
	return links, nil
}

// readNetLinkFiles reads one interface's sysfs directory. A file that is
// missing or unreadable leaves its field zero: sysfs differs between kernel
// versions, and classifyLink copes with what is there.
func readNetLinkFiles(dir string) netLinkFiles {
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}
	f := netLinkFiles{
		HasDevice:  exists("device"),
		HasBridge:  exists("bridge"),
		HasBonding: exists("bonding"),
		HasTun:     exists("tun_flags"),
		Type:       readIntFile(filepath.Join(dir, "type")),
		IfIndex:    readIntFile(filepath.Join(dir, "ifindex")),
		IfLink:     readIntFile(filepath.Join(dir, "iflink")),
		Speed:      readIntFile(filepath.Join(dir, "speed")),
	}
	if b, err := os.ReadFile(filepath.Join(dir, "uevent")); err == nil {
		f.DevType = ueventValue(string(b), "DEVTYPE")
	}
	if target, err := os.Readlink(filepath.Join(dir, "master")); err == nil {
		f.Master = filepath.Base(target)
	}
	return f
}

// ueventValue is the value of key in the KEY=value lines of a uevent file.
func ueventValue(uevent, key string) string {
	for line := range strings.Lines(uevent) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+"="); ok {
			return v
		}
	}
	return ""
}

// readIntFile reads a sysfs file holding one integer; 0 when it can't.
func readIntFile(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return n
}

// loopbackName reports whether an interface name is a loopback: "lo" on
// Linux (in every network namespace), "lo0" on the BSDs and macOS. Names are
// used rather than interface flags because with HostProc set the counters
// come from the host's /proc while net.Interfaces would see this process's
// namespace.
func loopbackName(name string) bool {
	if len(name) < 2 || name[:2] != "lo" {
		return false
	}
	for _, r := range name[2:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// networkCollector reports interface traffic rates from two successive
// net.IOCounters(true) samples. What each interface is comes from sysfs,
// read at start, every refreshTicks ticks, and whenever an interface it has
// not classified yet shows up (a container started: a new veth).
type networkCollector struct {
	env hostEnv
	log *onceLog
	implausibleCount
	lastRaw

	cur    map[string]netCounters // the last read, reused
	state  map[string]*netState
	primed bool
	prevAt time.Time

	links        map[string]netLink // nil when sysfs can't be read
	sinceRefresh int
	names        []string // the names in cur, reused
}

func newNetworkCollector(env hostEnv, log *slog.Logger) *networkCollector {
	return &networkCollector{
		env:          env,
		log:          newOnceLog(log),
		cur:          make(map[string]netCounters),
		state:        make(map[string]*netState),
		sinceRefresh: refreshTicks,
	}
}

func (c *networkCollector) Topic() string { return topicNetwork }

// read fills c.cur with the counters of the non-loopback interfaces.
func (c *networkCollector) read() error {
	stats, err := net.IOCountersWithContext(c.env.ctx, true)
	if err != nil {
		return fmt.Errorf("read network counters: %w", err)
	}
	clear(c.cur)
	for _, s := range stats {
		if loopbackName(s.Name) {
			continue
		}
		c.cur[s.Name] = netCounters{
			BytesRecv:   s.BytesRecv,
			BytesSent:   s.BytesSent,
			PacketsRecv: s.PacketsRecv,
			PacketsSent: s.PacketsSent,
		}
	}
	return nil
}

// classify re-reads sysfs when it is due or when c.cur has an interface
// the last read did not see, and returns the names in c.cur.
func (c *networkCollector) classify() []string {
	c.names = c.names[:0]
	unseen := false
	for name := range c.cur {
		c.names = append(c.names, name)
		if _, ok := c.links[name]; !ok {
			unseen = true
		}
	}
	c.sinceRefresh++
	if c.sinceRefresh < refreshTicks && !(unseen && c.links != nil) {
		return c.names
	}
	c.sinceRefresh = 0
	links, err := readNetLinks(c.env.sys)
	if err != nil {
		c.log.debug("sysfs", "no sysfs: network totals count every interface", "err", err)
	}
	// An interface sysfs does not list (HostProc and HostSys from
	// different network namespaces) is remembered as unknown, so that it
	// does not make every tick re-read sysfs.
	for _, name := range c.names {
		if _, ok := links[name]; !ok && links != nil {
			links[name] = netLink{Kind: kindUnknown}
		}
	}
	c.links = links
	return c.names
}

// start makes c.cur the baseline of the next Collect.
func (c *networkCollector) start(now time.Time) {
	c.classify()
	clear(c.state)
	for name, v := range c.cur {
		c.state[name] = newNetState(v)
	}
	c.primed, c.prevAt = true, now
}

func (c *networkCollector) prime() {
	if err := c.read(); err != nil {
		c.log.debug("prime", "prime network collector", "err", err)
		return
	}
	c.start(c.env.now())
}

func (c *networkCollector) Collect(t time.Time) ([]byte, error) {
	if err := c.read(); err != nil {
		return nil, err
	}
	c.keepRaw(t)
	now := c.env.now()
	if !c.primed {
		c.start(now)
		return nil, errNoBaseline
	}
	counted := countedLinks(c.classify(), c.links)
	total, ifaces, implausible := netIORates(c.state, c.cur, c.links, counted, now.Sub(c.prevAt).Seconds())
	c.add(implausible)
	c.prevAt = now

	b, err := json.Marshal(networkPayload{T: t.UnixMilli(), netRates: total, Interfaces: ifaces})
	if err != nil {
		return nil, fmt.Errorf("encode network reading: %w", err)
	}
	return b, nil
}
