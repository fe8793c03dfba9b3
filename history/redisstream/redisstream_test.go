package redisstream

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/history"
	"vitals/internal/redistest"
)

var testTopics = []string{"cpu", "memory", "load"}

func replayIDs(s *history.Subscription) (ids []string) {
	for e := range s.Replay() {
		ids = append(ids, e.ID)
	}
	return ids
}

func newRedisClient(t *testing.T, srv *redistest.Server) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	opts.MaxRetries = -1 // tests restart the server; fail fast, the code retries
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// openTestBackend starts a Redis for the test and opens a Backend on it
// as the program does, with o's Redis options filled in.
func openTestBackend(t *testing.T, o Options) (*Backend, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	opts, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	o.Client = redis.NewClient(opts)
	b, err := Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, srv
}

func newTestPublisher(t *testing.T, c *redis.Client, host string, maxLen int64) *Publisher {
	t.Helper()
	p, err := NewPublisher(context.Background(), PublisherOptions{
		Client: c, Record: HostRecord{Name: host, Info: []byte(`{"os":"linux"}`), IntervalMS: 1000, RetentionMS: 3600_000},
		Topics: testTopics, MaxLen: maxLen, Buffer: 600,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func newTestHub(t *testing.T, c *redis.Client) *Hub {
	t.Helper()
	h, err := NewHub(HubOptions{Client: c, Topics: testTopics, Retention: time.Hour, MaxBytes: 64 << 20,
		Block: 200 * time.Millisecond, Idle: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// redisTick publishes one tick of every test topic at second i after a
// fixed start (so ids are predictable: "<ms>-<topic index>").
func redisTick(t *testing.T, p *Publisher, i int) {
	t.Helper()
	at := time.UnixMilli(1_800_000_000_000).Add(time.Duration(i) * time.Second)
	var samples []history.Sample
	for _, topic := range testTopics {
		samples = append(samples, history.Sample{Topic: topic, Data: fmt.Appendf(nil, `{"t":%d,"i":%d}`, at.UnixMilli(), i)})
	}
	if err := p.Publish(at, samples); err != nil {
		t.Fatal(err)
	}
}

// publishTicks starts a Redis for the test and publishes n ticks of host
// "a" on it through a Publisher whose stream keeps about maxLen entries.
func publishTicks(t *testing.T, maxLen int64, n int) (*redis.Client, *Publisher) {
	t.Helper()
	c := newRedisClient(t, redistest.Start(t))
	pub := newTestPublisher(t, c, "a", maxLen)
	for i := range n {
		redisTick(t, pub, i)
	}
	return c, pub
}

func tickIDs(from, to int) []string {
	var ids []string
	for i := from; i < to; i++ {
		ms := uint64(1_800_000_000_000 + i*1000)
		for j := range testTopics {
			ids = append(ids, formatStreamID(ms, uint64(j)))
		}
	}
	return ids
}

func waitStreamLen(t *testing.T, c *redis.Client, host string, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := c.XLen(context.Background(), StreamKey(host)).Result()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s has %d entries, want %d", host, got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// collect reads live events from s until it has n ids.
func collect(t *testing.T, s *history.Subscription, n int) []string {
	t.Helper()
	var ids []string
	timeout := time.After(10 * time.Second)
	for len(ids) < n {
		select {
		case <-s.Ready():
			for _, e := range s.Next(nil) {
				ids = append(ids, e.ID)
			}
		case <-s.Done():
			t.Fatalf("subscription ended: %v (have %d of %d)", s.Err(), len(ids), n)
		case <-timeout:
			t.Fatalf("have %d of %d events: %v", len(ids), n, ids)
		}
	}
	return ids
}

func TestRedisReplayThenLiveAcrossInstances(t *testing.T) {
	c, pub := publishTicks(t, 10_000, 10)
	waitStreamLen(t, c, "a", 30)

	hub1 := newTestHub(t, c)
	f1, rec, err := hub1.Source(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Name != "a" || string(rec.Info) != `{"os":"linux"}` || rec.IntervalMS != 1000 {
		t.Errorf("record = %+v", rec)
	}
	sub, err := f1.Subscribe(history.SubscribeOptions{Resume: true, After: tickIDs(0, 1)[2]})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if cu := sub.Catchup(); !cu.Complete || cu.Count != 27 || cu.Head != tickIDs(9, 10)[2] {
		t.Errorf("catchup = %+v", cu)
	}
	if got := replayIDs(sub); !slices.Equal(got, tickIDs(1, 10)) {
		t.Errorf("replay = %v", got)
	}
	for i := 10; i < 15; i++ {
		redisTick(t, pub, i)
	}
	live := collect(t, sub, 15)
	if !slices.Equal(live, tickIDs(10, 15)) {
		t.Errorf("live = %v", live)
	}

	// A second instance resumes from the first one's last id exactly.
	hub2 := newTestHub(t, c)
	f2, _, err := hub2.Source(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	sub2, err := f2.Subscribe(history.SubscribeOptions{Resume: true, After: live[7]})
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()
	if got := replayIDs(sub2); !slices.Equal(got, live[8:]) || !sub2.Catchup().Complete {
		t.Errorf("resume on instance 2: %v %+v", got, sub2.Catchup())
	}

	// Topic filter and Range work as with bbolt.
	p, err := f2.Range("", []string{"memory"}, 2)
	if err != nil || len(p.Events) != 2 || p.Events[1].ID != tickIDs(14, 15)[1] {
		t.Errorf("range = %+v, %v", p, err)
	}
	if _, err := f2.Range("nonsense", nil, 0); !errors.Is(err, history.ErrBadAfter) {
		t.Errorf("malformed after: %v", err)
	}
}

func TestRedisCatchupIncomplete(t *testing.T) {
	// MAXLEN ~ trims whole radix-tree nodes (100 entries by default), so
	// write well past a node to see a trim.
	c, pub := publishTicks(t, 30, 200)
	waitStreamLen(t, c, "a", 1) // written
	deadline := time.Now().Add(10 * time.Second)
	for pub.Buffered() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	hub := newTestHub(t, c)
	f, _, err := hub.Source(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	oldest, _ := f.Bounds()
	cases := []struct {
		name, after, reason string
		complete            bool
	}{
		{"trimmed away", tickIDs(0, 1)[0], history.ReasonExpired, false},
		{"malformed", "not-an-id", history.ReasonMalformed, false},
		{"bbolt id", "abcdefgh.12", history.ReasonMalformed, false},
		{"future", formatStreamID(1_900_000_000_000, 0), history.ReasonFuture, false},
		{"between entries", formatStreamID(1_800_000_000_000+190_000, 7), history.ReasonUnknown, false},
		{"oldest kept", oldest, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sub, err := f.Subscribe(history.SubscribeOptions{Resume: true, After: tc.after})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			cu := sub.Catchup()
			if cu.Complete != tc.complete || cu.Reason != tc.reason {
				t.Errorf("catchup = %+v, want complete %v reason %q", cu, tc.complete, tc.reason)
			}
		})
	}
}

func TestRedisRestartLosesNoTick(t *testing.T) {
	srv := redistest.Start(t)
	c := newRedisClient(t, srv)
	pub := newTestPublisher(t, c, "a", 10_000)
	hub := newTestHub(t, c)
	redisTick(t, pub, 0)
	waitStreamLen(t, c, "a", 3)
	f, _, err := hub.Source(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := f.Subscribe(history.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	redisTick(t, pub, 1)
	got := collect(t, sub, 3)

	srv.Stop(t)
	for i := 2; i < 6; i++ { // sampled while Redis is down: buffered
		redisTick(t, pub, i)
		time.Sleep(20 * time.Millisecond)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pub.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if pub.Buffered() == 0 || pub.Err() == nil {
		t.Errorf("buffered %d, err %v: want ticks held and an error", pub.Buffered(), pub.Err())
	}
	if st := pub.Stats(); st.Buffered == 0 || st.WriteErrors == 0 || st.Capacity != 600 || st.Dropped != 0 {
		t.Errorf("stats while down: %+v", st)
	}
	t.Logf("while down: %v", pub.Err())
	srv.Restart(t) // comes back empty: no persistence
	for i := 6; i < 8; i++ {
		redisTick(t, pub, i)
	}
	got = append(got, collect(t, sub, 18)...)
	if !slices.Equal(got, tickIDs(1, 8)) {
		t.Errorf("after restart: %v\nwant %v", got, tickIDs(1, 8))
	}
	// The reader can see the flushed ticks before the publisher has taken
	// them off its buffer (that happens when the write returns): give the
	// publisher its moment before checking its own figures.
	for deadline := time.Now().Add(10 * time.Second); (pub.Buffered() != 0 || pub.Err() != nil) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if pub.Err() != nil || hub.Err() != nil {
		t.Errorf("still failing: %v / %v", pub.Err(), hub.Err())
	}
	if st := pub.Stats(); st.Buffered != 0 || st.WriteErrors == 0 {
		t.Errorf("stats after recovery: %+v (errors are a running total)", st)
	}
	// The emptied Redis lists the host again: its record was new.
	if hosts, err := hub.Hosts(context.Background()); err != nil || len(hosts) != 1 || hosts[0].Name != "a" {
		t.Errorf("hosts after the restart: %+v, %v", hosts, err)
	}
}

func TestRedisUnknownHostAndShutdown(t *testing.T) {
	srv := redistest.Start(t)
	c := newRedisClient(t, srv)
	before := runtime.NumGoroutine()
	pub := newTestPublisher(t, c, "a", 100)
	redisTick(t, pub, 0)
	hub, err := NewHub(HubOptions{Client: c, Topics: testTopics, Retention: time.Hour, MaxBytes: 1 << 20, Block: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = hub.Source(context.Background(), "nope")
	var uh *history.UnknownHostError
	if !errors.As(err, &uh) || !slices.Equal(uh.Known, []string{"a"}) {
		t.Fatalf("unknown host: %v", err)
	}
	if n := hub.Following(); n != 0 {
		t.Errorf("following %d hosts before any was read", n)
	}
	f, _, err := hub.Source(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if n := hub.Following(); n != 1 {
		t.Errorf("following %d hosts, want 1", n)
	}
	sub, err := f.Subscribe(history.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	hub.Close()
	pub.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("close took %v", d) // a bound on hangs, not a speed test
	}
	select {
	case <-sub.Done():
		if !errors.Is(sub.Err(), history.ErrClosed) {
			t.Errorf("sub ended with %v", sub.Err())
		}
	default:
		t.Error("subscription still open after Close")
	}
	if _, _, err := hub.Source(context.Background(), "a"); !errors.Is(err, history.ErrClosed) {
		t.Errorf("source after close: %v", err)
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestRedisSeveralEventsOfOneTopicInATick: two alert transitions in one
// tick get ids of their own, after every topic's, in order; written twice
// (a retry), the tick is still stored once.
func TestRedisSeveralEventsOfOneTopicInATick(t *testing.T) {
	srv := redistest.Start(t)
	c := newRedisClient(t, srv)
	p := newTestPublisher(t, c, "h1", 1000)
	at := time.UnixMilli(1_800_000_000_000)
	samples := []history.Sample{
		{Topic: "cpu", Data: []byte(`{"a":1}`)},
		{Topic: "load", Data: []byte(`{"b":1}`)},
		{Topic: "load", Data: []byte(`{"b":2}`)},
		{Topic: "load", Data: []byte(`{"b":3}`)},
	}
	if err := p.Publish(at, samples); err != nil {
		t.Fatal(err)
	}
	waitStreamLen(t, c, "h1", 4)
	if err := p.write(context.Background(), []pendingTick{{ms: at.UnixMilli(), samples: samples}}); err != nil {
		t.Fatalf("retrying the tick: %v", err)
	}
	msgs, err := c.XRange(context.Background(), StreamKey("h1"), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.ID)
	}
	want := []string{"1800000000000-0", "1800000000000-2", "1800000000000-3", "1800000000000-4"}
	if !slices.Equal(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
}

// TestRedisFeedLastSeenIsTheAnnounceBeforeTheFirstTick: a host that has
// announced itself and not ticked yet has a feed with no events, and its
// last sign of life is the announce, as /api/hosts reports it.
func TestRedisFeedLastSeenIsTheAnnounceBeforeTheFirstTick(t *testing.T) {
	c := newRedisClient(t, redistest.Start(t))
	before := time.Now().Truncate(time.Millisecond)
	newTestPublisher(t, c, "a", 1000)
	after := time.Now()
	f, _, err := newTestHub(t, c).Source(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Latest()) != 0 {
		t.Fatalf("a host that never ticked has events: %v", f.Latest())
	}
	if got := f.LastSeen(); got.Before(before) || got.After(after) {
		t.Errorf("LastSeen = %v, want the announce in [%v, %v]", got, before, after)
	}
}
