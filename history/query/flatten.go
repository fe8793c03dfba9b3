package query

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Mark kinds as the server writes them on a tick (docs/events.md).
const (
	markRestart = "restart"
	markSkipped = "skipped"
	markClock   = "clock_step"
)

// notFields are payload keys that are numbers but not measurements: the
// sample time, the server's marks, and the CPU numbers that key "cores".
var notFields = map[string]bool{"t": true, markRestart: true, markSkipped: true, markClock: true, "core_ids": true}

// skipLists are per-process rows: a top-N list changes members every tick,
// so a field per process would be noise, not a series.
var skipLists = map[string]bool{"top_cpu": true, "top_rss": true}

// itemKeys name an object in an array by one of its fields, in this order
// of preference: a filesystem's "mount", a container's "name", a sensor's
// or GPU's "id".
var itemKeys = []string{"mount", "name", "id"}

// flatten calls fn with every numeric field of one raw payload by its path
// (CONTRACT: "total", "cores.3", "interfaces.eth0.rx_bps",
// "filesystems./.used"). "cores" is keyed by the CPU's number from
// "core_ids" where the payload has it. A null is no sample and is skipped.
// It returns the marks the tick carries.
func flatten(data []byte, fn func(path string, v float64)) (marks map[string]int64, err error) {
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	for _, k := range []string{markRestart, markSkipped, markClock} {
		if n, ok := obj[k].(json.Number); ok {
			if v, err := n.Int64(); err == nil {
				if marks == nil {
					marks = map[string]int64{}
				}
				marks[k] = v
			}
		}
	}
	var coreIDs []any
	if ids, ok := obj["core_ids"].([]any); ok {
		coreIDs = ids
	}
	for k, v := range obj {
		if notFields[k] || skipLists[k] {
			continue
		}
		if k == "cores" {
			if cores, ok := v.([]any); ok && len(coreIDs) == len(cores) {
				for i, c := range cores {
					if id, ok := coreIDs[i].(json.Number); ok {
						walk("cores."+id.String(), c, fn)
					}
				}
				continue
			}
		}
		walk(k, v, fn)
	}
	return marks, nil
}

func walk(path string, v any, fn func(string, float64)) {
	switch v := v.(type) {
	case json.Number:
		if f, err := v.Float64(); err == nil {
			fn(path, f)
		}
	case map[string]any:
		for k, c := range v {
			walk(path+"."+k, c, fn)
		}
	case []any:
		for i, c := range v {
			walk(path+"."+itemKey(c, i), c, fn)
		}
	}
}

// itemKey names element i of an array: an object by its name field, any
// other element by its position.
func itemKey(v any, i int) string {
	if o, ok := v.(map[string]any); ok {
		for _, k := range itemKeys {
			if s, ok := o[k].(string); ok && s != "" {
				return s
			}
		}
	}
	return strconv.Itoa(i)
}
