package redisstream

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"vitals/history"
	"vitals/hostinfo"
)

// A host that publishes fewer topics than any host may (no gpu, say) is
// served with its own list, and a topic's redactor applies to what the
// feed reads from Redis as it does in the broker.
func TestFeedTopicsAndRedaction(t *testing.T) {
	self := hostinfo.Info{Hostname: "a", Interval: time.Second, Retention: time.Hour}
	all := []string{"cpu", "memory", "load", "gpu"}
	b, _ := openTestBackend(t, Options{Host: self, Topics: []string{"cpu", "load"}, AllTopics: all,
		MaxBytes: 64 << 20, Buffer: time.Minute,
		Redact: map[string]func([]byte) ([]byte, error){"load": func(d []byte) ([]byte, error) {
			return bytes.ReplaceAll(d, []byte("secret"), []byte("x")), nil
		}}})
	if got := b.Topics(); !slices.Equal(got, all) {
		t.Fatalf("backend topics = %v, want every topic %v", got, all)
	}
	b.Publish(time.Now(), []history.Sample{{Topic: "cpu", Data: []byte(`{"t":1}`)}, {Topic: "load", Data: []byte(`{"t":1,"who":"secret"}`)}})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var src history.Source
	var err error
	for {
		if src, _, err = b.Source(ctx, "a"); err == nil && len(src.Latest()) == 2 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("host a never showed its tick: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := src.Topics(); !slices.Equal(got, []string{"cpu", "load"}) {
		t.Fatalf("host a's topics = %v, want its own [cpu load]", got)
	}
	for _, e := range src.Latest() {
		if e.Topic != "load" {
			continue
		}
		if r := e.For(true); !bytes.Contains(e.Data, []byte("secret")) || bytes.Contains(r.Data, []byte("secret")) || r.ID != e.ID {
			t.Fatalf("load %s, redacted %s", e.Data, r.Data)
		}
	}
}
