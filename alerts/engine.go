package alerts

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Options configures an Engine.
type Options struct {
	Rules []Rule
	// Host is copied into every transition, so a fleet's notifications
	// say which machine they are about.
	Host string
}

// Engine evaluates rules against each tick's samples. See the package doc
// for its concurrency contract.
type Engine struct {
	host string

	mu       sync.Mutex // guards following fields
	rules    []*compiled
	byName   map[string]*compiled
	silences []Silence
	payloads map[string]*payload // per topic, reused every tick
	tick     uint64
}

// compiled is a rule with its paths parsed and its instances.
type compiled struct {
	Rule
	path, per path
	scale     float64
	warn      float64 // the first firing threshold (warn, else crit)
	crit      float64 // NaN when unset
	instances map[string]*instance
}

// instance is the state of one rule plus item.
type instance struct {
	item     string
	win      *window
	state    State
	sev      Severity
	peak     Severity
	alert    string
	seq      int
	since    time.Time // the episode began (pending, or firing when for is 0)
	notified time.Time // last notified transition; zero when it was silenced
	seen     bool      // got a sample this tick
}

// NewEngine compiles rules. Rules are validated already (Parse, Defaults);
// an error here means a Rule built by hand is wrong.
func NewEngine(cfg Options) (*Engine, error) {
	e := &Engine{host: cfg.Host, payloads: map[string]*payload{}}
	if err := e.setRules(cfg.Rules); err != nil {
		return nil, err
	}
	return e, nil
}

func compile(r Rule) (*compiled, error) {
	c := &compiled{Rule: r, scale: r.Scale, instances: map[string]*instance{}, crit: math.NaN()}
	var err error
	if c.path, err = parsePath(r.Field); err != nil {
		return nil, fmt.Errorf("rule %s: %w", r.Name, err)
	}
	if r.Per != "" {
		if c.per, err = parsePath(r.Per); err != nil {
			return nil, fmt.Errorf("rule %s: per: %w", r.Name, err)
		}
	}
	if c.scale == 0 {
		c.scale = 1
	}
	switch {
	case r.Warn != nil:
		c.warn = *r.Warn
	case r.Crit != nil:
		c.warn = *r.Crit
	default:
		return nil, fmt.Errorf("rule %s: needs warn or crit", r.Name)
	}
	if r.Crit != nil {
		c.crit = *r.Crit
	}
	return c, nil
}

// SetRules replaces the rules (a reload). Instances of a rule whose name is
// kept keep their state and, if the field and window are unchanged, their
// samples; instances of a removed rule are dropped without a transition.
func (e *Engine) SetRules(rules []Rule) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.setRules(rules)
}

func (e *Engine) setRules(rules []Rule) error {
	next := make([]*compiled, 0, len(rules))
	byName := make(map[string]*compiled, len(rules))
	for _, r := range rules {
		if byName[r.Name] != nil {
			return fmt.Errorf("rule %s defined twice", r.Name)
		}
		c, err := compile(r)
		if err != nil {
			return err
		}
		if old := e.byName[r.Name]; old != nil {
			c.instances = old.instances
			if old.Topic != r.Topic || old.Field != r.Field || old.Window != r.Window || old.Fn != r.Fn || old.Per != r.Per || old.Scale != r.Scale {
				for _, in := range c.instances {
					in.win = newWindow(r.Window, r.Fn)
				}
			}
		}
		next = append(next, c)
		byName[r.Name] = c
	}
	e.rules, e.byName = next, byName
	return nil
}

// Tick evaluates the rules of every topic in samples (topic -> the JSON
// payload of this tick) at now and returns the transitions, in rule order.
// A topic absent from samples leaves its rules untouched; a payload that
// does not parse is reported in the error while the other topics are still
// evaluated. Publish each
// transition under topic "alerts" in this order, then hand the ones that
// Notify to the notifier.
func (e *Engine) Tick(now time.Time, samples map[string][]byte) ([]Transition, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tick++
	var errs []error
	for topic, data := range samples {
		if !e.uses(topic) {
			continue
		}
		p := e.payloads[topic]
		if p == nil {
			p = &payload{}
			e.payloads[topic] = p
		}
		if err := p.parse(data); err != nil {
			errs = append(errs, fmt.Errorf("decode %s sample: %w", topic, err))
			continue
		}
		p.tick = e.tick
	}
	var out []Transition
	for _, r := range e.rules {
		p := e.payloads[r.Topic]
		if p == nil || p.tick != e.tick {
			continue
		}
		out = e.evalRule(r, p, now, out)
	}
	return out, errors.Join(errs...)
}

func (e *Engine) uses(topic string) bool {
	for _, r := range e.rules {
		if r.Topic == topic {
			return true
		}
	}
	return false
}

func (e *Engine) evalRule(r *compiled, p *payload, now time.Time, out []Transition) []Transition {
	divisor := 1.0
	if r.Per != "" {
		divisor = math.NaN()
		r.per.extract(p, func(_ []byte, x float64) { divisor = x })
		if divisor == 0 || math.IsNaN(divisor) {
			return out // no swap at all, say: nothing to judge
		}
	}
	r.path.extract(p, func(item []byte, x float64) {
		in := r.instances[string(item)]
		if in == nil {
			in = &instance{item: string(item), state: StateOK, win: newWindow(r.Window, r.Fn)}
			r.instances[in.item] = in
		}
		in.win.add(now, x/divisor*r.scale)
		in.seen = true
	})
	for item, in := range r.instances {
		seen := in.seen
		in.seen = false
		if in.win == nil {
			in.win = newWindow(r.Window, r.Fn)
		}
		v, ok := in.win.value(now, r.Fn, r.Limit)
		var t Transition
		var changed bool
		switch {
		case !seen && (in.win.empty() || r.Window == 0):
			// The item is gone (unmounted, unplugged) or has had no
			// value for a whole window (for fn last without a window:
			// this tick): end what it had open.
			t, changed = e.noData(r, in, now)
			if in.state == StateOK || in.state == StateResolved {
				delete(r.instances, item)
			}
		case ok:
			t, changed = e.step(r, in, v, now)
		}
		if changed {
			out = append(out, t)
		}
	}
	return out
}

// level classifies a value: the severity it is at, and whether it is on the
// calm side of clear.
func (r *compiled) level(v float64) (sev Severity, cleared bool, thresh float64) {
	beyond := func(x, th float64) bool {
		if r.Below {
			return x <= th
		}
		return x >= th
	}
	switch {
	case !math.IsNaN(r.crit) && beyond(v, r.crit):
		sev, thresh = SevCritical, r.crit
	case beyond(v, r.warn):
		sev, thresh = SevWarning, r.warn
		if r.Warn == nil {
			sev = SevCritical
		}
	}
	if r.Below {
		cleared = v > r.Clear
	} else {
		cleared = v < r.Clear
	}
	return sev, cleared, thresh
}

// step moves one instance through ok -> pending -> firing -> resolved.
func (e *Engine) step(r *compiled, in *instance, v float64, now time.Time) (Transition, bool) {
	sev, cleared, thresh := r.level(v)
	switch in.state {
	case StateOK, StateResolved:
		if sev == SevNone {
			return Transition{}, false
		}
		in.alert, in.seq, in.since, in.peak = alertID(r.Name, in.item, now), 0, now, SevNone
		if r.For > 0 {
			return e.move(r, in, StatePending, sev, v, thresh, now, ""), true
		}
		return e.move(r, in, StateFiring, sev, v, thresh, now, ""), true
	case StatePending:
		if sev == SevNone {
			// for means held without a break: below the line, start over.
			return e.move(r, in, StateOK, SevNone, v, r.warn, now, ""), true
		}
		if now.Sub(in.since) >= r.For {
			return e.move(r, in, StateFiring, sev, v, thresh, now, ""), true
		}
		return Transition{}, false
	case StateFiring:
		if cleared {
			return e.move(r, in, StateResolved, in.sev, v, r.Clear, now, ""), true
		}
		next := in.sev
		switch {
		case sev == SevCritical:
			next = SevCritical
		case in.sev == SevCritical && sev == SevNone && r.Warn != nil:
			// Critical eases to warning only below the warn line: the
			// warn threshold is critical's clear.
			next = SevWarning
		}
		if next != in.sev {
			th := r.crit
			if next == SevWarning {
				th = r.warn
			}
			return e.move(r, in, StateFiring, next, v, th, now, ""), true
		}
		if e.silenced(r.Name, in.item, now) {
			return Transition{}, false // no repeats into a silence
		}
		switch {
		case in.notified.IsZero():
			// It fired while silenced and the silence has ended.
			t := e.move(r, in, StateFiring, in.sev, v, thresh, now, "unsilenced")
			t.Repeat = true
			return t, true
		case r.Repeat > 0 && now.Sub(in.notified) >= r.Repeat:
			t := e.move(r, in, StateFiring, in.sev, v, thresh, now, "")
			t.Repeat = true
			return t, true
		}
	}
	return Transition{}, false
}

func (e *Engine) noData(r *compiled, in *instance, now time.Time) (Transition, bool) {
	switch in.state {
	case StatePending:
		return e.move(r, in, StateOK, SevNone, math.NaN(), r.warn, now, "no data"), true
	case StateFiring:
		return e.move(r, in, StateResolved, in.sev, math.NaN(), r.Clear, now, "no data"), true
	}
	return Transition{}, false
}

// move applies a transition to the instance and returns it.
func (e *Engine) move(r *compiled, in *instance, to State, sev Severity, v, thresh float64, now time.Time, reason string) Transition {
	in.seq++
	if sev.Rank() > in.peak.Rank() && to == StateFiring {
		in.peak = sev
	}
	t := Transition{
		Kind: KindTransition, ID: in.alert + "." + strconv.Itoa(in.seq), Alert: in.alert,
		Rule: r.Name, Item: in.item, Host: e.host,
		From: in.state, To: to, Severity: sev, Peak: in.peak,
		Value: Number(v), Thresh: Number(thresh), Time: now, Since: in.since,
		Reason: reason, Silenced: e.silenced(r.Name, in.item, now),
		Summary: r.Summary, Unit: r.Unit, Labels: r.Labels,
	}
	if r.Fn == FnETA {
		t.Unit = "eta"
	}
	if in.state == StateFiring && to == StateFiring && sev == in.sev {
		t.Repeat = true
	}
	e.apply(in, t)
	return t
}

// apply sets an instance's state from a transition; Replay uses it too, so
// a rebuilt engine is the one that made the transitions.
func (e *Engine) apply(in *instance, t Transition) {
	in.state, in.alert, in.since, in.peak = t.To, t.Alert, t.Since, t.Peak
	if n, err := strconv.Atoi(t.ID[len(t.Alert)+1:]); err == nil {
		in.seq = n
	}
	switch t.To {
	case StateFiring:
		in.sev = t.Severity
		if t.Silenced {
			if t.From != StateFiring {
				in.notified = time.Time{}
			}
		} else {
			in.notified = t.Time
		}
	case StatePending:
		in.sev = t.Severity
	default:
		in.sev, in.notified = SevNone, time.Time{}
	}
}

// alertID names an episode: stable for a rule, item and start time.
func alertID(rule, item string, start time.Time) string {
	h := fnv.New64a()
	h.Write([]byte(instanceKey(rule, item)))
	h.Write([]byte(strconv.FormatInt(start.UnixMilli(), 10)))
	return strconv.FormatUint(h.Sum64(), 36)
}

func (e *Engine) silenced(rule, item string, now time.Time) bool {
	for _, s := range e.silences {
		if s.covers(rule, item, now) {
			return true
		}
	}
	return false
}

// Silence mutes a rule, or one item of it, until s.Until. It fills in Kind,
// ID and Created (from now) and returns the record to publish under topic
// "alerts". An Until not after now lifts the silence on that rule and item.
func (e *Engine) Silence(s Silence, now time.Time) (Silence, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.byName[s.Rule] == nil {
		return Silence{}, fmt.Errorf("silence: unknown rule %q", s.Rule)
	}
	s.Kind, s.Created = KindSilence, now
	s.ID = "s" + alertID(s.Rule, s.Item, now)
	e.addSilence(s)
	return s, nil
}

func (e *Engine) addSilence(s Silence) {
	e.silences = slices.DeleteFunc(e.silences, func(o Silence) bool {
		return o.Rule == s.Rule && o.Item == s.Item || !o.Until.After(s.Created)
	})
	if s.Until.After(s.Created) {
		e.silences = append(e.silences, s)
	}
}

// Replay applies one published record (the data of an "alerts" event), in
// log order, to rebuild state after a restart: a firing alert stays firing
// without a new notification, a silence stays in force. Records of rules
// that no longer exist are skipped. Windows start empty; an eta rule needs
// a quarter of its window of new samples before it can resolve.
func (e *Engine) Replay(data []byte) error {
	rec, err := Decode(data)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch rec := rec.(type) {
	case *Silence:
		e.addSilence(*rec)
	case *Transition:
		r := e.byName[rec.Rule]
		if r == nil || len(rec.ID) <= len(rec.Alert) {
			return nil
		}
		in := r.instances[rec.Item]
		if in == nil {
			in = &instance{item: rec.Item, win: newWindow(r.Window, r.Fn)}
			r.instances[rec.Item] = in
		}
		e.apply(in, *rec)
		if in.state == StateOK || in.state == StateResolved {
			delete(r.instances, rec.Item)
		}
	}
	return nil
}

// Instance is the current state of one rule instance, for the API.
type Instance struct {
	Rule     string    `json:"rule"`
	Item     string    `json:"item,omitempty"`
	Alert    string    `json:"alert,omitempty"`
	State    State     `json:"state"`
	Severity Severity  `json:"severity,omitempty"`
	Since    time.Time `json:"since"`
	Silenced bool      `json:"silenced,omitempty"`
}

// Snapshot lists the instances that are pending or firing, and the
// silences in force at now.
func (e *Engine) Snapshot(now time.Time) ([]Instance, []Silence) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Instance
	for _, r := range e.rules {
		for _, in := range r.instances {
			if in.state != StatePending && in.state != StateFiring {
				continue
			}
			out = append(out, Instance{Rule: r.Name, Item: in.item, Alert: in.alert, State: in.state,
				Severity: in.sev, Since: in.since, Silenced: e.silenced(r.Name, in.item, now)})
		}
	}
	slices.SortFunc(out, func(a, b Instance) int {
		if c := b.Severity.Rank() - a.Severity.Rank(); c != 0 {
			return c
		}
		return a.Since.Compare(b.Since)
	})
	var sil []Silence
	for _, s := range e.silences {
		if now.Before(s.Until) {
			sil = append(sil, s)
		}
	}
	return out, sil
}

// Rules returns the rules in force, for the page (thresholds on charts).
func (e *Engine) Rules() []Rule {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Rule, len(e.rules))
	for i, r := range e.rules {
		out[i] = r.Rule
	}
	return out
}
