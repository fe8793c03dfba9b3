package alerts

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func ruleNames(rules []Rule) []string {
	var names []string
	for _, r := range rules {
		names = append(names, r.Name)
	}
	return names
}

func TestDefaultsFollowTheSchema(t *testing.T) {
	got := ruleNames(Defaults(MetricsSchema()))
	want := []string{"cpu-busy", "cpu-iowait", "cpu-steal", "memory-pressure", "swap-full", "load-per-cpu",
		"filesystem-full", "filesystem-filling", "sampler-stalled", "store-failing"}
	if !slices.Equal(got, want) {
		t.Fatalf("defaults = %v, want %v", got, want)
	}

	withErrors := MetricsSchema()
	withErrors["network"] = append(withErrors["network"], "interfaces.*.errors_ps")
	if !slices.Contains(ruleNames(Defaults(withErrors)), "network-errors") {
		t.Fatal("network-errors missing although the payload has error rates")
	}

	noDisk := MetricsSchema()
	delete(noDisk, "disk")
	if slices.Contains(ruleNames(Defaults(noDisk)), "filesystem-full") {
		t.Fatal("a filesystem rule on a host without a disk topic")
	}

	for _, r := range Defaults(MetricsSchema()) {
		if r.Name == "filesystem-filling" {
			if !r.Below || *r.Warn != (24*time.Hour).Seconds() || *r.Crit != (4*time.Hour).Seconds() || !r.PerItem() {
				t.Fatalf("filesystem-filling = %+v", r)
			}
		}
	}
}

func TestParseOverridesAndDisablesDefaults(t *testing.T) {
	src := `
rules:
  - name: cpu-busy
    topic: cpu
    field: total
    window: 1m
    warn: 50
  - name: swap-full
    disabled: true
  - name: core-hot
    topic: cpu
    field: cores[*]
    fn: max
    window: 30s
    crit: "99%"
    clear: 90
    for: 1m
    repeat: 1h
    labels: {team: ops}
`
	rules, err := Parse("rules.yaml", []byte(src), MetricsSchema())
	if err != nil {
		t.Fatal(err)
	}
	names := ruleNames(rules)
	if slices.Contains(names, "swap-full") || names[0] != "cpu-busy" || names[len(names)-1] != "core-hot" {
		t.Fatalf("rules = %v", names)
	}
	if *rules[0].Warn != 50 || rules[0].Clear != 50 {
		t.Fatalf("cpu-busy not replaced: %+v", rules[0])
	}
	hot := rules[len(rules)-1]
	if hot.Warn != nil || *hot.Crit != 99 || hot.Clear != 90 || hot.Repeat != time.Hour || hot.Labels["team"] != "ops" || !hot.PerItem() {
		t.Fatalf("core-hot = %+v", hot)
	}

	only, err := Parse("rules.yaml", []byte("defaults: false\n"+src), MetricsSchema())
	if err != nil {
		t.Fatal(err)
	}
	if got := ruleNames(only); !slices.Equal(got, []string{"cpu-busy", "core-hot"}) {
		t.Fatalf("defaults: false gave %v", got)
	}
}

func TestCheckFileSaysFileLineAndWhat(t *testing.T) {
	head := "rules:\n  - name: r\n    topic: cpu\n" // the rule starts on line 2
	tests := []struct {
		name, body string
		want       string // the whole message, or its start when it ends in "…"
	}{
		{"unknown topic", "rules:\n  - name: r\n    topic: gpu\n    field: x\n    warn: 1\n",
			`rules.yaml:3: rule "r": unknown topic "gpu"; valid: cpu, disk, load, memory, network, vitals`},
		{"unknown field", head + "    field: busy\n    warn: 1\n",
			`rules.yaml:4: rule "r": unknown field "busy" of topic "cpu"; valid: total, user, system, iowait, steal, idle, cores[*]`},
		{"bad window", head + "    field: total\n    window: 5 minutes\n    warn: 1\n",
			`rules.yaml:5: rule "r": "5 minutes" is not a duration such as 90s, 5m or 24h`},
		{"unknown fn", head + "    field: total\n    fn: median\n    window: 1m\n    warn: 1\n",
			`rules.yaml:5: rule "r": unknown fn "median"; valid: mean, max, min, last, eta`},
		{"clear on the wrong side", head + "    field: total\n    window: 1m\n    warn: 80\n    clear: 90\n",
			`rules.yaml:7: rule "r": clear 90 is beyond the firing threshold 80; a clear threshold sits on the calm side`},
		{"crit below warn", head + "    field: total\n    window: 1m\n    warn: 80\n    crit: 70\n",
			`rules.yaml:7: rule "r": crit 70 is less severe than warn 80`},
		{"no threshold", head + "    field: total\n    window: 1m\n",
			`rules.yaml:2: rule "r": needs warn, crit or both`},
		{"eta threshold not a time", "rules:\n  - name: r\n    topic: disk\n    field: filesystems[*].percent\n    fn: eta\n    window: 1h\n    warn: soon\n",
			`rules.yaml:7: rule "r": "soon" is not a duration such as 90s, 5m or 24h`},
		{"duplicate", head + "    field: total\n    window: 1m\n    warn: 1\n  - name: r\n    topic: cpu\n    field: idle\n    warn: 1\n",
			`rules.yaml:7: rule "r": defined twice`},
		{"misspelt key", head + "    field: total\n    treshold: 1\n",
			`rules.yaml:5: unknown field "treshold"`},
		{"not yaml", "rules:\n  - name: [\n", `rules.yaml:2: …`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rules.yaml")
			if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			err := CheckFile(path, MetricsSchema())
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.TrimPrefix(err.Error(), filepath.Dir(path)+"/")
			if prefix, ok := strings.CutSuffix(tc.want, "…"); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Fatalf("error = %q, want it to start with %q", got, prefix)
				}
			} else if got != tc.want {
				t.Fatalf("error = %q\n      want %q", got, tc.want)
			}
			if strings.Contains(got, "\n") {
				t.Fatalf("error spans lines: %q", got)
			}
		})
	}
}

// TestDocumentedExampleIsValid keeps the example file in docs/alerts.md
// in step with the parser.
func TestDocumentedExampleIsValid(t *testing.T) {
	doc, err := os.ReadFile("../docs/alerts.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml example in docs/alerts.md")
	}
	rules, err := Parse("docs/alerts.md", []byte(example), MetricsSchema())
	if err != nil {
		t.Fatal(err)
	}
	if names := ruleNames(rules); !slices.Contains(names, "core-pinned") || slices.Contains(names, "swap-full") {
		t.Fatalf("rules = %v", names)
	}
}
