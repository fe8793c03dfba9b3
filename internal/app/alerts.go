package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"vitals/alerts"
	"vitals/alerts/notify"
	"vitals/alerts/offline"
	"vitals/handlers"
	"vitals/history"
	"vitals/metrics"
)

// alertTopic is the history topic of alert transitions and silences.
const alertTopic = "alerts"

// outboxFile holds the notification outbox when there is no bbolt history
// to share (--redis).
const outboxFile = "alerts-outbox.db"

// replayNotifyWindow: at start-up, transitions of the last few minutes are
// handed to the outbox again. One published just before a crash, but not
// yet queued, is sent; older ones were queued long ago (the outbox keeps
// their ids for a week, so a second Enqueue is a no-op anyway), and a
// target added since should not hear of last hour's alerts.
const replayNotifyWindow = 5 * time.Minute

// alerting evaluates the rules on every tick, publishes what changes under
// topic "alerts", and hands what people must hear to the dispatcher.
//
// Retention: the history keeps --history (1 h by default), but an alert
// may fire for days, and a silence may last a week. So that a restart still
// knows them, the latest record of every open instance (pending or firing)
// and of every silence in force is published again, unchanged (same
// transition or silence id), whenever its last copy in the log is older
// than half the retention: the window therefore always holds the state,
// and replaying the window rebuilds it. Readers deduplicate by record id.
// This keeps history's one eviction rule (oldest first) for every topic
// and costs one small event per open alert per half hour.
type alerting struct {
	engine  *alerts.Engine
	disp    *notify.Dispatcher // nil without --notify
	targets []notify.Target
	file    string
	schema  alerts.Schema
	log     *slog.Logger
	refresh time.Duration
	failing func() error

	mu       sync.Mutex          // guards following fields
	pending  [][]byte            // silences and fleet transitions waiting for the next tick's publish
	external []alerts.Transition // fleet transitions to queue after that publish
	open     map[string]record   // instance or silence key -> its latest record
}

// record is the latest published form of an open instance or a silence,
// and when it was last written to the log.
type record struct {
	data    []byte
	written time.Time
	until   time.Time // silences: when it lapses
}

// alertRules loads the rules: the built-in set, merged with file.
func alertRules(file string, schema alerts.Schema) ([]alerts.Rule, error) {
	if file == "" {
		return alerts.Defaults(schema), nil
	}
	return alerts.LoadFile(file, schema)
}

// newAlerting builds the engine (rules from cfg.AlertsFile, which must be
// valid) and, with --notify, the dispatcher on db (nil: open
// alerts-outbox.db in the data dir; the returned close func closes it).
func newAlerting(cfg Config, host string, db *bbolt.DB, failing func() error, getenv func(string) string, log *slog.Logger) (*alerting, func(), error) {
	schema := alerts.MetricsSchema()
	rules, err := alertRules(cfg.AlertsFile, schema)
	if err != nil {
		return nil, nil, err // already "file:line: what"
	}
	eng, err := alerts.NewEngine(alerts.Options{Rules: rules, Host: host})
	if err != nil {
		return nil, nil, err
	}
	a := &alerting{engine: eng, file: cfg.AlertsFile, schema: schema, log: log, failing: failing,
		refresh: cfg.History / 2, open: map[string]record{}}
	closeFn := func() {}
	for _, spec := range cfg.Notify {
		t, err := notify.ParseTarget(spec, getenv)
		if err != nil {
			return nil, nil, fmt.Errorf("--notify: %v", err)
		}
		a.targets = append(a.targets, t)
	}
	if len(a.targets) == 0 {
		return a, closeFn, nil
	}
	if db == nil {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, nil, fmt.Errorf("create data dir: %w", err)
		}
		path := filepath.Join(cfg.DataDir, outboxFile)
		db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
		if err != nil {
			return nil, nil, fmt.Errorf("open notification outbox %s: %w", path, err)
		}
		closeFn = func() { db.Close() }
	}
	a.disp, err = notify.New(notify.Options{DB: db, Targets: a.targets, Logger: log.With("part", "notify")})
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	inner := closeFn
	return a, sync.OnceFunc(func() { a.disp.Close(); inner() }), nil
}

// replay rebuilds the engine from the log of topic "alerts" in src, and
// queues the notifications of the last minutes again.
func (a *alerting) replay(src history.Source, now time.Time) error {
	page, err := src.Range("", []string{alertTopic}, 0)
	if err != nil {
		return fmt.Errorf("read alert history: %w", err)
	}
	var recent []alerts.Transition
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range page.Events {
		if err := a.engine.Replay(e.Data); err != nil {
			a.log.Warn("skip unreadable alert record", "id", e.ID, "err", err)
			continue
		}
		rec, _ := alerts.Decode(e.Data)
		a.remember(rec, e.Data, time.UnixMilli(e.T))
		if t, ok := rec.(*alerts.Transition); ok && now.Sub(t.Time) < replayNotifyWindow {
			recent = append(recent, *t)
		}
	}
	if a.disp != nil && len(recent) > 0 {
		return a.disp.Enqueue(recent...)
	}
	return nil
}

// remember keeps the latest record of each open instance and silence, for
// the refresh that keeps them inside the retained window. a.mu is held.
func (a *alerting) remember(rec any, data []byte, written time.Time) {
	switch r := rec.(type) {
	case *alerts.Transition:
		key := "t/" + r.Key()
		if r.To == alerts.StatePending || r.To == alerts.StateFiring {
			a.open[key] = record{data: data, written: written}
		} else {
			delete(a.open, key)
		}
	case *alerts.Silence:
		key := "s/" + r.Rule + "/" + r.Item
		if r.Until.After(r.Created) {
			a.open[key] = record{data: data, written: written, until: r.Until}
		} else {
			delete(a.open, key)
		}
	}
}

// tick evaluates one tick's readings plus the vitals topic, and returns
// the "alerts" samples to publish with the tick and the transitions to
// enqueue once they are published.
func (a *alerting) tick(t time.Time, readings []metrics.Reading, samplerAge time.Duration) ([]history.Sample, []alerts.Transition) {
	in := make(map[string][]byte, len(readings)+1)
	for _, r := range readings {
		in[r.Topic] = r.Data
	}
	in[alerts.SelfTopic] = a.selfSample(samplerAge)
	ts, err := a.engine.Tick(t, in)
	if err != nil {
		a.log.Debug("alert rules: a sample did not parse", "err", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []history.Sample
	for _, tr := range ts {
		data, err := json.Marshal(tr)
		if err != nil {
			a.log.Error("encode alert transition", "rule", tr.Rule, "err", err)
			continue
		}
		out = append(out, history.Sample{Topic: alertTopic, Data: data})
		a.remember(&tr, data, t)
	}
	for _, data := range a.pending {
		out = append(out, history.Sample{Topic: alertTopic, Data: data})
	}
	a.pending = a.pending[:0]
	ts = append(ts, a.external...)
	a.external = a.external[:0]
	for key, r := range a.open {
		switch {
		case !r.until.IsZero() && !t.Before(r.until):
			delete(a.open, key) // a silence that lapsed needs no copy
		case t.Sub(r.written) >= a.refresh:
			out = append(out, history.Sample{Topic: alertTopic, Data: r.data})
			r.written = t
			a.open[key] = r
		}
	}
	return out, ts
}

// selfSample is the payload of the vitals topic.
func (a *alerting) selfSample(samplerAge time.Duration) []byte {
	failing := 0
	if a.failing() != nil {
		failing = 1
	}
	b := append([]byte(`{"sampler_age":`), strconv.FormatFloat(samplerAge.Seconds(), 'f', 3, 64)...)
	return append(strconv.AppendInt(append(b, `,"store_failing":`...), int64(failing), 10), '}')
}

// published is told that the samples of tick went into the log: the
// transitions that people should hear about go to the outbox.
func (a *alerting) published(ts []alerts.Transition) {
	if a.disp == nil || len(ts) == 0 {
		return
	}
	if err := a.disp.Enqueue(ts...); err != nil {
		a.log.Error("queue alert notifications", "err", err)
	}
}

// reload reads the rules file again; a bad file keeps the rules in force.
func (a *alerting) reload() {
	if a.file == "" {
		return
	}
	rules, err := alertRules(a.file, a.schema)
	if err == nil {
		err = a.engine.SetRules(rules)
	}
	if err != nil {
		a.log.Error("alert rules not reloaded; keeping the rules in force", "err", err)
		return
	}
	a.log.Info("alert rules reloaded", "file", a.file, "rules", len(rules))
}

// Current is GET /api/alerts: what fires, waits or is muted now, the rules
// with their thresholds (for the charts), and the targets, redacted.
func (a *alerting) Current(now time.Time) any {
	insts, silences := a.engine.Snapshot(now)
	type ruleView struct {
		Name    string `json:"name"`
		Summary string `json:"summary,omitempty"`
		Topic   string `json:"topic"`
		Field   string `json:"field"`
		// Per, Scale and Limit say the value is not the field as drawn (a
		// ratio, a prediction): the page draws no line for such a rule.
		Per     string   `json:"per,omitempty"`
		Scale   float64  `json:"scale,omitempty"`
		Limit   float64  `json:"limit,omitempty"`
		Fn      string   `json:"fn"`
		WindowS float64  `json:"window_s"`
		Warn    *float64 `json:"warn,omitempty"`
		Crit    *float64 `json:"crit,omitempty"`
		Clear   float64  `json:"clear"`
		Below   bool     `json:"below,omitempty"`
		ForS    float64  `json:"for_s"`
		Unit    string   `json:"unit,omitempty"`
		PerItem bool     `json:"per_item,omitempty"`
	}
	type targetView struct {
		Name string          `json:"name"`
		Min  alerts.Severity `json:"min"`
	}
	state := struct {
		Firing   []alerts.Instance `json:"firing"`
		Pending  []alerts.Instance `json:"pending"`
		Silences []alerts.Silence  `json:"silences"`
		Rules    []ruleView        `json:"rules"`
		Targets  []targetView      `json:"targets"`
		Waiting  map[string]int    `json:"waiting,omitempty"`
	}{Firing: []alerts.Instance{}, Pending: []alerts.Instance{}, Silences: silences, Rules: []ruleView{}, Targets: []targetView{}}
	if state.Silences == nil {
		state.Silences = []alerts.Silence{}
	}
	for _, in := range insts {
		if in.State == alerts.StateFiring {
			state.Firing = append(state.Firing, in)
		} else {
			state.Pending = append(state.Pending, in)
		}
	}
	for _, r := range a.engine.Rules() {
		state.Rules = append(state.Rules, ruleView{Name: r.Name, Summary: r.Summary, Topic: r.Topic, Field: r.Field,
			Per: r.Per, Scale: r.Scale, Limit: r.Limit, Fn: string(r.Fn), WindowS: r.Window.Seconds(), Warn: r.Warn, Crit: r.Crit, Clear: r.Clear, Below: r.Below,
			ForS: r.For.Seconds(), Unit: r.Unit, PerItem: r.PerItem()})
	}
	for _, t := range a.targets {
		state.Targets = append(state.Targets, targetView{Name: t.Name, Min: t.MinSeverity})
	}
	if a.disp != nil {
		state.Waiting, _ = a.disp.Waiting()
	}
	return state
}

// Silence is POST /api/alerts/silences: the engine applies it at once, and
// its record goes into the log with the next tick (one writer for the
// log's ticks, so a Redis stream's ids stay in order).
func (a *alerting) Silence(s alerts.Silence, now time.Time) (alerts.Silence, error) {
	s, err := a.engine.Silence(s, now)
	if err != nil {
		return s, err
	}
	data, err := json.Marshal(s)
	if err != nil {
		return s, err
	}
	a.mu.Lock()
	a.pending = append(a.pending, data)
	a.remember(&s, data, now)
	a.mu.Unlock()
	return s, nil
}

// emitExternal takes transitions decided elsewhere (the fleet's offline
// evaluation): they go into this host's log with the next tick and are
// queued for notification after it, like the engine's own.
func (a *alerting) emitExternal(ts []alerts.Transition) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range ts {
		data, err := json.Marshal(t)
		if err != nil {
			continue
		}
		a.pending = append(a.pending, data)
		a.external = append(a.external, t)
		a.remember(&t, data, t.Time)
	}
}

// SendTest is POST /api/alerts/test: one message to every target, now.
func (a *alerting) SendTest(ctx context.Context) []handlers.TestResult {
	out := make([]handlers.TestResult, 0, len(a.targets))
	for _, t := range a.targets {
		r := handlers.TestResult{Target: t.Name, OK: true}
		if err := notify.Test(ctx, t, time.Now()); err != nil {
			r.OK, r.Error = false, err.Error()
		}
		out = append(out, r)
	}
	return out
}

// watchFleetOffline starts, with --redis, this instance's part in the
// fleet's host-offline evaluation (alerts/offline): the leader's
// transitions go into this host's log. The returned stop gives the lease
// up; it is safe to call twice.
func watchFleetOffline(events backend, instance string, a *alerting, log *slog.Logger) func() {
	rb, ok := events.(*redisBackend)
	if !ok {
		return func() {}
	}
	w, err := offline.Start(offline.Options{Client: rb.Client(), Instance: instance, Emit: a.emitExternal,
		Logger: log.With("part", "fleet-offline")})
	if err != nil {
		log.Error("fleet offline alerts not started", "err", err)
		return func() {}
	}
	return sync.OnceFunc(w.Release)
}
