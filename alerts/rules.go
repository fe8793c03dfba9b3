package alerts

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Func is a window function over the raw samples of a rule instance.
type Func string

const (
	FnMean Func = "mean"
	FnMax  Func = "max"
	FnMin  Func = "min"
	FnLast Func = "last"
	// FnETA is the time in seconds until the value reaches Rule.Limit,
	// extrapolated from the least-squares slope over the window; +Inf when
	// it is not growing.
	FnETA Func = "eta"
)

var funcs = []Func{FnMean, FnMax, FnMin, FnLast, FnETA}

// Rule is one validated alert rule. Thresholds are nil when unset; at least
// one of Warn and Crit is set. Thresholds of an eta rule are in seconds.
type Rule struct {
	Name    string            `json:"name"`
	Summary string            `json:"summary,omitempty"`
	Topic   string            `json:"topic"`
	Field   string            `json:"field"`
	Per     string            `json:"per,omitempty"`   // the value is divided by this field of the same payload
	Scale   float64           `json:"scale,omitempty"` // and multiplied by this (0 means 1)
	Fn      Func              `json:"fn"`
	Window  time.Duration     `json:"window"`
	Limit   float64           `json:"limit,omitempty"` // what an eta rule grows towards
	Below   bool              `json:"below,omitempty"` // fires when the value falls under the thresholds
	Warn    *float64          `json:"warn,omitempty"`
	Crit    *float64          `json:"crit,omitempty"`
	Clear   float64           `json:"clear"`
	For     time.Duration     `json:"for"`
	Repeat  time.Duration     `json:"repeat,omitempty"`
	Unit    string            `json:"unit,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// PerItem reports whether the rule has one instance per item (filesystem,
// interface, core) rather than one for the host.
func (r Rule) PerItem() bool {
	p, err := parsePath(r.Field)
	return err == nil && p.perItem
}

// rawFile is the YAML shape. Thresholds and durations stay loose here so a
// wrong one is reported with its line by validate, in our words.
type rawFile struct {
	Defaults *bool     `yaml:"defaults"`
	Rules    []rawRule `yaml:"rules"`
}

type rawRule struct {
	Name     string            `yaml:"name"`
	Summary  string            `yaml:"summary"`
	Disabled bool              `yaml:"disabled"`
	Topic    string            `yaml:"topic"`
	Field    string            `yaml:"field"`
	Per      string            `yaml:"per"`
	Scale    *float64          `yaml:"scale"`
	Fn       string            `yaml:"fn"`
	Window   any               `yaml:"window"`
	Limit    *float64          `yaml:"limit"`
	When     string            `yaml:"when"`
	Warn     any               `yaml:"warn"`
	Crit     any               `yaml:"crit"`
	Clear    any               `yaml:"clear"`
	For      any               `yaml:"for"`
	Repeat   any               `yaml:"repeat"`
	Unit     string            `yaml:"unit"`
	Labels   map[string]string `yaml:"labels"`
}

// CheckFile validates a rules file against schema. The error is one line,
// "file:line: what is wrong", for `vitals alerts check` and start-up alike.
func CheckFile(name string, schema Schema) error {
	_, err := LoadFile(name, schema)
	return err
}

// LoadFile reads a rules file and returns the rules to run: the defaults
// for schema (unless the file says `defaults: false`), with a file rule of
// the same name replacing or disabling a default, then the file's own.
func LoadFile(name string, schema Schema) ([]Rule, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read alert rules: %w", err)
	}
	return Parse(name, data, schema)
}

// Parse is LoadFile on bytes; name is used in errors.
func Parse(name string, data []byte, schema Schema) ([]Rule, error) {
	var raw rawFile
	if err := yaml.UnmarshalWithOptions(data, &raw, yaml.DisallowUnknownField()); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			return nil, fmt.Errorf("%s:%d: %s", name, ye.GetToken().Position.Line, ye.GetMessage())
		}
		return nil, fmt.Errorf("%s:1: %v", name, err)
	}
	file, _ := parser.ParseBytes(data, 0) // it parsed above, so it parses here
	at := func(i int, key string) int { return lineOf(file, i, key) }

	var rules []Rule
	if raw.Defaults == nil || *raw.Defaults {
		rules = Defaults(schema)
	}
	seen := map[string]bool{}
	for i, rr := range raw.Rules {
		fail := func(key, format string, args ...any) error {
			return fmt.Errorf("%s:%d: rule %q: %s", name, at(i, key), rr.Name, fmt.Sprintf(format, args...))
		}
		if rr.Name == "" {
			return nil, fmt.Errorf("%s:%d: rule %d has no name", name, at(i, ""), i+1)
		}
		if seen[rr.Name] {
			return nil, fail("name", "defined twice")
		}
		seen[rr.Name] = true
		idx := slices.IndexFunc(rules, func(r Rule) bool { return r.Name == rr.Name })
		if rr.Disabled {
			if idx >= 0 {
				rules = slices.Delete(rules, idx, idx+1)
			}
			continue
		}
		r, key, err := rr.validate(schema)
		if err != nil {
			return nil, fail(key, "%v", err)
		}
		if idx >= 0 {
			rules[idx] = r
		} else {
			rules = append(rules, r)
		}
	}
	return rules, nil
}

// lineOf finds the line of rules[i].key, falling back to the rule, then 1.
func lineOf(f *ast.File, i int, key string) int {
	if f == nil {
		return 1
	}
	for _, q := range []string{fmt.Sprintf("$.rules[%d].%s", i, key), fmt.Sprintf("$.rules[%d]", i)} {
		if key == "" && strings.HasSuffix(q, ".") {
			continue
		}
		p, err := yaml.PathString(q)
		if err != nil {
			continue
		}
		if n, err := p.FilterFile(f); err == nil && n != nil && n.GetToken() != nil {
			return n.GetToken().Position.Line
		}
	}
	return 1
}

// validate turns a raw rule into a Rule; on error it names the key at fault
// so the message points at its line.
func (rr rawRule) validate(schema Schema) (Rule, string, error) {
	r := Rule{Name: rr.Name, Summary: rr.Summary, Topic: rr.Topic, Field: rr.Field, Per: rr.Per,
		Fn: Func(rr.Fn), Unit: rr.Unit, Labels: rr.Labels}
	fields, ok := schema[r.Topic]
	if !ok {
		return r, "topic", fmt.Errorf("unknown topic %q; valid: %s", r.Topic, strings.Join(schema.Topics(), ", "))
	}
	if _, err := parsePath(r.Field); err != nil {
		return r, "field", err
	}
	if !slices.Contains(fields, r.Field) {
		return r, "field", fmt.Errorf("unknown field %q of topic %q; valid: %s", r.Field, r.Topic, strings.Join(fields, ", "))
	}
	if r.Per != "" {
		if p, err := parsePath(r.Per); err != nil || p.perItem || !slices.Contains(fields, r.Per) {
			return r, "per", fmt.Errorf("per %q is not a single field of topic %q; valid: %s", r.Per, r.Topic, strings.Join(fields, ", "))
		}
	}
	if rr.Scale != nil {
		r.Scale = *rr.Scale
	}
	if r.Fn == "" {
		r.Fn = FnMean
	}
	if !slices.Contains(funcs, r.Fn) {
		return r, "fn", fmt.Errorf("unknown fn %q; valid: %s", r.Fn, joinFuncs())
	}
	var err error
	if r.Window, err = duration(rr.Window, 0); err != nil {
		return r, "window", err
	}
	if r.Window <= 0 && r.Fn != FnLast {
		return r, "window", fmt.Errorf("fn %s needs a window such as 1m", r.Fn)
	}
	r.Limit = 100
	if rr.Limit != nil {
		r.Limit = *rr.Limit
	}
	switch rr.When {
	case "", "above":
	case "below":
		r.Below = true
	default:
		return r, "when", fmt.Errorf("when %q: valid: above, below", rr.When)
	}
	if r.Fn == FnETA && rr.When == "" {
		r.Below = true // a time until full is alarming when it is short
	}
	if r.For, err = duration(rr.For, 0); err != nil {
		return r, "for", err
	}
	if r.Repeat, err = duration(rr.Repeat, 0); err != nil {
		return r, "repeat", err
	}
	// eta thresholds are times ("24h"); others are plain numbers.
	threshold := func(v any) (*float64, error) {
		if v == nil {
			return nil, nil
		}
		if r.Fn == FnETA {
			d, err := duration(v, time.Second)
			x := d.Seconds()
			return &x, err
		}
		x, err := number(v)
		return &x, err
	}
	if r.Warn, err = threshold(rr.Warn); err != nil {
		return r, "warn", err
	}
	if r.Crit, err = threshold(rr.Crit); err != nil {
		return r, "crit", err
	}
	if r.Warn == nil && r.Crit == nil {
		return r, "name", errors.New("needs warn, crit or both")
	}
	beyond := func(a, b float64) bool { return r.Below && a < b || !r.Below && a > b }
	if r.Warn != nil && r.Crit != nil && beyond(*r.Warn, *r.Crit) {
		return r, "crit", fmt.Errorf("crit %g is less severe than warn %g", *r.Crit, *r.Warn)
	}
	first := r.Warn
	if first == nil {
		first = r.Crit
	}
	r.Clear = *first
	clear, err := threshold(rr.Clear)
	if err != nil {
		return r, "clear", err
	}
	if clear != nil {
		if beyond(*clear, *first) {
			return r, "clear", fmt.Errorf("clear %g is beyond the firing threshold %g; a clear threshold sits on the calm side", *clear, *first)
		}
		r.Clear = *clear
	}
	return r, "", nil
}

func joinFuncs() string {
	s := make([]string, len(funcs))
	for i, f := range funcs {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// duration reads "5m" or a bare number of unit (0: a bare number is refused).
func duration(v any, unit time.Duration) (time.Duration, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case string:
		d, err := time.ParseDuration(x)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%q is not a duration such as 90s, 5m or 24h", x)
		}
		return d, nil
	}
	if unit != 0 {
		if f, err := number(v); err == nil && f >= 0 {
			return time.Duration(f * float64(unit)), nil
		}
	}
	return 0, fmt.Errorf("%v is not a duration such as 90s, 5m or 24h", v)
}

func number(v any) (float64, error) {
	var f float64
	switch x := v.(type) {
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint64:
		f = float64(x)
	case float64:
		f = x
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSuffix(x, "%"), 64); err != nil {
			return 0, fmt.Errorf("%q is not a number", x)
		}
	default:
		return 0, fmt.Errorf("%v is not a number", v)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%v is not a finite number", v)
	}
	return f, nil
}
