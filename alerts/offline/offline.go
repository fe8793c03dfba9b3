package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/alerts"
	"vitals/history/redisstream"
)

// Redis keys of the fleet's offline evaluation. The shared hash tag puts
// both in one cluster slot: recordScript checks the lease and writes the
// state in one step, which a Redis Cluster allows only within a slot.
const (
	LeaseKey = "vitals:{alerts}:offline:lease"
	StateKey = "vitals:{alerts}:offline:state" // field host -> its last transition (JSON)
)

// Rule is the name the transitions carry.
const Rule = "host-offline"

// Options configures a Watcher. Client, Instance and Emit are required.
type Options struct {
	Client redis.UniversalClient
	// Instance names this process in the lease; unique per process.
	Instance string
	// After is how long a host may go without a tick before it is
	// offline (default 30 s), and at least five of its own intervals, so
	// a host sampling every 10 s is not reported between two ticks.
	After time.Duration
	// Lease is how long the lease lasts unrenewed (default 5 s): the
	// longest a dead leader leaves the fleet unwatched.
	Lease time.Duration
	// Emit is given the transitions the leader decided, after they are
	// recorded in Redis: publish them and queue their notifications.
	Emit   func([]alerts.Transition)
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
}

// Watcher is one instance's part in the fleet's offline evaluation.
type Watcher struct {
	cfg         Options
	leader      atomic.Bool
	evaluations atomic.Uint64
	cancel      context.CancelFunc
	wg          sync.WaitGroup
}

// Start starts watching.
func Start(cfg Options) (*Watcher, error) {
	if cfg.Client == nil || cfg.Instance == "" || cfg.Emit == nil {
		return nil, fmt.Errorf("offline: Client, Instance and Emit are required")
	}
	if cfg.After <= 0 {
		cfg.After = 30 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := &Watcher{cfg: cfg}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.wg.Go(func() { w.run(ctx) })
	return w, nil
}

// Evaluations counts the times this instance evaluated the fleet as the
// leader: a test (or a metric) can wait for rounds without a clock.
func (w *Watcher) Evaluations() uint64 { return w.evaluations.Load() }

// Leader reports whether this instance holds the lease now.
func (w *Watcher) Leader() bool { return w.leader.Load() }

// Close stops the watcher and waits for it. The lease is left to lapse.
func (w *Watcher) Close() {
	w.cancel()
	w.wg.Wait()
}

// Release stops the watcher and gives the lease up at once, for a clean
// shutdown: another instance takes over at its next try.
func (w *Watcher) Release() {
	w.Close()
	if w.leader.Swap(false) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		releaseScript.Run(ctx, w.cfg.Client, []string{LeaseKey}, w.cfg.Instance)
	}
}

var (
	// renewScript extends the lease only for its holder.
	renewScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`)
	// releaseScript deletes the lease only for its holder.
	releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)
	// recordScript writes a host's state only while ARGV[1] holds the
	// lease: a leader that lost it (a long GC pause) can't report.
	recordScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("HSET", KEYS[2], ARGV[2], ARGV[3]) return 1 end return 0`)
)

func (w *Watcher) run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Lease / 3)
	defer t.Stop()
	for {
		w.step(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// step takes or renews the lease and, as the leader, evaluates every host.
func (w *Watcher) step(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Lease/3)
	defer cancel()
	if !w.hold(ctx) {
		return
	}
	ts, err := w.evaluate(ctx)
	w.evaluations.Add(1)
	if err != nil && ctx.Err() == nil {
		w.cfg.Logger.Warn("evaluate hosts offline", "err", err)
	}
	if len(ts) > 0 {
		w.cfg.Emit(ts)
	}
}

func (w *Watcher) hold(ctx context.Context) bool {
	c, ms := w.cfg.Client, w.cfg.Lease.Milliseconds()
	if w.leader.Load() {
		n, err := renewScript.Run(ctx, c, []string{LeaseKey}, w.cfg.Instance, ms).Int()
		if err == nil && n == 1 {
			return true
		}
		w.leader.Store(false)
		w.cfg.Logger.Info("lost the fleet's offline-evaluation lease", "err", err)
	}
	ok, err := c.SetNX(ctx, LeaseKey, w.cfg.Instance, w.cfg.Lease).Result()
	if err != nil || !ok {
		return false
	}
	w.leader.Store(true)
	w.cfg.Logger.Info("evaluating hosts offline for the fleet")
	return true
}

// evaluate compares every host's last tick with its recorded state and
// returns the transitions it recorded.
func (w *Watcher) evaluate(ctx context.Context) ([]alerts.Transition, error) {
	c := w.cfg.Client
	hosts, err := redisstream.ReadHosts(ctx, c, w.cfg.Logger)
	if err != nil {
		return nil, err
	}
	states, err := c.HGetAll(ctx, StateKey).Result()
	if err != nil {
		return nil, err
	}
	now := w.cfg.Now()
	var out []alerts.Transition
	for _, rec := range hosts {
		name := rec.Name
		if rec.LastSeen == 0 {
			continue
		}
		var last alerts.Transition
		if s, ok := states[name]; ok {
			json.Unmarshal([]byte(s), &last)
		}
		firing := last.To == alerts.StateFiring
		after := max(w.cfg.After, 5*time.Duration(rec.IntervalMS)*time.Millisecond)
		seen := time.UnixMilli(rec.LastSeen)
		silent := now.Sub(seen)
		var t alerts.Transition
		switch {
		case !firing && silent >= after:
			id := alertID(name, rec.LastSeen)
			t = alerts.Transition{Kind: alerts.KindTransition, ID: id + ".1", Alert: id, From: alerts.StateOK, To: alerts.StateFiring,
				Severity: alerts.SevCritical, Peak: alerts.SevCritical, Since: seen, Value: alerts.Number(silent.Seconds())}
		case firing && silent < after:
			t = alerts.Transition{Kind: alerts.KindTransition, ID: last.Alert + ".2", Alert: last.Alert, From: alerts.StateFiring,
				To: alerts.StateResolved, Severity: alerts.SevCritical, Peak: alerts.SevCritical, Since: last.Since, Value: alerts.Number(silent.Seconds())}
		default:
			continue
		}
		t.Rule, t.Item, t.Host, t.Time, t.Thresh, t.Unit = Rule, name, name, now, alerts.Number(after.Seconds()), "s"
		t.Summary = "host not publishing"
		data, err := json.Marshal(t)
		if err != nil {
			return out, err
		}
		n, err := recordScript.Run(ctx, c, []string{LeaseKey, StateKey}, w.cfg.Instance, name, data).Int()
		if err != nil {
			return out, err
		}
		if n != 1 {
			w.leader.Store(false)
			return out, nil // the lease is gone: the new leader decides
		}
		out = append(out, t)
	}
	return out, nil
}

// alertID names an offline episode by the host and its last tick: every
// instance that finds the host silent derives the same one.
func alertID(host string, lastSeen int64) string {
	h := fnv.New64a()
	h.Write([]byte(Rule + "/" + host + "/" + strconv.FormatInt(lastSeen, 10)))
	return "o" + strconv.FormatUint(h.Sum64(), 36)
}
