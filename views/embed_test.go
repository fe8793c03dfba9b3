package views

import (
	"slices"
	"testing"
)

// Topics map to the charts that draw them; the process and container
// lists have none on /embed.
func TestNewEmbedNamesCharts(t *testing.T) {
	e := NewEmbed(EmbedInput{Topics: []string{"cpu", "processes", "containers", "sensors", "gpu"}})
	var got []string
	for _, c := range e.Charts {
		got = append(got, c.Topic)
	}
	if want := []string{"cpu", "temperatures", "gpu"}; !slices.Equal(got, want) {
		t.Fatalf("charts = %v, want %v", got, want)
	}
	if got := EmbedCharts([]string{"processes", "containers"}); len(got) != 0 {
		t.Fatalf("EmbedCharts = %v, want none", got)
	}
}
