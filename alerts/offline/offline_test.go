package offline

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/alerts"
	"vitals/history/redisstream"
	"vitals/internal/redistest"
)

// emitted collects what every instance emits, as the fleet's outboxes
// would send it.
type emitted struct {
	mu sync.Mutex
	ts []alerts.Transition
	by []string
}

func (e *emitted) emit(instance string) func([]alerts.Transition) {
	return func(ts []alerts.Transition) {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, t := range ts {
			e.ts = append(e.ts, t)
			e.by = append(e.by, instance)
		}
	}
}

func (e *emitted) snapshot() ([]alerts.Transition, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]alerts.Transition(nil), e.ts...), append([]string(nil), e.by...)
}

func announce(t *testing.T, c redis.UniversalClient, host string, seen time.Time) {
	t.Helper()
	data, _ := json.Marshal(redisstream.HostRecord{Name: host, IntervalMS: 100, LastSeen: seen.UnixMilli()})
	if err := c.Set(context.Background(), redisstream.RecordKey(host), data, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.SAdd(context.Background(), redisstream.HostsKey, host).Err(); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOneOfflineNotificationAcrossALeaderDeath: two instances watch a
// fleet on a real Redis. A host stops publishing: it is reported once. The
// leader dies: the other takes over within a lease and reports nothing
// again. The host comes back: its resolution is reported once.
func TestOneOfflineNotificationAcrossALeaderDeath(t *testing.T) {
	checkOneOfflineNotification(t, redistest.Start(t).Client(t))
}

// TestOneOfflineNotificationOnACluster: the same on a real three-master
// Redis Cluster, where the lease and the state must share a slot for the
// script that checks one and writes the other.
func TestOneOfflineNotificationOnACluster(t *testing.T) {
	checkOneOfflineNotification(t, redistest.StartCluster(t).Client(t))
}

func checkOneOfflineNotification(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	var out emitted
	const lease = 600 * time.Millisecond
	start := func(name string) *Watcher {
		w, err := Start(Options{Client: c, Instance: name, After: time.Second, Lease: lease, Emit: out.emit(name)})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	a, b := start("a"), start("b")
	defer a.Close()
	defer b.Close()
	waitFor(t, "a leader", 5*time.Second, func() bool { return a.Leader() || b.Leader() })
	if a.Leader() && b.Leader() {
		t.Fatal("two leaders")
	}

	announce(t, c, "web1", time.Now()) // then it stops
	waitFor(t, "the offline report", 5*time.Second, func() bool { ts, _ := out.snapshot(); return len(ts) == 1 })
	ts, by := out.snapshot()
	if ts[0].To != alerts.StateFiring || ts[0].Item != "web1" || ts[0].Rule != Rule {
		t.Fatalf("reported %+v", ts[0])
	}

	leader, other := a, b
	if by[0] == "b" {
		leader, other = b, a
	}
	leader.Close() // dies holding the lease
	took := time.Now()
	waitFor(t, "the other to take over", 5*lease, other.Leader)
	t.Logf("took over %v after the leader died", time.Since(took).Round(time.Millisecond))
	rounds := other.Evaluations()
	waitFor(t, "three evaluations by the new leader", 10*lease, func() bool { return other.Evaluations() >= rounds+3 })
	if ts, _ := out.snapshot(); len(ts) != 1 {
		t.Fatalf("after the take-over: %d reports, want still 1: %+v", len(ts), ts)
	}

	announce(t, c, "web1", time.Now())
	waitFor(t, "the resolution", 5*time.Second, func() bool { ts, _ := out.snapshot(); return len(ts) == 2 })
	ts, _ = out.snapshot()
	if ts[1].To != alerts.StateResolved || ts[1].Alert != ts[0].Alert {
		t.Fatalf("then %+v, want the resolution of %s", ts[1], ts[0].Alert)
	}
}
