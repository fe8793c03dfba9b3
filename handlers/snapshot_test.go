package handlers

import (
	"strings"
	"testing"
	"time"

	"vitals/history"
)

// The snapshot is every topic's value now; the minute rollups are opt-in
// and no such value, so it leaves them out.
func TestSnapshotLeavesOptInTopicsOut(t *testing.T) {
	b, err := history.Open(history.Options{Dir: t.TempDir(), Topics: []string{"cpu", "rollup"}, OptIn: []string{"rollup"},
		Retention: time.Hour, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	now := time.Now()
	if err := b.Publish(now, []history.Sample{{Topic: "cpu", Data: []byte(`{"total":1}`)},
		{Topic: "rollup", Data: []byte(`{"t":0,"step":60000,"points":{}}`)}}); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(o *Options) {
		o.Sources = OneHost(b, o.Host, o.Interval)
		o.OptIn = []string{"rollup"}
	})
	code, body := getJSON(t, f.srv.URL+"/api/snapshot")
	if code != 200 || !strings.Contains(body, `"cpu"`) || strings.Contains(body, `"rollup"`) {
		t.Fatalf("snapshot %d %s", code, body)
	}
}
