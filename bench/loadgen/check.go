package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// truth is the server's own event log, read after the run.
type truth struct {
	index  map[uint64]int // id key -> position
	first  uint64         // key of the oldest retained event
	prefix [][]int32      // prefix[t][i]: events of topic t among the first i
}

func (r *runner) fetchTruth(ctx context.Context) (*truth, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.URL+"/api/history", nil)
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
	t := &truth{index: make(map[uint64]int, len(page.Events)), prefix: make([][]int32, len(r.names))}
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

// check compares every stream with what it was owed.
func (r *runner) check(ctx context.Context, streams []*stream, head headInfo) Check {
	if r.cfg.Truth == "ticks" {
		return r.checkTicks(streams)
	}
	c := Check{Mode: "ids vs GET /api/history"}
	t, err := r.fetchTruth(ctx)
	if err != nil {
		c.Note = err.Error()
		c.Missed = -1
		return c
	}
	headKey, ok := r.epochs.parse([]byte(head.Head))
	headIdx, found := t.index[headKey]
	if !ok || !found {
		c.Note = fmt.Sprintf("head %q read at the end is not in the log", head.Head)
		c.Missed = -1
		return c
	}
	evictedLower := 0
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
	if evictedLower > 0 {
		c.Note = fmt.Sprintf("%d streams resumed from ids evicted since; checked from the oldest retained event", evictedLower)
	}
	return c
}

// checkTicks checks a server without ids: each topic must arrive once per
// interval, with no sample time skipped between a stream's first and last.
func (r *runner) checkTicks(streams []*stream) Check {
	c := Check{Mode: "sample times (no ids)"}
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
