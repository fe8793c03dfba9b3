package handlers

import (
	"context"
	"testing"
	"time"

	"vitals/history"
	"vitals/hostinfo"
	"vitals/internal/ssetest"
)

// TestStreamOfAnotherHostSaysWhenItGoesOfflineAndComesBack follows a host
// that is not the server's own (a --redis fleet's ?host=): when it stops
// publishing the stream says "status" live:false, a new stream is told at
// once, and its next tick is preceded by live:true.
func TestStreamOfAnotherHostSaysWhenItGoesOfflineAndComesBack(t *testing.T) {
	var f *fixture
	f = newFixture(t, func(o *Options) {
		o.Heartbeat = 300 * time.Millisecond
		// The broker's history, served as host b sampling every 100 ms:
		// b is offline 3 intervals + 2 s after its newest tick.
		o.Sources = lazySources{get: func() Sources {
			return OneHost(f.broker, hostinfo.Info{Hostname: "b", Interval: 100 * time.Millisecond}, 100*time.Millisecond)
		}}
	})
	tickNow := func() int64 {
		f.mu.Lock()
		f.now = time.Now().Truncate(time.Millisecond)
		ms := f.now.UnixMilli()
		f.mu.Unlock()
		f.tick(t, 0)
		return ms
	}
	status := func(s *ssetest.Stream, within time.Duration) hostStatus {
		t.Helper()
		ev := s.NextEventWithin(t, within)
		if ev.Event != "status" || ev.ID != "" {
			t.Fatalf("got %+v, want an id-less status event", ev)
		}
		st := decode[hostStatus](t, ev.Data)
		if st.T < st.LastSeen || st.T > time.Now().UnixMilli() {
			t.Errorf("status %+v: t is not the server's now", st)
		}
		st.T = 0
		return st
	}

	seen := tickNow()
	s := ssetest.Open(t, f.srv.URL+"/events?host=b")
	if hello := s.NextEvent(t); hello.Event != "hello" {
		t.Fatalf("first event %+v", hello)
	}
	// Generous: the rule's 2.3 s plus a busy machine.
	if st := status(s, 20*time.Second); st != (hostStatus{Host: "b", Live: false, LastSeen: seen}) {
		t.Errorf("offline status = %+v, want last seen %d", st, seen)
	}
	// While b is silent, the heartbeat is the status again: a browser
	// sees no comment and would take the quiet stream for a dead one.
	if st := status(s, ssetest.DefaultTimeout); st.Live {
		t.Errorf("heartbeat while offline = %+v", st)
	}

	// A stream opened while b is silent (a reload) is told right after
	// its catch-up.
	s2 := ssetest.Open(t, f.srv.URL+"/events?host=b&lastEventId=x")
	for ev := s2.NextEvent(t); ev.Event != "catchup-end"; ev = s2.NextEvent(t) {
		if ev.Event == "status" {
			t.Fatalf("status before the catch-up ended: %+v", ev)
		}
	}
	if st := status(s2, ssetest.DefaultTimeout); st.Live || st.LastSeen != seen {
		t.Errorf("status on a new stream = %+v", st)
	}

	back := tickNow()
	for _, s := range []*ssetest.Stream{s, s2} {
		st := status(s, ssetest.DefaultTimeout)
		for !st.Live { // heartbeats sent before the tick
			st = status(s, ssetest.DefaultTimeout)
		}
		if st != (hostStatus{Host: "b", Live: true, LastSeen: back}) {
			t.Errorf("back: status = %+v, want live at %d", st, back)
		}
		if ev := s.NextEvent(t); ev.Event != "cpu" {
			t.Errorf("after the status: %+v, want the tick", ev)
		}
	}
}

func TestStreamOfTheOwnHostHasNoStatus(t *testing.T) {
	f := newFixture(t, nil)
	f.mu.Lock()
	f.now = time.Now().Add(-time.Hour) // long silent, but it is this server's own host
	f.mu.Unlock()
	f.tick(t, 0)
	s := ssetest.Open(t, f.srv.URL+"/events?lastEventId=x")
	for ev := s.NextEvent(t); ev.Event != "catchup-end"; ev = s.NextEvent(t) {
		// the replay
	}
	f.tick(t, 0)
	if ev := s.NextEvent(t); ev.Event != "cpu" {
		t.Errorf("got %+v, want the next tick and no status", ev)
	}
}

// lazySources is a Sources built when first asked for a host, for a
// fixture whose Sources serve the fixture's own broker.
type lazySources struct{ get func() Sources }

func (l lazySources) Source(ctx context.Context, host string) (history.Source, hostinfo.Info, error) {
	return l.get().Source(ctx, host)
}
func (l lazySources) Hosts(ctx context.Context) ([]hostinfo.Status, error) { return l.get().Hosts(ctx) }
func (l lazySources) Topics() []string                                     { return testTopics } // asked before the broker exists

// announcedSource is a Source with no ticks yet whose host announced
// itself at announced, like a --redis feed of a host that just started.
type announcedSource struct {
	history.Source
	announced time.Time
}

func (announcedSource) Latest() []*history.Event { return nil }
func (a announcedSource) LastSeen() time.Time    { return a.announced }

// TestJustStartedHostIsLiveAtStreamStart: a host that has announced itself
// but whose first tick has not reached the stream yet is live, as
// /api/hosts says; one that announced long ago and never ticked is not.
func TestJustStartedHostIsLiveAtStreamStart(t *testing.T) {
	s := &server{cfg: Options{Host: hostinfo.Info{Hostname: "self"}}}
	info := hostinfo.Info{Hostname: "b", Interval: time.Second}
	now := time.Now()
	for _, tc := range []struct {
		name      string
		announced time.Time
		wantLive  bool
	}{
		{"just announced", now.Add(-time.Second), true},
		{"announced long ago", now.Add(-time.Hour), false},
		{"never seen", time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := s.newHostWatch(announcedSource{announced: tc.announced}, info)
			w.check(nil, now)
			if w.live != tc.wantLive {
				t.Errorf("live = %v, want %v", w.live, tc.wantLive)
			}
		})
	}
}
