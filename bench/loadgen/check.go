package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"vitals/bench/internal/loadresult"
)

// truth is the server's own event log, read after the run.
type truth struct {
	index  map[uint64]int // id key -> position
	first  uint64         // key of the oldest retained event
	keys   []uint64       // every event's key, in log order
	prefix [][]int32      // prefix[t][i]: events of topic t among the first i
}

func (r *runner) fetchTruth(ctx context.Context, k logKey) (*truth, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.urls[k.u]+"/api/history"+hostParam("?", k.host), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read the server's log: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read the server's log: %s", resp.Status)
	}
	var page struct {
		Events []struct {
			ID    string `json:"id"`
			Event string `json:"event"`
		} `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, fmt.Errorf("decode the server's log: %w", err)
	}
	t := &truth{index: make(map[uint64]int, len(page.Events)), prefix: make([][]int32, len(r.names)),
		keys: make([]uint64, len(page.Events))}
	for i := range t.prefix {
		t.prefix[i] = make([]int32, len(page.Events)+1)
	}
	for i, e := range page.Events {
		k, ok := r.epochs.parse([]byte(e.ID))
		if !ok {
			return nil, fmt.Errorf("the server's log holds id %q of an unknown shape", e.ID)
		}
		if i == 0 {
			t.first = k
		}
		t.index[k] = i
		t.keys[i] = k
		ti := r.topicIndex([]byte(e.Event))
		for j := range t.prefix {
			t.prefix[j][i+1] = t.prefix[j][i]
			if j == ti {
				t.prefix[j][i+1]++
			}
		}
	}
	return t, nil
}

// evicted reports whether k is older than everything the log still holds
// (same store, smaller number): unverifiable, not wrong.
func (t *truth) evicted(k uint64) bool {
	return k>>seqBits == t.first>>seqBits && k < t.first
}

// mask returns the topic indexes a stream asked for.
func (r *runner) mask(s *stream) []int {
	if s.query == "" {
		all := make([]int, len(r.names))
		for i := range all {
			all[i] = i
		}
		return all
	}
	var out []int
	for _, q := range strings.Split(s.query, ",") {
		if i := r.topicIndex([]byte(q)); i >= 0 {
			out = append(out, i)
		}
	}
	return out
}

// check compares every stream with what it was owed, by the log of the
// URL and host it read: one log without -urls and -hosts.
func (r *runner) check(ctx context.Context, streams []*stream, heads map[logKey]headInfo) loadresult.Check {
	if r.cfg.Truth == "ticks" {
		return r.checkTicks(streams)
	}
	c := loadresult.Check{Mode: "ids vs GET /api/history"}
	if len(r.cfg.urls) > 1 || len(r.cfg.hosts) > 0 {
		c.Mode = "ids vs GET /api/history?host= of each stream's URL"
	}
	truths := map[logKey]*truth{}
	evictedLower := 0
	for _, k := range r.logKeys(streams) {
		t, err := r.fetchTruth(ctx, k)
		if err != nil {
			c.Note = err.Error()
			c.Missed = -1
			return c
		}
		truths[k] = t
		head := heads[k]
		headKey, ok := r.epochs.parse([]byte(head.Head))
		headIdx, found := t.index[headKey]
		if !ok || !found {
			c.Note = fmt.Sprintf("head %q read at the end is not in the log of %s", head.Head, r.logName(k))
			c.Missed = -1
			return c
		}
		var group []*stream
		for _, s := range streams {
			if s.u == k.u && s.hostQ == k.host {
				group = append(group, s)
			}
		}
		evictedLower += r.checkLog(&c, t, headIdx, group)
	}
	c.Logs = len(truths)
	c.Disagree = r.disagree(truths)
	if evictedLower > 0 {
		c.Note = fmt.Sprintf("%d streams resumed from ids evicted since; checked from the oldest retained event", evictedLower)
	}
	return c
}

func (r *runner) logName(k logKey) string {
	return r.cfg.urls[k.u] + "/api/history" + hostParam("?", k.host)
}

// disagree compares, host by host, the logs of every URL over the span
// they all hold: the same ids must be there. With Redis the stream entry
// ids are the wire ids, so two instances must name every event alike.
func (r *runner) disagree(truths map[logKey]*truth) int64 {
	if len(r.cfg.urls) < 2 {
		return 0
	}
	var n int64
	hosts := r.cfg.hosts
	if len(hosts) == 0 {
		hosts = []string{""}
	}
	for _, h := range hosts {
		var logs []*truth
		for u := range r.cfg.urls {
			if t := truths[logKey{u, h}]; t != nil && len(t.keys) > 0 {
				logs = append(logs, t)
			}
		}
		if len(logs) < 2 {
			continue
		}
		lo, hi := logs[0].keys[0], logs[0].keys[len(logs[0].keys)-1]
		for _, t := range logs[1:] {
			lo, hi = max(lo, t.keys[0]), min(hi, t.keys[len(t.keys)-1])
		}
		in := func(t *truth) map[uint64]bool {
			m := map[uint64]bool{}
			for _, k := range t.keys {
				if k >= lo && k <= hi {
					m[k] = true
				}
			}
			return m
		}
		ref := in(logs[0])
		for _, t := range logs[1:] {
			other := in(t)
			for k := range other {
				if !ref[k] {
					n++
				}
			}
			for k := range ref {
				if !other[k] {
					n++
				}
			}
		}
	}
	return n
}

// checkLog checks the streams that read one log; it returns how many of
// them resumed from an id the log no longer holds.
func (r *runner) checkLog(c *loadresult.Check, t *truth, headIdx int, streams []*stream) (evictedLower int) {
	for _, s := range streams {
		low := -1
		if s.haveLower {
			if i, ok := t.index[s.lower]; ok {
				low = i
			} else {
				evictedLower++ // owed from the oldest retained event
			}
		}
		high := low
		switch {
		case s.connected && !s.slow:
			high = headIdx
		case s.haveLast:
			if i, ok := t.index[s.last]; ok {
				high = i
			}
		}
		mask := r.mask(s)
		var want int64
		for _, ti := range mask {
			want += int64(t.prefix[ti][high+1] - t.prefix[ti][low+1])
		}
		inMask := func(i int) bool {
			for _, ti := range mask {
				if t.prefix[ti][i+1] != t.prefix[ti][i] {
					return true
				}
			}
			return false
		}
		var got int64
		prev := -1
		for _, k := range s.keys {
			j, ok := t.index[k]
			if !ok {
				if !t.evicted(k) {
					c.Unknown++
				}
				continue
			}
			if j <= prev {
				c.OutOfOrder++
				continue
			}
			prev = j
			if j > low && j <= high && inMask(j) {
				got++
			}
		}
		c.Streams++
		c.Expected += want
		if miss := want - got; miss > 0 {
			c.Missed += miss
			c.StreamsMissed++
			c.MaxMissed = max(c.MaxMissed, miss)
		}
	}
	return evictedLower
}

// checkTicks checks a server without ids: each topic must arrive once per
// interval, with no sample time skipped between a stream's first and last.
func (r *runner) checkTicks(streams []*stream) loadresult.Check {
	c := loadresult.Check{Mode: "sample times (no ids)"}
	step := r.cfg.Interval.Milliseconds()
	silent := 0
	for _, s := range streams {
		if s.slow {
			continue
		}
		c.Streams++
		var miss, any int64
		for _, ti := range r.mask(s) {
			st := s.ticks[ti]
			if st.count == 0 {
				continue
			}
			any += st.count
			owed := (st.last-st.first)/step + 1
			c.Expected += owed
			switch {
			case owed > st.count:
				miss += owed - st.count
			case owed < st.count:
				c.OutOfOrder += st.count - owed
			}
		}
		if any == 0 {
			silent++
		}
		if miss > 0 {
			c.Missed += miss
			c.StreamsMissed++
			c.MaxMissed = max(c.MaxMissed, miss)
		}
	}
	if silent > 0 {
		c.Note = fmt.Sprintf("%d streams received nothing", silent)
	}
	return c
}
