package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/history/redisstream"
	"vitals/history/tier"
	"vitals/internal/redistest"
	"vitals/internal/ssetest"
)

// Scale-out tests: real redis-server, real vitals binaries.

// openStream opens url, resuming after lastID unless it is "", and
// checks that it is served.
func openStream(t *testing.T, url, lastID string) *ssetest.Stream {
	t.Helper()
	var hdr []string
	if lastID != "" {
		hdr = append(hdr, "Last-Event-ID: "+lastID)
	}
	s := ssetest.Open(t, url, hdr...)
	if s.Resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, s.Resp.Status)
	}
	return s
}

// nextAfterHello returns the stream's next event other than hello,
// failing after timeout.
func nextAfterHello(t *testing.T, s *ssetest.Stream, timeout time.Duration) ssetest.Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if e := s.NextEventWithin(t, time.Until(deadline)); e.Event != "hello" {
			return e
		}
	}
}

// streamIDs are the ids of topic's entries in host's stream after
// (exclusive) through (inclusive), straight from Redis.
func streamIDs(t *testing.T, c redis.UniversalClient, host, topic, after, through string) []string {
	t.Helper()
	msgs, err := c.XRange(context.Background(), redisstream.StreamKey(host), "("+after, through).Result()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range msgs {
		if m.Values["topic"] == topic {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// TestRedisFailoverResumesExactlyOnAnotherInstance: hosts a and b publish;
// a client follows a on instance 1, which is killed; the client resumes on
// instance 2 with its last id and gets exactly what it missed.
func TestRedisFailoverResumesExactlyOnAnotherInstance(t *testing.T) {
	srv := redistest.Start(t)
	checkFailover(t, srv.URL, srv.URL, srv.Client(t), "a", "b")
}

// TestRedisClusterFailoverResumesExactly: the same on a real three-master
// Redis Cluster with three hosts publishing. The second instance is given
// one node's address only and finds the cluster by itself. Every key of a
// host is in the host's slot.
func TestRedisClusterFailoverResumesExactly(t *testing.T) {
	c := redistest.StartCluster(t)
	rc := c.Client(t)
	hosts := []string{"a", "b", "c"}
	// Thirty days of host b's hours, written before b starts so its own
	// roller's newer buckets append after them.
	now := time.Now()
	thisHour := now.Truncate(time.Hour).UnixMilli()
	const days = 30
	var points []tier.Point
	for h := int64(days * 24); h >= 1; h-- {
		v := float64(h % 100)
		points = append(points, tier.Point{Topic: "cpu", T: thisHour - h*time.Hour.Milliseconds(), Step: tier.Hour, Count: 60,
			Fields: map[string]tier.Stat{"total": {Min: v, Max: v, Sum: 60 * v, N: 60}}})
	}
	if err := redisstream.NewTierStore(rc, "b", redisstream.TierOptions{}).Write(points); err != nil {
		t.Fatal(err)
	}
	inst2 := checkFailover(t, c.URL, "redis://"+c.Nodes[2].Addr, rc, hosts...)

	// The month reads back through the instance that knows one node only.
	r := getJSON[rangeAnswer](t, inst2.URL+"/api/range?host=b&topic=cpu&fields=total&from=-30d&to=now&points=720")
	if r.Tier != "1h" {
		t.Errorf("30 d of b: tier %q, want 1h", r.Tier)
	}
	// Each point the answer draws is the mean of the written hours it
	// covers inside the range (the step may be a few hours, and the first
	// point may start before from: an hour before from is not asked for).
	matched := 0
	for i, at := range r.T {
		var sum float64
		var n uint32
		hours := 0
		for _, p := range points {
			if at <= p.T && p.T < at+r.Step && p.T >= r.From {
				sum, n, hours = sum+p.Fields["total"].Sum, n+p.Fields["total"].N, hours+1
			}
		}
		if mean := r.Series["total"].Mean[i]; n > 0 && mean != nil {
			if *mean != sum/float64(n) {
				t.Errorf("30 d of b: mean at %d = %v, want %v", at, *mean, sum/float64(n))
			}
			matched += hours
		}
	}
	if matched < days*24-2 {
		t.Errorf("30 d of b: %d of %d written hours read back (%d points of %d ms)", matched, days*24, len(r.T), r.Step)
	}

	for _, h := range append(hosts, "i1", "i2") {
		slot := c.KeySlot(t, redisstream.StreamKey(h))
		for _, key := range []string{redisstream.RecordKey(h), redisstream.TierKey(h, time.Minute, "cpu"), redisstream.TierKey(h, time.Hour, "network")} {
			if got := c.KeySlot(t, key); got != slot {
				t.Errorf("%s in slot %d, %s in %d", key, got, redisstream.StreamKey(h), slot)
			}
		}
		for _, key := range []string{redisstream.StreamKey(h), redisstream.RecordKey(h)} {
			if n, err := rc.Exists(context.Background(), key).Result(); err != nil || n != 1 {
				t.Errorf("EXISTS %s = %d, %v", key, n, err)
			}
		}
	}
}

// checkFailover starts hosts publishing to Redis at url and two instances
// (the second on url2), follows hosts[0] on the first, kills it, and
// resumes on the second: exactly what Redis holds after the last id seen,
// no more, no less. It returns the second instance.
func checkFailover(t *testing.T, url, url2 string, rc redis.UniversalClient, hosts ...string) *vitalsProc {
	t.Helper()
	for _, h := range hosts {
		startVitals(t, t.TempDir(), "--redis", url, "--name", h)
	}
	inst1 := startVitals(t, t.TempDir(), "--redis", url, "--name", "i1")
	inst2 := startVitals(t, t.TempDir(), "--redis", url2, "--name", "i2")
	a := hosts[0]

	s1 := openStream(t, inst1.URL+"/events?host="+a+"&topics=cpu", "")
	var last string
	for range 5 {
		e := nextAfterHello(t, s1, 10*time.Second)
		if e.Event != "cpu" {
			t.Fatalf("got %+v", e)
		}
		last = e.ID
	}
	inst1.Kill9(t)
	time.Sleep(time.Second) // host a keeps publishing: about 5 ticks missed

	s2 := openStream(t, inst2.URL+"/events?host="+a+"&topics=cpu", last)
	start := nextAfterHello(t, s2, 10*time.Second)
	var cs struct {
		Count    int
		Complete bool
		Reason   string
	}
	json.Unmarshal([]byte(start.Data), &cs)
	if start.Event != "catchup-start" || !cs.Complete || cs.Count < 3 {
		t.Fatalf("catchup-start = %+v", start)
	}
	var replayed []string
	for {
		e := nextAfterHello(t, s2, 10*time.Second)
		if e.Event == "catchup-end" {
			var ce struct{ Head string }
			json.Unmarshal([]byte(e.Data), &ce)
			want := streamIDs(t, rc, a, "cpu", last, ce.Head)
			if !slices.Equal(replayed, want) {
				t.Fatalf("replayed %v\nmissed   %v", replayed, want)
			}
			break
		}
		replayed = append(replayed, e.ID)
	}
	// Then live, right after the replay.
	live := nextAfterHello(t, s2, 10*time.Second)
	want := streamIDs(t, rc, a, "cpu", replayed[len(replayed)-1], "+")
	if len(want) == 0 || live.ID != want[0] {
		t.Errorf("first live %s, want %v", live.ID, want)
	}

	// Every host is listed on the surviving instance.
	resp, err := http.Get(inst2.URL + "/api/hosts")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Hosts []struct {
			Name string
			Live bool
		}
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	live1 := map[string]bool{}
	for _, h := range list.Hosts {
		live1[h.Name] = h.Live
	}
	for _, h := range append(hosts, "i2") {
		if !live1[h] {
			t.Errorf("/api/hosts: %s not live in %+v", h, list)
		}
	}
	return inst2
}

// TestRedisResumeFromTrimmedID: an id MAXLEN trimmed away gets
// complete:false.
func TestRedisResumeFromTrimmedID(t *testing.T) {
	srv := redistest.Start(t)
	rc := srv.Client(t)
	// 1 s of history at 100 ms: MAXLEN 50. Redis trims whole nodes of 100
	// entries, so the first id goes after about 150 entries (3 s).
	p := startVitals(t, t.TempDir(), "--redis", srv.URL, "--name", "a", "--interval", "100ms", "--history", "1s")
	s := openStream(t, p.URL+"/events?topics=cpu", "")
	first := nextAfterHello(t, s, 10*time.Second).ID
	deadline := time.Now().Add(30 * time.Second)
	for {
		msgs, err := rc.XRangeN(context.Background(), redisstream.StreamKey("a"), "-", "+", 1).Result()
		if err == nil && len(msgs) == 1 && msgs[0].ID > first && len(msgs[0].ID) == len(first) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("stream never trimmed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	s2 := openStream(t, p.URL+"/events?topics=cpu", first)
	start := nextAfterHello(t, s2, 10*time.Second)
	var cs struct {
		Complete bool
		Reason   string
	}
	json.Unmarshal([]byte(start.Data), &cs)
	if start.Event != "catchup-start" || cs.Complete || cs.Reason != "expired" {
		t.Errorf("catchup-start = %+v", start)
	}
}

// TestRedisRestartMidStream: Redis goes away and comes back empty; the
// stream stays open on heartbeats and then carries every tick sampled
// meanwhile (from the publisher's buffer), none missing.
func TestRedisRestartMidStream(t *testing.T) {
	srv := redistest.Start(t)
	p := startVitals(t, t.TempDir(), "--redis", srv.URL, "--name", "a", "--heartbeat", "300ms")
	s := openStream(t, p.URL+"/events?topics=cpu", "")
	var ids []string
	for range 3 {
		ids = append(ids, nextAfterHello(t, s, 10*time.Second).ID)
	}
	srv.Stop(t)
	// Down for 2 s (10 ticks at 200 ms): the stream must stay open.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		var h map[string]string
		json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if h["status"] == "degraded" {
			t.Logf("healthz while down: %v", h)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz never degraded: %v", h)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	// Whatever arrived before Redis went down is fine; drain it, and look
	// for a heartbeat among it.
	heartbeat := false
	for {
		e, err := s.Read(0)
		if err != nil {
			break // nothing more read yet (or the stream ended: the reads below fail)
		}
		if e.Comment != "" {
			heartbeat = true
		}
		if e.Event != "" || e.Data != "" {
			ids = append(ids, e.ID)
		}
	}
	if !heartbeat {
		t.Error("no heartbeat while Redis was down")
	}
	srv.Restart(t)
	for range 20 {
		ids = append(ids, nextAfterHello(t, s, 20*time.Second).ID)
	}
	// cpu ids are "<sample ms>-0" at 200 ms steps: no step may be skipped.
	for i := 1; i < len(ids); i++ {
		a, _ := strconv.ParseInt(strings.TrimSuffix(ids[i-1], "-0"), 10, 64)
		b, _ := strconv.ParseInt(strings.TrimSuffix(ids[i], "-0"), 10, 64)
		if b-a != 200 {
			t.Fatalf("gap or repeat between %s and %s in %v", ids[i-1], ids[i], ids)
		}
	}
}
