package alerts

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Schema lists, per topic, the fields a rule may name, in the rule syntax:
// "total", "cores[*]", "filesystems[*].percent", "devices.*.read_bps".
// The app passes what this host really publishes, so `alerts check` and
// start-up refuse a rule that could never see a value, and the error lists
// the fields that do exist.
type Schema map[string][]string

// SelfTopic is the topic the app feeds about vitals itself (not published to
// the history): the sampler's lag and the history store's health. It is fed
// from a watchdog as well as from the sampler, so a stalled sampler is seen.
const SelfTopic = "vitals"

// MetricsSchema describes the payloads of the metrics package today plus
// SelfTopic. The app may pass it as is or build its own from the collectors
// it runs; a topic missing from the schema (a host without a disk collector)
// makes the default rules on it disappear instead of failing.
func MetricsSchema() Schema {
	return Schema{
		"cpu":    {"total", "user", "system", "iowait", "steal", "idle", "cores[*]"},
		"memory": {"total", "used", "available", "cached", "buffers", "percent", "swap_total", "swap_used"},
		"load":   {"load1", "load5", "load15", "cpus"},
		"disk": {"read_bps", "write_bps", "read_iops", "write_iops",
			"devices.*.read_bps", "devices.*.write_bps", "devices.*.read_iops", "devices.*.write_iops",
			"filesystems[*].total", "filesystems[*].used", "filesystems[*].percent"},
		"network": {"rx_bps", "tx_bps", "rx_pps", "tx_pps",
			"interfaces.*.rx_bps", "interfaces.*.tx_bps", "interfaces.*.rx_pps", "interfaces.*.tx_pps"},
		SelfTopic: {"sampler_age", "store_failing"},
	}
}

// Topics returns the schema's topics, sorted.
func (s Schema) Topics() []string {
	ts := make([]string, 0, len(s))
	for t := range s {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// Has reports whether topic publishes field.
func (s Schema) Has(topic, field string) bool {
	return slices.Contains(s[topic], field)
}

// wildKind says how one path segment fans out into items.
type wildKind uint8

const (
	wildNone wildKind = iota
	wildList          // name[*]: every element of a list
	wildMap           // *: every key of an object
)

type segment struct {
	name string // object key; empty for a bare "*"
	wild wildKind
}

// path is a compiled field: object keys to follow, with at most one segment
// that fans out, which makes the rule per item.
type path struct {
	segs    []segment
	perItem bool
}

func parsePath(field string) (path, error) {
	if field == "" {
		return path{}, fmt.Errorf("empty field")
	}
	var p path
	for _, part := range strings.Split(field, ".") {
		seg := segment{name: part}
		switch {
		case part == "*":
			seg = segment{wild: wildMap}
		case strings.HasSuffix(part, "[*]"):
			seg = segment{name: strings.TrimSuffix(part, "[*]"), wild: wildList}
		}
		if seg.wild == wildNone && part == "" || seg.wild == wildList && seg.name == "" {
			return path{}, fmt.Errorf("field %q has an empty part", field)
		}
		if strings.ContainsAny(seg.name, "[]*") {
			return path{}, fmt.Errorf("field %q: %q is neither a name, name[*] nor *", field, part)
		}
		if seg.wild != wildNone {
			if p.perItem {
				return path{}, fmt.Errorf("field %q fans out twice; one [*] or * per field", field)
			}
			p.perItem = true
		}
		p.segs = append(p.segs, seg)
	}
	return p, nil
}

// itemKeys name a list element that is an object, in order of preference:
// a filesystem by its mount point, anything else by its name or id. An
// element without any of them is named by its index.
var itemKeys = [...]string{"mount", "name", "id"}

// extract calls fn with every number the path reaches in a parsed payload;
// item is empty for a path without a wildcard and only valid during the
// call. Nulls and non-numbers are skipped: a field the host can't provide
// has no samples, not zeros.
func (pa path) extract(p *payload, fn func(item []byte, x float64)) {
	if len(p.nodes) > 0 {
		pa.walk(p, 0, 0, nil, fn)
	}
}

func (pa path) walk(p *payload, n int32, i int, item []byte, fn func([]byte, float64)) {
	if i == len(pa.segs) {
		if p.nodes[n].kind == kindNumber {
			fn(item, p.nodes[n].num)
		}
		return
	}
	seg := pa.segs[i]
	if seg.name != "" {
		if n = p.member(n, seg.name); n < 0 {
			return
		}
	}
	switch seg.wild {
	case wildNone:
		pa.walk(p, n, i+1, item, fn)
	case wildList:
		if p.nodes[n].kind != kindArray {
			return
		}
		index := 0
		for c := p.nodes[n].child; c >= 0; c = p.nodes[c].next {
			pa.walk(p, c, i+1, p.elementName(c, index), fn)
			index++
		}
	case wildMap:
		if p.nodes[n].kind != kindObject {
			return
		}
		for c := p.nodes[n].child; c >= 0; c = p.nodes[c].next {
			pa.walk(p, c, i+1, unescape(p.nodes[c].key), fn)
		}
	}
}

func (p *payload) elementName(el int32, index int) []byte {
	for _, k := range itemKeys {
		if m := p.member(el, k); m >= 0 && p.nodes[m].kind == kindString && len(p.nodes[m].str) > 0 {
			return unescape(p.nodes[m].str)
		}
	}
	p.scratch = strconv.AppendInt(p.scratch[:0], int64(index), 10)
	return p.scratch
}

// unescape decodes a raw JSON string's escapes; names rarely have any.
func unescape(raw []byte) []byte {
	if !slices.Contains(raw, '\\') {
		return raw
	}
	s, err := strconv.Unquote(`"` + string(raw) + `"`)
	if err != nil {
		return raw
	}
	return []byte(s)
}
