package alerts

import (
	_ "embed"
	"fmt"

	"github.com/goccy/go-yaml"
)

//go:embed defaults.yaml
var defaultsYAML []byte

// Defaults returns the built-in rules that apply to schema: a rule on a
// topic or field this host does not publish (no swap, no error counters)
// is left out rather than refused. The reasoning for every threshold is in
// defaults.yaml, next to the numbers.
func Defaults(schema Schema) []Rule {
	rules, err := parseDefaults(schema)
	if err != nil {
		// defaults.yaml is compiled in and checked by the tests.
		panic(err)
	}
	return rules
}

func parseDefaults(schema Schema) ([]Rule, error) {
	var raw rawFile
	if err := yaml.UnmarshalWithOptions(defaultsYAML, &raw, yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("built-in rules: %w", err)
	}
	var rules []Rule
	for _, rr := range raw.Rules {
		if !schema.Has(rr.Topic, rr.Field) || rr.Per != "" && !schema.Has(rr.Topic, rr.Per) {
			continue
		}
		r, key, err := rr.validate(schema)
		if err != nil {
			return nil, fmt.Errorf("built-in rule %s: %s: %w", rr.Name, key, err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}
