package views

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// /embed takes the chart names <vitals-chart> takes, and topics for the
// chart they feed; the process and container lists have none.
func TestResolveEmbedCharts(t *testing.T) {
	host := []string{"cpu", "memory", "load", "disk", "network", "sensors", "processes", "containers"}
	tests := []struct {
		name    string
		asked   []string
		want    []string
		wantErr string
	}{
		{name: "none: every chart of the host", want: []string{"cpu", "cores", "memory", "load", "disk", "network", "temperatures"}},
		{name: "chart names", asked: []string{"cores", "temperatures"}, want: []string{"cores", "temperatures"}},
		{name: "topics", asked: []string{"cpu", "processes", "containers", "sensors"}, want: []string{"cpu", "temperatures"}},
		{name: "a topic and its chart once", asked: []string{"sensors", "temperatures"}, want: []string{"temperatures"}},
		{name: "only lists", asked: []string{"processes", "containers"}, wantErr: "none of these topics has a chart"},
		{name: "a chart the host can't feed", asked: []string{"cpu", "gpu"}, wantErr: `unknown chart "gpu"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveEmbedCharts(tt.asked, host)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("= %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	e := NewEmbed(EmbedInput{Charts: []string{"cpu", "cores"}})
	if len(e.Charts) != 2 || e.Charts[1].Topic != "cores" {
		t.Fatalf("NewEmbed charts = %v", e.Charts)
	}
}

// The chart names are one list: the dashboard's cards (views), DEFS in
// static/charts.js (the element) and the topic row of docs/embedding.md.
func TestChartNamesAreOneList(t *testing.T) {
	var ids []string
	for _, c := range charts(time.Second) {
		ids = append(ids, c.ID)
	}
	js, err := os.ReadFile("../static/charts.js")
	if err != nil {
		t.Fatal(err)
	}
	defs := string(js[strings.Index(string(js), "export const DEFS"):])
	var inDefs []string
	for _, m := range regexp.MustCompile(`(?m)^  (?:\{ id: |  id: |rateChart\(\n    )"([a-z]+)"`).FindAllStringSubmatch(defs, -1) {
		inDefs = append(inDefs, m[1])
	}
	if !slices.Equal(ids, inDefs) {
		t.Errorf("views charts %v, DEFS %v", ids, inDefs)
	}
	md, err := os.ReadFile("../docs/embedding.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{"| `topic` |", "| `topics` |"} {
		i := strings.Index(string(md), row)
		if i < 0 {
			t.Fatalf("docs/embedding.md has no %s row", row)
		}
		line := string(md[i:])
		line = line[:strings.Index(line, "\n")]
		for _, id := range ids {
			if !strings.Contains(line, "`"+id+"`") {
				t.Errorf("docs/embedding.md %s row does not name %s", row, id)
			}
		}
	}
}
