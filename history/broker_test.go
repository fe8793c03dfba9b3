package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var testTopics = []string{"cpu", "memory", "load"}

// clock is a settable time source for retention: a wall clock and a
// monotonic one. advance moves both; step moves only the wall clock, as
// NTP or date -s would.
type clock struct{ ms, mono atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ms.Store(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixMilli())
	return c
}
func (c *clock) now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *clock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()); c.mono.Add(int64(d)) }
func (c *clock) step(d time.Duration)    { c.ms.Add(d.Milliseconds()) }
func (c *clock) elapsed() time.Duration  { return time.Duration(c.mono.Load()) }

func openTest(t *testing.T, dir string, c *clock, mod func(*Options)) *Broker {
	t.Helper()
	o := Options{Dir: dir, Topics: testTopics, Retention: time.Hour, MaxBytes: 64 << 20, Now: c.now, Elapsed: c.elapsed}
	if mod != nil {
		mod(&o)
	}
	b, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// tick publishes one sample per topic at the clock's time, then advances
// the clock one second.
func tick(t *testing.T, b *Broker, c *clock) []string {
	t.Helper()
	var samples []Sample
	for _, topic := range testTopics {
		samples = append(samples, Sample{Topic: topic, Data: fmt.Appendf(nil, `{"t":%d,"topic":%q}`, c.now().UnixMilli(), topic)})
	}
	if err := b.Publish(c.now(), samples); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Second)
	p, _ := b.Range("", nil, len(samples))
	var ids []string
	for _, e := range p.Events {
		ids = append(ids, e.ID)
	}
	return ids
}

func drain(s *Subscription) (ids []string) {
	for _, e := range s.Next(nil) {
		ids = append(ids, e.ID)
	}
	return ids
}

func replayIDs(s *Subscription) (ids []string) {
	for e := range s.Replay() {
		ids = append(ids, e.ID)
	}
	return ids
}

func TestIDsAreShortSafeAndIncreasing(t *testing.T) {
	c := newClock()
	b := openTest(t, t.TempDir(), c, nil)
	var prev uint64
	for range 5 {
		for _, id := range tick(t, b, c) {
			if len(id) > maxIDLen || strings.Trim(id, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-") != "" {
				t.Fatalf("id %q is not short and safe", id)
			}
			_, seq, ok := parseID(id)
			if !ok || seq <= prev {
				t.Fatalf("id %q does not increase past %d", id, prev)
			}
			prev = seq
		}
	}
}

func TestParseIDRejects(t *testing.T) {
	for _, id := range []string{"", "abc", "abcdefgh.", "abcdefgh.x", "abcdefgh.01", "ABCDEFGH.1", "abcdefg.1",
		"abcdefgh.-1", "abcdefgh.18446744073709551616", strings.Repeat("a", 41), "abcdefgh.1.2"} {
		if _, _, ok := parseID(id); ok {
			t.Errorf("parseID(%q) accepted", id)
		}
	}
	if e, s, ok := parseID("abcdefgh.42"); !ok || e != "abcdefgh" || s != 42 {
		t.Errorf("parseID valid = %q %d %v", e, s, ok)
	}
}

func TestResumeExactAndLive(t *testing.T) {
	c := newClock()
	b := openTest(t, t.TempDir(), c, nil)
	var all []string
	for range 3 {
		all = append(all, tick(t, b, c)...)
	}
	s, err := b.Subscribe(SubscribeOptions{Resume: true, After: all[4]})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cu := s.Catchup()
	if cu == nil || !cu.Complete || cu.Count != 4 || cu.Head != all[8] || cu.After != all[4] {
		t.Fatalf("catchup = %+v", cu)
	}
	if got := replayIDs(s); !slices.Equal(got, all[5:]) {
		t.Fatalf("replay = %v, want %v", got, all[5:])
	}
	live := tick(t, b, c)
	select {
	case <-s.Ready():
	default:
		t.Fatal("not signalled after publish")
	}
	if got := drain(s); !slices.Equal(got, live) {
		t.Fatalf("live = %v, want %v", got, live)
	}
}

func TestNoResumeMeansLiveOnly(t *testing.T) {
	c := newClock()
	b := openTest(t, t.TempDir(), c, nil)
	tick(t, b, c)
	s, err := b.Subscribe(SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Catchup() != nil || len(replayIDs(s)) != 0 {
		t.Fatal("a subscriber without an id got a replay")
	}
}

func TestTopicFilter(t *testing.T) {
	c := newClock()
	b := openTest(t, t.TempDir(), c, nil)
	first := tick(t, b, c)
	tick(t, b, c)
	s, err := b.Subscribe(SubscribeOptions{Topics: []string{"memory"}, Resume: true, After: first[2]})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Catchup().Count != 1 {
		t.Fatalf("count = %d, want 1", s.Catchup().Count)
	}
	for e := range s.Replay() {
		if e.Topic != "memory" {
			t.Fatalf("replayed %s", e.Topic)
		}
	}
	tick(t, b, c)
	got := s.Next(nil)
	if len(got) != 1 || got[0].Topic != "memory" {
		t.Fatalf("live = %v", got)
	}

	_, err = b.Subscribe(SubscribeOptions{Topics: []string{"cpu", "gpu"}})
	var ute *UnknownTopicError
	if !errors.As(err, &ute) || ute.Topic != "gpu" || !slices.Equal(ute.Valid, testTopics) {
		t.Fatalf("err = %v", err)
	}
}

// An opt-in topic goes only to those who name it: the stream and Range
// without a topic list leave it out.
func TestOptInTopic(t *testing.T) {
	c := newClock()
	b := openTest(t, t.TempDir(), c, func(o *Options) { o.OptIn = []string{"memory"} })
	all, err := b.Subscribe(SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	named, err := b.Subscribe(SubscribeOptions{Topics: []string{"memory"}})
	if err != nil {
		t.Fatal(err)
	}
	defer named.Close()
	tick(t, b, c)
	for _, e := range all.Next(nil) {
		if e.Topic == "memory" {
			t.Error("a stream without topics got the opt-in topic")
		}
	}
	if got := named.Next(nil); len(got) != 1 || got[0].Topic != "memory" {
		t.Errorf("a stream naming it got %v", got)
	}
	p, _ := b.Range("", nil, 0)
	if len(p.Events) != len(testTopics)-1 {
		t.Errorf("Range without topics: %d events, want %d", len(p.Events), len(testTopics)-1)
	}
}

func TestIncompleteCatchups(t *testing.T) {
	c := newClock()
	dir := t.TempDir()
	// A window of 10 seconds: ticks older than that are trimmed.
	b := openTest(t, dir, c, func(o *Options) { o.Retention = 10 * time.Second })
	first := tick(t, b, c)
	for range 20 {
		tick(t, b, c)
	}
	oldest, head := b.Bounds()
	_, headSeq, _ := parseID(head)
	epoch := b.Epoch()
	other := "zzzzzzzz"
	if epoch == other {
		other = "yyyyyyyy"
	}
	window := len(b.kept.evs)

	tests := []struct {
		name, after, reason string
	}{
		{"not an id", "hello", ReasonMalformed},
		{"too long", strings.Repeat("1", 41), ReasonMalformed},
		{"another store", other + ".5", ReasonOtherStore},
		{"older than the window", first[0], ReasonExpired},
		{"from the future", formatID(epoch, headSeq+1), ReasonFuture},
		{"never issued", formatID(epoch, headSeq+reserveBlock*2), ReasonFuture},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := b.Subscribe(SubscribeOptions{Resume: true, After: tt.after})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			cu := s.Catchup()
			if cu.Complete || cu.Reason != tt.reason {
				t.Fatalf("catchup = %+v, want reason %s", cu, tt.reason)
			}
			// The whole window is sent so the client can rebuild.
			if ids := replayIDs(s); cu.Count != window || len(ids) != window || ids[0] != oldest {
				t.Fatalf("replayed %d (count %d), want the window of %d from %s", len(ids), cu.Count, window, oldest)
			}
		})
	}

	t.Run("unknown id in a gap", func(t *testing.T) {
		// Restart: numbering jumps to the reservation mark, leaving a gap.
		b.Close()
		b2 := openTest(t, dir, c, func(o *Options) { o.Retention = 10 * time.Second })
		tick(t, b2, c)
		s, err := b2.Subscribe(SubscribeOptions{Resume: true, After: formatID(epoch, headSeq+1)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if cu := s.Catchup(); cu.Complete || cu.Reason != ReasonUnknown {
			t.Fatalf("catchup = %+v", cu)
		}
	})
}

func TestRetentionWrapsAround(t *testing.T) {
	c := newClock()
	b := openTest(t, t.TempDir(), c, func(o *Options) { o.Retention = 5 * time.Second })
	var all []string
	for range 50 {
		all = append(all, tick(t, b, c)...)
	}
	// Ticks at t-5s..t-1s are kept: everything newer than the retention.
	p, _ := b.Range("", nil, 0)
	if len(p.Events) != 5*len(testTopics) {
		t.Fatalf("kept %d events, want %d", len(p.Events), 5*len(testTopics))
	}
	if p.Oldest != all[len(all)-15] || p.Head != all[len(all)-1] {
		t.Fatalf("window %s..%s", p.Oldest, p.Head)
	}
	// The newest trimmed id resumes completely: nothing after it was lost.
	s, _ := b.Subscribe(SubscribeOptions{Resume: true, After: all[len(all)-16]})
	defer s.Close()
	if cu := s.Catchup(); !cu.Complete || cu.Count != 15 {
		t.Fatalf("catchup from the trim edge = %+v", cu)
	}
}

func TestRetentionByBytes(t *testing.T) {
	c := newClock()
	dir := t.TempDir()
	var evSize int64
	{
		b := openTest(t, t.TempDir(), c, nil)
		tick(t, b, c)
		evSize = b.Stats().Bytes / int64(len(testTopics))
	}
	// Room for about 4 ticks.
	b := openTest(t, dir, c, func(o *Options) { o.MaxBytes = evSize * int64(len(testTopics)) * 4 })
	for range 30 {
		tick(t, b, c)
	}
	st := b.Stats()
	if st.Bytes > evSize*int64(len(testTopics))*4+int64(len(testTopics))*8 || st.Events < 9 {
		t.Fatalf("kept %d events, %d bytes; budget %d", st.Events, st.Bytes, evSize*int64(len(testTopics))*4)
	}
}

func TestReplayThenLiveHasNoGapOrDuplicate(t *testing.T) {
	c := newClock()
	b := openTest(t, t.TempDir(), c, nil)
	start := tick(t, b, c)

	// Publish as fast as possible while subscribers come and go.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		data := []byte(`{"t":0}`)
		for {
			select {
			case <-stop:
				return
			default:
			}
			samples := []Sample{{"cpu", data}, {"memory", data}, {"load", data}}
			if err := b.Publish(c.now(), samples); err != nil {
				t.Error(err)
				return
			}
		}
	})

	for i := range 50 {
		s, err := b.Subscribe(SubscribeOptions{Resume: true, After: start[0]})
		if err != nil {
			t.Fatal(err)
		}
		got := replayIDs(s)
		// Read live until we've seen a good stretch past the replay.
		for deadline := time.Now().Add(2 * time.Second); len(got) < len(replayIDs(s))+300 && time.Now().Before(deadline); {
			select {
			case <-s.Ready():
				got = append(got, drain(s)...)
			case <-s.Done():
				t.Fatalf("subscriber %d dropped: %v", i, s.Err())
			}
		}
		s.Close()
		var prev uint64
		_, prev, _ = parseID(start[0])
		for _, id := range got {
			_, seq, _ := parseID(id)
			if seq != prev+1 {
				t.Fatalf("subscriber %d: after %d came %d (gap or duplicate)", i, prev, seq)
			}
			prev = seq
		}
	}
	close(stop)
	wg.Wait()
}

func TestSlowSubscriberIsDroppedOthersKeepUp(t *testing.T) {
	c := newClock()
	b := openTest(t, t.TempDir(), c, func(o *Options) { o.QueueBytes = 2 << 10 })
	slow, _ := b.Subscribe(SubscribeOptions{})
	defer slow.Close()
	fast, _ := b.Subscribe(SubscribeOptions{})
	defer fast.Close()
	var got []string
	var published []string
	for range 50 {
		published = append(published, tick(t, b, c)...)
		got = append(got, drain(fast)...) // fast reads every tick
	}
	select {
	case <-slow.Done():
		if !errors.Is(slow.Err(), ErrSlow) {
			t.Fatalf("slow ended with %v", slow.Err())
		}
	default:
		t.Fatal("slow subscriber was not dropped")
	}
	if !slices.Equal(got, published) {
		t.Fatalf("fast subscriber got %d of %d events", len(got), len(published))
	}
	if st := b.Stats(); st.Dropped != 1 || st.Subscribers != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestRestartContinuesIDs(t *testing.T) {
	c := newClock()
	dir := t.TempDir()
	b := openTest(t, dir, c, nil)
	var before []string
	for range 3 {
		before = append(before, tick(t, b, c)...)
	}
	epoch := b.Epoch()
	b.Close()

	b2 := openTest(t, dir, c, nil)
	if b2.Epoch() != epoch {
		t.Fatalf("epoch changed %s -> %s", epoch, b2.Epoch())
	}
	p, _ := b2.Range("", nil, 0)
	if len(p.Events) != len(before) || p.Head != before[len(before)-1] {
		t.Fatalf("reloaded %d events, head %s", len(p.Events), p.Head)
	}
	after := tick(t, b2, c)
	_, lastSeq, _ := parseID(before[len(before)-1])
	_, newSeq, _ := parseID(after[0])
	if newSeq <= lastSeq {
		t.Fatalf("id %s after restart does not continue above %s", after[0], before[len(before)-1])
	}
	// A client that saw the last event before the restart resumes exactly.
	s, _ := b2.Subscribe(SubscribeOptions{Resume: true, After: before[len(before)-1]})
	defer s.Close()
	if cu := s.Catchup(); !cu.Complete || !slices.Equal(replayIDs(s), after) {
		t.Fatalf("catchup = %+v replay %v", cu, replayIDs(s))
	}
	// Reloaded events carry the same bytes they were sent with.
	var wire strings.Builder
	for e := range s.Replay() {
		wire.Write(e.Wire)
	}
	if !strings.Contains(wire.String(), "id: "+after[0]+"\nevent: cpu\ndata: {") {
		t.Fatalf("wire = %q", wire.String())
	}
}

func TestRestartAfterLongDowntimeTrims(t *testing.T) {
	c := newClock()
	dir := t.TempDir()
	b := openTest(t, dir, c, nil)
	last := tick(t, b, c)
	b.Close()
	c.advance(2 * time.Hour)
	b2 := openTest(t, dir, c, nil)
	if st := b2.Stats(); st.Events != 0 {
		t.Fatalf("kept %d stale events", st.Events)
	}
	// Nothing after the client's last id was ever recorded: complete.
	s, _ := b2.Subscribe(SubscribeOptions{Resume: true, After: last[len(last)-1]})
	defer s.Close()
	if cu := s.Catchup(); !cu.Complete || cu.Count != 0 {
		t.Fatalf("catchup = %+v", cu)
	}
	s2, _ := b2.Subscribe(SubscribeOptions{Resume: true, After: last[0]})
	defer s2.Close()
	if cu := s2.Catchup(); cu.Complete || cu.Reason != ReasonExpired {
		t.Fatalf("catchup from a trimmed id = %+v", cu)
	}
}

func TestWipedDataDirNeverResumesOldIDs(t *testing.T) {
	c := newClock()
	dir := t.TempDir()
	b := openTest(t, dir, c, nil)
	old := tick(t, b, c)
	b.Close()
	if err := os.Remove(filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	b2 := openTest(t, dir, c, nil)
	tick(t, b2, c)
	s, _ := b2.Subscribe(SubscribeOptions{Resume: true, After: old[0]})
	defer s.Close()
	if cu := s.Catchup(); cu.Complete || cu.Reason != ReasonOtherStore {
		t.Fatalf("catchup = %+v", cu)
	}
}

func TestLockedFileFailsFast(t *testing.T) {
	c := newClock()
	dir := t.TempDir()
	openTest(t, dir, c, nil)
	start := time.Now()
	_, err := Open(Options{Dir: dir, Topics: testTopics, Retention: time.Hour, MaxBytes: 1 << 20, Now: c.now})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, FileName)) || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("err = %v", err)
	}
	// Functional bound, not a speed claim: the open must time out rather
	// than hang (bbolt's lock wait is 1 s).
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("open hung for %v", d)
	}
}

func TestCorruptFileIsMovedAside(t *testing.T) {
	for _, tt := range []struct {
		name    string
		corrupt func(t *testing.T, path string)
	}{
		{"garbage", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(strings.Repeat("not a bolt file ", 1000)), 0o600)
		}},
		{"bad record", func(t *testing.T, path string) {
			c := newClock()
			b := openTest(t, filepath.Dir(path), c, nil)
			tick(t, b, c)
			// Truncate one stored record through bbolt itself.
			b.store.db.Update(func(tx *boltTx) error {
				k, _ := tx.Bucket(bucketEvents).Cursor().First()
				return tx.Bucket(bucketEvents).Put(k, []byte{1, 2, 3})
			})
			b.Close()
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			tt.corrupt(t, path)
			var logs strings.Builder
			b := openTest(t, dir, newClock(), func(o *Options) { o.Logger = newTextLogger(&logs) })
			matches, _ := filepath.Glob(path + ".corrupt-*")
			if len(matches) != 1 {
				t.Fatalf("moved aside: %v", matches)
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "corrupt") {
				t.Fatalf("logs = %s", logs.String())
			}
			if st := b.Stats(); st.Events != 0 {
				t.Fatalf("fresh store has %d events", st.Events)
			}
		})
	}
}

func TestStoreFailureKeepsServingFromMemory(t *testing.T) {
	c := newClock()
	var logs strings.Builder
	b := openTest(t, t.TempDir(), c, func(o *Options) { o.Logger = newTextLogger(&logs) })
	s, _ := b.Subscribe(SubscribeOptions{})
	defer s.Close()
	// Stand-in for a full disk: the file refuses writes.
	b.store.db.Close()
	b.store.db = readOnlyDB(t, b.store.path)
	samples := []Sample{{"cpu", []byte(`{"t":1}`)}}
	for range 3 {
		if err := b.Publish(c.now(), samples); err == nil {
			t.Fatal("publish reported no store error")
		}
	}
	if n := len(s.Next(nil)); n != 3 {
		t.Fatalf("subscriber got %d events while the store failed", n)
	}
	if strings.Count(logs.String(), "history write failed") != 1 {
		t.Fatalf("want the failure logged once, logs = %s", logs.String())
	}
	if st := b.Stats(); st.WriteErrors != 3 || st.LastBackendError == nil || st.Events != 3 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestRangeAndLatest(t *testing.T) {
	c := newClock()
	b := openTest(t, t.TempDir(), c, nil)
	first := tick(t, b, c)
	second := tick(t, b, c)

	p, err := b.Range("", []string{"cpu"}, 1)
	if err != nil || len(p.Events) != 1 || p.Events[0].ID != second[0] {
		t.Fatalf("newest cpu = %+v, %v", p, err)
	}
	p, err = b.Range(first[2], nil, 2)
	if err != nil || !p.Complete || len(p.Events) != 2 || p.Events[0].ID != second[0] {
		t.Fatalf("after = %+v, %v", p, err)
	}
	if _, err := b.Range("garbage", nil, 0); !errors.Is(err, ErrBadAfter) {
		t.Fatalf("bad after: %v", err)
	}
	var payload map[string]any
	if err := json.Unmarshal(p.Events[0].Data, &payload); err != nil {
		t.Fatalf("data %q: %v", p.Events[0].Data, err)
	}
	latest := b.Latest()
	if len(latest) != 3 || latest[0].ID != second[0] || latest[2].ID != second[2] {
		t.Fatalf("latest = %v", latest)
	}
}

func TestShutdownEndsSubscriptions(t *testing.T) {
	c := newClock()
	b := openTest(t, t.TempDir(), c, nil)
	s, _ := b.Subscribe(SubscribeOptions{})
	b.Shutdown()
	select {
	case <-s.Done():
	default:
		t.Fatal("not ended")
	}
	if !errors.Is(s.Err(), ErrClosed) {
		t.Fatalf("err = %v", s.Err())
	}
	s.Close()
	if _, err := b.Subscribe(SubscribeOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("subscribe after shutdown: %v", err)
	}
	if err := b.Publish(c.now(), []Sample{{"cpu", []byte(`{}`)}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("publish after shutdown: %v", err)
	}
}

// TestRetentionSurvivesWallClockSteps steps the wall clock while events are
// published: retention evicts by real (monotonic) elapsed time, never more,
// and ids keep increasing whatever the clock does.
func TestRetentionSurvivesWallClockSteps(t *testing.T) {
	for _, step := range []time.Duration{2 * time.Hour, -30 * time.Minute} {
		t.Run(step.String(), func(t *testing.T) {
			c := newClock()
			b := openTest(t, t.TempDir(), c, func(o *Options) { o.Retention = 10 * time.Second })
			var all []string
			for range 5 {
				all = append(all, tick(t, b, c)...)
			}
			c.step(step)
			for range 3 {
				all = append(all, tick(t, b, c)...)
			}
			// 8 s of real time passed: all 8 ticks are within 10 s.
			if p, _ := b.Range("", nil, 0); len(p.Events) != 8*len(testTopics) {
				t.Fatalf("kept %d events after a %v step, want %d", len(p.Events), step, 8*len(testTopics))
			}
			for i := 1; i < len(all); i++ {
				_, prev, _ := parseID(all[i-1])
				if _, seq, ok := parseID(all[i]); !ok || seq <= prev {
					t.Fatalf("id %s after %s: ids went backwards across the step", all[i], all[i-1])
				}
			}
			// Once real time passes the retention, the pre-step ticks go.
			for range 5 {
				tick(t, b, c)
			}
			if p, _ := b.Range("", nil, 0); len(p.Events) != 10*len(testTopics) {
				t.Fatalf("kept %d events 13 s later, want the newest 10 ticks (%d)", len(p.Events), 10*len(testTopics))
			}
		})
	}
}
