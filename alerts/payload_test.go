package alerts

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestPayloadExtract(t *testing.T) {
	doc := `{ "t": 1, "total": 12.5, "cores": [1, 2e1, null],
	  "filesystems": [{"mount": "/", "percent": 50}, {"mount": "/m\u00e9dia", "percent": -1.5E-1}, {"percent": 7}],
	  "interfaces": {"eth0": {"rx_bps": 1}, "wlan0": {"rx_bps": 2}},
	  "flag": true, "s": "a\"b" }`
	var p payload
	if err := p.parse([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	tests := map[string][]string{
		"total":                  {"=12.5"},
		"cores[*]":               {"0=1", "1=20"},
		"filesystems[*].percent": {"/=50", "/média=-0.15", "2=7"},
		"interfaces.*.rx_bps":    {"eth0=1", "wlan0=2"},
		"flag":                   nil,
		"missing.x":              nil,
		"total.x":                nil,
	}
	for field, want := range tests {
		pa, err := parsePath(field)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		pa.extract(&p, func(item []byte, x float64) {
			b, _ := json.Marshal(x)
			got = append(got, string(item)+"="+string(b))
		})
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", field, got, want)
		}
	}
}

func TestPayloadRefusesBrokenJSON(t *testing.T) {
	for _, doc := range []string{``, `{`, `{"a":}`, `{"a":1,}`, `[1 2]`, `{"a":1} x`, `{"a":"b`, `nul`, `{"a":1.2.3}`} {
		var p payload
		if err := p.parse([]byte(doc)); !errors.Is(err, errBadJSON) {
			t.Errorf("%q: err = %v", doc, err)
		}
	}
}

func TestPathSyntax(t *testing.T) {
	for _, bad := range []string{"", "a..b", "[*]", "a[*].b[*]", "a.*.*", "a[1]"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	p, err := parsePath("devices.*.read_bps")
	if err != nil || !p.perItem || len(p.segs) != 3 {
		t.Fatalf("%+v %v", p, err)
	}
	if strings.Contains(MetricsSchema().Topics()[0], " ") {
		t.Fatal("odd topic")
	}
}

// FuzzPayloadParse: never a panic, and every valid JSON document parses.
func FuzzPayloadParse(f *testing.F) {
	f.Add(`{"a":[1,{"b":"c"}],"d":null}`)
	f.Add(`[{"mount":"/x","percent":1e2}]`)
	f.Fuzz(func(t *testing.T, doc string) {
		var p payload
		err := p.parse([]byte(doc))
		if err != nil && json.Valid([]byte(doc)) {
			t.Fatalf("refused valid %q: %v", doc, err)
		}
	})
}
