package history

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// hideTopic replaces "topic":"..." in a test payload, as a redactor would
// strip a secret.
func hideTopic(data []byte) ([]byte, error) {
	return bytes.Replace(data, []byte(`"topic":"load"`), []byte(`"topic":"?"`), 1), nil
}

// A topic with a redactor carries its redacted form, with the same id,
// everywhere an event is read: live, replay, Range, Latest and after a
// reopen; other topics carry none.
func TestRedactedFormTravelsWithTheEvent(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	redact := func(o *Options) { o.Redact = map[string]func([]byte) ([]byte, error){"load": hideTopic} }
	b := openTest(t, dir, c, redact)
	sub, err := b.Subscribe(SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tick(t, b, c)
	check := func(where string, e *Event) {
		t.Helper()
		if e.Topic != "load" {
			if e.Redacted != nil || e.For(true) != e {
				t.Errorf("%s: %s has a redacted form", where, e.Topic)
			}
			return
		}
		r := e.For(true)
		if r == e || r.ID != e.ID || r.T != e.T || !strings.Contains(string(r.Data), `"topic":"?"`) ||
			!strings.Contains(string(r.Wire), `data: {"t":`) || !strings.Contains(string(e.Data), `"topic":"load"`) {
			t.Errorf("%s: load event %q, redacted %q", where, e.Wire, r.Wire)
		}
		if e.For(false) != e {
			t.Errorf("%s: an unrestricted viewer gets another event", where)
		}
	}
	for _, e := range sub.Next(nil) {
		check("live", e)
	}
	p, _ := b.Range("", nil, 10)
	for _, e := range p.Events {
		check("range", e)
	}
	for _, e := range b.Latest() {
		check("latest", e)
	}
	sub.Close()
	b.Close()

	b = openTest(t, dir, c, redact)
	sub, err = b.Subscribe(SubscribeOptions{Resume: true, After: p.Events[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for e := range sub.Replay() {
		check("replay after reopen", e)
		n++
	}
	if n != 2 {
		t.Fatalf("replayed %d events, want 2", n)
	}
}

// A payload the redactor can't read reaches restricted viewers as its time
// alone, never as it is.
func TestRedactFailureHidesThePayload(t *testing.T) {
	c := newClock()
	b := openTest(t, t.TempDir(), c, func(o *Options) {
		o.Redact = map[string]func([]byte) ([]byte, error){"cpu": func([]byte) ([]byte, error) { return nil, errors.New("unreadable") }}
	})
	tick(t, b, c)
	for _, e := range b.Latest() {
		if want := fmt.Sprintf(`{"t":%d}`, e.T); e.Topic == "cpu" && string(e.For(true).Data) != want {
			t.Fatalf("redacted = %s", e.For(true).Data)
		}
	}
}
