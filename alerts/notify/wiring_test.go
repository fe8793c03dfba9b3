package notify

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"vitals/alerts"
)

// TestEngineToTargetAcrossARestart wires the parts as the app will: the
// Engine's transitions are published to a log (a slice here, the history
// there) and enqueued; after a restart the Engine is rebuilt from the log
// and the replayed transitions are enqueued again. The target hears of the
// firing once and of the resolution once.
func TestEngineToTargetAcrossARestart(t *testing.T) {
	rcv := newReceiver(t)
	path := filepath.Join(t.TempDir(), "history.db")
	rule := alerts.Rule{Name: "busy", Topic: "cpu", Field: "total", Fn: alerts.FnLast, Warn: new(85.0), Clear: 75}
	var log [][]byte // the published "alerts" events
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	start := func() (*alerts.Engine, *Dispatcher, func()) {
		eng, err := alerts.NewEngine(alerts.Options{Rules: []alerts.Rule{rule}, Host: "h1"})
		if err != nil {
			t.Fatal(err)
		}
		var replayed []alerts.Transition
		for _, data := range log {
			if err := eng.Replay(data); err != nil {
				t.Fatal(err)
			}
			if rec, _ := alerts.Decode(data); rec != nil {
				if tr, ok := rec.(*alerts.Transition); ok {
					replayed = append(replayed, *tr)
				}
			}
		}
		db := openDB(t, path)
		d, err := New(fastConfig(db, mustTarget(t, rcv.URL)))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Enqueue(replayed...); err != nil {
			t.Fatal(err)
		}
		return eng, d, func() { d.Close(); db.Close() }
	}
	tick := func(eng *alerts.Engine, d *Dispatcher, total float64) {
		ts, err := eng.Tick(now, map[string][]byte{"cpu": []byte(fmt.Sprintf(`{"total":%g}`, total))})
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
		for _, tr := range ts {
			data, err := json.Marshal(tr)
			if err != nil {
				t.Fatal(err)
			}
			log = append(log, data)
		}
		if err := d.Enqueue(ts...); err != nil {
			t.Fatal(err)
		}
	}

	eng, d, stop := start()
	tick(eng, d, 90)
	eventually(t, "the firing", func() bool { return len(rcv.deliveries()) == 1 })
	stop()

	eng, d, stop = start()
	tick(eng, d, 95) // still firing: nothing new
	tick(eng, d, 50)
	eventually(t, "the resolution", func() bool { return len(rcv.deliveries()) == 2 })
	stop()

	for id, n := range rcv.deliveries() {
		if n != 1 {
			t.Fatalf("%s delivered %d times", id, n)
		}
	}
	if len(log) != 2 {
		t.Fatalf("%d transitions published, want firing and resolved", len(log))
	}
}
