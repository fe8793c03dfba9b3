package alerts

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// State is where a rule instance stands.
type State string

const (
	StateOK       State = "ok"
	StatePending  State = "pending"  // over a threshold, waiting out the rule's for
	StateFiring   State = "firing"   // with a Severity
	StateResolved State = "resolved" // was firing, is back under clear; behaves as ok
)

// Severity of a firing alert.
type Severity string

const (
	SevNone     Severity = ""
	SevWarning  Severity = "warning"
	SevCritical Severity = "critical"
)

// Rank orders severities: none < warning < critical.
func (s Severity) Rank() int {
	switch s {
	case SevWarning:
		return 1
	case SevCritical:
		return 2
	}
	return 0
}

// Record kinds, the "kind" of every event published under topic "alerts".
const (
	KindTransition = "transition"
	KindSilence    = "silence"
)

// Transition is one change of a rule instance, and the payload of one event
// under topic "alerts" (json.Marshal it). Replaying the published
// transitions into a new Engine restores its state.
type Transition struct {
	Kind string `json:"kind"` // KindTransition
	// ID is unique per transition and stable across replays: the outbox
	// deduplicates notifications by it.
	ID string `json:"id"`
	// Alert names the episode, from pending to resolved; every transition
	// of one episode carries the same Alert.
	Alert    string            `json:"alert"`
	Rule     string            `json:"rule"`
	Item     string            `json:"item,omitempty"` // "" for a rule that is not per item
	Host     string            `json:"host,omitempty"`
	From     State             `json:"from"`
	To       State             `json:"to"`
	Severity Severity          `json:"severity,omitempty"` // firing: now; resolved: when it last fired
	Peak     Severity          `json:"peak,omitempty"`     // the highest of the episode
	Value    Number            `json:"value"`              // the window value that decided
	Thresh   Number            `json:"threshold"`          // the threshold it crossed
	Time     time.Time         `json:"time"`
	Since    time.Time         `json:"since"` // when the episode began
	Repeat   bool              `json:"repeat,omitempty"`
	Reason   string            `json:"reason,omitempty"` // "no data", "unsilenced"
	Silenced bool              `json:"silenced,omitempty"`
	Summary  string            `json:"summary,omitempty"`
	Unit     string            `json:"unit,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
}

// Notify reports whether the transition is one people are told about:
// firing (new, changed severity or repeated) and resolved, unless silenced.
// Pending and its return to ok stay in the history only.
func (t Transition) Notify() bool {
	if t.Silenced {
		return false
	}
	return t.To == StateFiring || t.To == StateResolved
}

// Key names the rule instance: the rule, and the item when there is one.
func (t Transition) Key() string { return instanceKey(t.Rule, t.Item) }

func instanceKey(rule, item string) string {
	if item == "" {
		return rule
	}
	return rule + "/" + item
}

// Text is a one-line human summary, for notification titles and logs.
func (t Transition) Text() string {
	what := t.Summary
	if what == "" {
		what = t.Rule
	}
	if t.Item != "" {
		what += " " + t.Item
	}
	if t.Host != "" {
		what += " on " + t.Host
	}
	switch t.To {
	case StateResolved:
		return fmt.Sprintf("RESOLVED %s: %s", what, t.format(t.Value))
	case StateFiring:
		verb := ""
		if t.Repeat {
			verb = " still"
		}
		return fmt.Sprintf("%s%s %s: %s (threshold %s)", upper(t.Severity), verb, what, t.format(t.Value), t.format(t.Thresh))
	}
	return fmt.Sprintf("%s %s: %s", t.To, what, t.format(t.Value))
}

func upper(s Severity) string {
	if s == SevCritical {
		return "CRITICAL"
	}
	return "WARNING"
}

func (t Transition) format(n Number) string {
	x := float64(n)
	switch {
	case math.IsNaN(x):
		return "no data"
	case t.Unit == "eta" && math.IsInf(x, 1):
		return "not filling"
	case t.Unit == "eta":
		return "full in " + (time.Duration(x) * time.Second).Round(time.Minute).String()
	}
	return strconv.FormatFloat(x, 'g', 4, 64) + t.Unit
}

// Number is a float64 whose JSON form is null when it is not finite (an
// eta of +Inf, no data), since JSON has no such numbers; null reads as NaN.
type Number float64

func (n Number) MarshalJSON() ([]byte, error) {
	x := float64(n)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
}

func (n *Number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Number(math.NaN())
		return nil
	}
	x, err := strconv.ParseFloat(string(b), 64)
	*n = Number(x)
	return err
}

// Silence mutes notifications of a rule, or of one item of it, until a
// time. It is a record in the same log as the transitions: publish what
// Engine.Silence returns; replaying it restores it. A silence with Until at
// or before Created lifts an earlier one with the same Rule and Item.
type Silence struct {
	Kind    string    `json:"kind"` // KindSilence
	ID      string    `json:"id"`
	Rule    string    `json:"rule"`
	Item    string    `json:"item,omitempty"` // "" mutes every item of the rule
	Until   time.Time `json:"until"`
	Created time.Time `json:"created"`
	Comment string    `json:"comment,omitempty"`
}

func (s Silence) covers(rule, item string, now time.Time) bool {
	return s.Rule == rule && (s.Item == "" || s.Item == item) && now.Before(s.Until)
}

// Decode reads one record of topic "alerts": a *Transition or a *Silence.
func Decode(data []byte) (any, error) {
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("decode alert record: %w", err)
	}
	switch head.Kind {
	case KindTransition:
		var t Transition
		if err := json.Unmarshal(data, &t); err != nil {
			return nil, fmt.Errorf("decode alert transition: %w", err)
		}
		return &t, nil
	case KindSilence:
		var s Silence
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("decode alert silence: %w", err)
		}
		return &s, nil
	}
	return nil, fmt.Errorf("decode alert record: unknown kind %q", head.Kind)
}
